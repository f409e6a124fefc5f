"""The optional Prometheus endpoint of ``liqmap run`` (``LIQMAP_METRICS_PORT``).

Nothing is counted for it: at each scrape a collector reads the service's own state on its
event loop (the outbox by state, the exchanges' request counters, fair-use refusals, the
recorder's coverage, map compute times) and the process's, and turns it into metrics. The only
module that imports ``prometheus_client``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from jobs.on_demand.maps import MapService
from jobs.scheduled.delivery import Delivery
from jobs.scheduled.recorder import RecorderStatus
from liqmap.engine.realized import covered_share
from liqmap.exchanges.market_data import MarketData
from liqmap.market.timeframes import DAY_MS
from liqmap.policies.fair_use import FairUse
from storage.metrics import OutboxFigures, outbox_figures, watched_spans
from storage.outbox import EXPIRED, FAILED, PENDING, SENDING, SENT, UNCONFIRMED
from storage.stores import Stores

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_S = 5.0
"""A scrape waits this long for the event loop; a loop that hangs fails the scrape."""
OUTBOX_STATES = (PENDING, SENDING, SENT, FAILED, EXPIRED, UNCONFIRMED)


@dataclass(frozen=True)
class Sources:
    """The running service's parts the metrics are read from."""

    stores: Stores
    market: MarketData
    maps: MapService
    fair_use: FairUse
    delivery: Delivery
    recorder: Mapping[str, RecorderStatus]
    clock: Callable[[], int]


@dataclass(frozen=True)
class Figures:
    """One scrape's reading, taken on the event loop."""

    now_ms: int
    outbox: OutboxFigures
    unrecorded: int
    sent_again: int
    requests: dict[str, int]
    errors: dict[str, int]
    rate_limited: dict[str, int]
    weight: dict[tuple[str, str], int]
    """Request weight spent by exchange and urgency (``MarketData.weight_spent``)."""
    refused: int
    coverage: dict[str, float]
    connected: dict[str, bool]
    maps_computed: int
    map_seconds: float


async def read_figures(sources: Sources) -> Figures:
    stores, now = sources.stores, sources.clock()
    outbox = await stores.run(outbox_figures, stores.db, now)
    spans = await stores.run(watched_spans, stores.db, now - DAY_MS)
    coverage = {
        exchange: sum(covered_share(ranges, now - DAY_MS, now) for ranges in each) / len(each)
        for exchange, each in spans.items()
    }
    return Figures(
        now_ms=now,
        outbox=outbox,
        unrecorded=sources.delivery.unrecorded,
        sent_again=sources.delivery.sent_again,
        requests=dict(sources.market.requests),
        errors=dict(sources.market.errors),
        rate_limited=dict(sources.market.rate_limited),
        weight={
            (exchange, urgency.name.lower()): spent
            for (exchange, urgency), spent in sources.market.weight_spent.items()
        },
        refused=sources.fair_use.refused,
        coverage=coverage,
        connected={venue: status.connected for venue, status in sources.recorder.items()},
        maps_computed=sources.maps.computed,
        map_seconds=sources.maps.compute_seconds,
    )


def metrics_of(figures: Figures) -> Iterator[Metric]:
    """The metrics of one reading (names and meanings: docs/deployment.md)."""
    alerts = GaugeMetricFamily(
        "liqmap_alerts",
        "Outbox rows by state: pending (queued), sending, sent, failed, expired, unconfirmed "
        "(may not have arrived; finished ones are pruned after a week)",
        labels=["state"],
    )
    for state in OUTBOX_STATES:
        alerts.add_metric([state], figures.outbox.by_state.get(state, 0))
    yield alerts
    yield CounterMetricFamily(
        "liqmap_alerts_sent_again",
        "Alerts sent again though the chat may have had them (an answer lost, a send cut off "
        "by a stop): possible duplicates since the start",
        value=figures.sent_again,
    )
    yield GaugeMetricFamily(
        "liqmap_alerts_unrecorded",
        "Alerts Telegram took that are not yet marked sent: a restart would send them twice",
        value=figures.unrecorded,
    )
    oldest = figures.outbox.oldest_due_ms
    lag = 0.0 if oldest is None else max(0, figures.now_ms - oldest) / 1000
    yield GaugeMetricFamily(
        "liqmap_delivery_lag_seconds",
        "How long the oldest alert due for delivery has waited since it was queued (0: none)",
        value=lag,
    )
    requests = CounterMetricFamily(
        "liqmap_exchange_requests", "Exchange API calls, retries included", labels=["exchange"]
    )
    errors = CounterMetricFamily(
        "liqmap_exchange_errors", "Exchange API calls that failed", labels=["exchange"]
    )
    for exchange in sorted(figures.requests.keys() | figures.errors.keys()):
        requests.add_metric([exchange], figures.requests.get(exchange, 0))
        errors.add_metric([exchange], figures.errors.get(exchange, 0))
    yield requests
    yield errors
    limited = CounterMetricFamily(
        "liqmap_exchange_rate_limited",
        "Exchange API calls refused for the rate (HTTP 429 and the like)",
        labels=["exchange"],
    )
    for exchange in sorted(figures.requests):
        limited.add_metric([exchange], figures.rate_limited.get(exchange, 0))
    yield limited
    weight = CounterMetricFamily(
        "liqmap_exchange_weight",
        "Request weight spent at each exchange by urgency (price, refresh, on_demand, scan), "
        "retries included: Hyperliquid's documented weights, 1 a call elsewhere",
        labels=["exchange", "urgency"],
    )
    for (exchange, urgency), spent in sorted(figures.weight.items()):
        weight.add_metric([exchange, urgency], spent)
    yield weight
    yield CounterMetricFamily(
        "liqmap_maps_refused",
        "New maps asked for in chat and refused by fair use (LIQMAP_MAPS_PER_MINUTE, "
        "LIQMAP_MAPS_PER_MINUTE_TOTAL)",
        value=figures.refused,
    )
    coverage = GaugeMetricFamily(
        "liqmap_recorder_coverage_ratio",
        "Share of the last 24 h the liquidation recorder watched, mean over instruments",
        labels=["exchange"],
    )
    for exchange, share in sorted(figures.coverage.items()):
        coverage.add_metric([exchange], share)
    yield coverage
    connected = GaugeMetricFamily(
        "liqmap_recorder_connected",
        "1 while the recorder's stream to the exchange is connected and subscribed",
        labels=["exchange"],
    )
    for exchange, up in sorted(figures.connected.items()):
        connected.add_metric([exchange], int(up))
    yield connected
    yield SummaryMetricFamily(
        "liqmap_map_build_seconds",
        "Maps computed (fetch, build, store) and the seconds they took",
        count_value=figures.maps_computed,
        sum_value=figures.map_seconds,
    )


class _ServiceCollector(Collector):
    """Reads the figures on the service's event loop at each scrape (from the server's
    thread)."""

    def __init__(self, sources: Sources, loop: asyncio.AbstractEventLoop) -> None:
        self._sources = sources
        self._loop = loop

    def collect(self) -> Iterator[Metric]:
        reading = asyncio.run_coroutine_threadsafe(read_figures(self._sources), self._loop)
        yield from metrics_of(reading.result(SCRAPE_TIMEOUT_S))


@contextlib.asynccontextmanager
async def serving_metrics(host: str, port: int, sources: Sources) -> AsyncIterator[None]:
    """The endpoint on ``host:port`` (``/metrics``) while the block runs."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    registry.register(_ServiceCollector(sources, asyncio.get_running_loop()))
    server, thread = start_http_server(port, host, registry)
    log.info("metrics at http://%s:%d/metrics", host or "0.0.0.0", port)
    try:
        yield
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        await asyncio.to_thread(thread.join)
