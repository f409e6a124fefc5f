"""What every handler can reach: settings, exchanges, maps, chats (the transport-neutral core)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database
from telegram.ext import ContextTypes

from jobs.maps import MapService
from liqmap.config import Settings
from liqmap.market_data import MarketData
from storage.chats import ChatStore
from storage.market_cache import MarketCache
from storage.outbox import Outbox
from storage.snapshots import SnapshotStore


@dataclass
class BotServices:
    """The core the Telegram adapter drives; kept in ``application.bot_data``."""

    settings: Settings
    market: MarketData
    maps: MapService
    chats: ChatStore
    snapshots: SnapshotStore
    pending_alerts: Callable[[], int]
    clock: Callable[[], int]
    started_at_ms: int


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return context.bot_data["services"]


def open_services(
    settings: Settings, market: MarketData, db: Database, clock: Callable[[], int]
) -> BotServices:
    """Wire the stores of one database and the exchanges into the bot's core."""
    snapshots = SnapshotStore(db)
    maps = MapService(
        market, MarketCache(db), snapshots, int(settings.refresh_seconds * 1000), clock
    )
    return BotServices(
        settings=settings,
        market=market,
        maps=maps,
        chats=ChatStore(db, clock),
        snapshots=snapshots,
        pending_alerts=Outbox(db).pending,
        clock=clock,
        started_at_ms=clock(),
    )
