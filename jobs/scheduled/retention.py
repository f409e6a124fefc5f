"""Retention: prune cached market data, old maps, finished alerts and old recorded liquidations
so the database stays bounded.

``prune_storage`` is synchronous, like every store call: run it in the database thread, e.g.
once a day. The stores hold the SQL; this job decides how long each kind of row is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from liqmap.market.timeframes import DAY_MS, DEFAULT_STEP, STEPS, WINDOWS
from liqmap.market.venues import RECORDED_OI_STEP
from storage.market_cache import CANDLES, OPEN_INTEREST
from storage.stores import Stores

log = logging.getLogger(__name__)

MARGIN_MS = DAY_MS
"""Kept beyond the longest window a step serves, so a window never starts in a pruned part."""
SNAPSHOT_AGE_MS = 7 * DAY_MS
"""Maps older than this go (the refresh job keeps its instruments' maps fresh)."""
OUTBOX_AGE_MS = 7 * DAY_MS
"""Sent, failed and expired alerts older than this go."""
REALIZED_AGE_MS = max(WINDOWS.values()) + MARGIN_MS
"""Recorded liquidations (and the time watched) older than this go: live accuracy scores the
longest window (``liqmap.evaluation.live_accuracy.HISTORY``), so they are kept that long and a day.
Settled sweep receipts are kept as long: ``/accuracy`` gives their hit rate over that window."""


DIGEST_AGE_MS = 7 * DAY_MS
"""A digest's mark only guards its own local day; a week covers every time zone."""


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def horizons(margin_ms: int = MARGIN_MS) -> dict[str, dict[str, int]]:
    """How far back the cache keeps each series at each step, in ms.

    Candles at a window's default step (``DEFAULT_STEP``) are kept for the longest window
    built at that step; other steps (asked for with ``--step``) for the longest window. Open
    interest at a step serves maps built from candles that fine or finer (a 30d map at 15m
    candles reads 15m or 1h OI, never 5m), so it is kept for the longest of those windows.
    OI snapshots recorded here (``RECORDED_OI_STEP``) cannot be fetched again and serve any
    window: they are kept for the longest. Each plus ``margin_ms``.
    """
    longest = max(WINDOWS.values())
    served: dict[str, int] = {}
    for window, step in DEFAULT_STEP.items():
        served[step] = max(served.get(step, 0), WINDOWS[window])
    oi_served = {
        step: max((WINDOWS[w] for w, s in DEFAULT_STEP.items() if STEPS[s] <= STEPS[step]),
                  default=longest)
        for step in STEPS
    }  # fmt: skip
    return {
        CANDLES: {step: served.get(step, longest) + margin_ms for step in STEPS},
        OPEN_INTEREST: {step: oi_served[step] + margin_ms for step in STEPS}
        | {RECORDED_OI_STEP: longest + margin_ms},
    }


@dataclass(frozen=True)
class RetentionReport:
    """Rows deleted per table by one ``prune_storage``."""

    candles: int
    open_interest: int
    snapshots: int
    outbox: int
    alert_state: int
    realized: int
    sweeps: int
    digests: int
    webhook_deliveries: int = 0


def prune_storage(
    stores: Stores,
    now_ms: int,
    snapshot_age_ms: int = SNAPSHOT_AGE_MS,
    outbox_age_ms: int = OUTBOX_AGE_MS,
) -> RetentionReport:
    """Delete what no map, alert or chat needs any more; log and return the counts.

    Cached rows past their horizon (``horizons``) with their coverage; maps beyond the latest
    three per instrument and window, and maps older than ``snapshot_age_ms``, unless a pending
    alert needs them; finished alerts (and webhook deliveries) older than ``outbox_age_ms``;
    detector states of subscriptions that are gone; recorded liquidations and settled sweeps
    older than ``REALIZED_AGE_MS``; marks of digests sent more than ``DIGEST_AGE_MS`` ago. Each
    table is pruned in its own transaction.
    """
    cache, snapshots = stores.cache, stores.snapshots
    by_series = horizons()
    report = RetentionReport(
        candles=cache.prune(CANDLES, now_ms, by_series[CANDLES]),
        open_interest=cache.prune(OPEN_INTEREST, now_ms, by_series[OPEN_INTEREST]),
        snapshots=snapshots.prune() + snapshots.prune_before(now_ms - snapshot_age_ms),
        outbox=stores.outbox.prune(now_ms - outbox_age_ms),
        alert_state=stores.alerts.forget_unsubscribed(),
        realized=stores.realized.prune(now_ms - REALIZED_AGE_MS),
        sweeps=stores.sweeps.prune(now_ms - REALIZED_AGE_MS),
        digests=stores.digests.prune(_day(now_ms - DIGEST_AGE_MS)),
        webhook_deliveries=stores.webhooks.prune(now_ms - outbox_age_ms),
    )
    log.info(
        "retention pruned %d candles, %d open-interest rows, %d maps, %d outbox rows, "
        "%d alert states, %d recorded liquidations, %d sweep receipts, %d digest marks, "
        "%d webhook deliveries",
        report.candles, report.open_interest, report.snapshots, report.outbox, report.alert_state,
        report.realized, report.sweeps, report.digests, report.webhook_deliveries,
    )  # fmt: skip
    return report
