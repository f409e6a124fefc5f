"""What every handler can reach: settings, exchanges, the on-demand services (maps, heatmaps,
accuracy, whales), the map budgets, the stores and the clock (the transport-neutral core)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.reports import ReportThrottle
from jobs.on_demand.accuracy import AccuracyService
from jobs.on_demand.budgets import MapBudgets
from jobs.on_demand.heatmaps import HeatmapService
from jobs.on_demand.maps import MapService
from jobs.on_demand.memo import Shared
from jobs.on_demand.whales import WhaleService
from jobs.scheduled.discovery import DiscoveryStatus
from jobs.scheduled.recorder import RecorderStatus
from liqmap.config import Settings
from liqmap.exchanges.market_data import MarketData
from liqmap.policies.fair_use import FairUse
from liqmap.policies.group_budget import GroupBudget
from liqmap.webhooks.posting import WebhookPoster
from storage.stores import Stores

INLINE_QUERIES_PER_MINUTE = 60
"""A user's inline queries answered a minute: Telegram's apps send one as the user types, so a
minute of typing stays well within it, and a client sending more than anyone types gets empty
answers for the rest of the minute."""
INLINE_QUERIES_PER_MINUTE_TOTAL = 6_000
"""Everyone's inline queries answered a minute, 100 a second: each answer of a stored map is a
few database reads, and a map to make is charged to the map budgets besides."""


@dataclass
class BotDeps:
    """The core the Telegram adapter drives; handlers reach it as ``context.deps``
    (``bot.context``)."""

    settings: Settings
    market: MarketData
    maps: MapService
    heatmaps: HeatmapService
    accuracy: AccuracyService
    stores: Stores
    clock: Callable[[], int]
    started_at_ms: int
    budgets: MapBudgets
    reports: ReportThrottle
    whales: WhaleService
    recorder: Mapping[str, RecorderStatus] = field(default_factory=dict)
    """The liquidation recorder's live state per exchange, where ``liqmap run`` records."""
    discovery: DiscoveryStatus | None = None
    """Where the discovery of Hyperliquid accounts stands, where ``liqmap run`` discovers."""
    group_budget: GroupBudget = field(default_factory=GroupBudget)
    """Each group's minute of messages: answers to commands within their share, alerts the
    rest (``bot.access`` and ``bot.rate_limit``)."""
    inline_pace: FairUse = field(
        default_factory=lambda: FairUse(INLINE_QUERIES_PER_MINUTE, INLINE_QUERIES_PER_MINUTE_TOTAL)
    )
    """Inline queries answered a minute, each user's and everyone's (``bot.handlers.inline``)."""
    inline_uploads: Shared[int, str | None] = field(default_factory=Shared)
    """Charts being uploaded for inline sharing, by map id: users asking for the same new map
    at once share one upload (``bot.handlers.inline``)."""
    webhook_poster: WebhookPoster | None = None
    """How ``/webhook add`` resolves and vets a host (None: the system resolver under the
    settings' rules)."""


def open_deps(
    settings: Settings,
    market: MarketData,
    stores: Stores,
    clock: Callable[[], int],
    recorder: Mapping[str, RecorderStatus] | None = None,
    discovery: DiscoveryStatus | None = None,
) -> BotDeps:
    """Wire the stores of one database and the exchanges into the bot's core."""
    fresh_ms = int(settings.refresh_seconds * 1000)
    return BotDeps(
        settings=settings,
        market=market,
        maps=MapService(market, stores, fresh_ms, clock),
        heatmaps=HeatmapService(market, stores, fresh_ms, clock),
        accuracy=AccuracyService(market, stores, fresh_ms, clock),
        stores=stores,
        clock=clock,
        started_at_ms=clock(),
        budgets=MapBudgets(
            FairUse(settings.maps_per_minute, settings.maps_per_minute_total), stores, clock
        ),
        reports=ReportThrottle(),
        whales=WhaleService(market, stores, clock),
        recorder=recorder or {},
        discovery=discovery,
    )
