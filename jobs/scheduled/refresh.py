"""Refresh the map of every subscribed instrument, then run the building detector on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from jobs.market_sync import record_open_interest
from jobs.on_demand.maps import MapService
from jobs.scheduled.alert_timing import ALERT_TTL_MS, MIN_STALE_MS
from jobs.scheduled.chat_guard import ChatGuard
from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.market.venues import VENUES
from liqmap.signals.growing_clusters import REFRESHES, check_building
from liqmap.signals.proximity import ALERT_WINDOW, Subject
from storage.growing_clusters import Built
from storage.snapshots import StoredMap
from storage.stores import Stores

log = logging.getLogger(__name__)

SPREAD_SHARE = 0.8
"""A refresh pass spreads its instruments over this share of the interval."""


@dataclass(frozen=True)
class Refreshed:
    """One refresh pass: the maps computed and the building alerts queued."""

    computed: int
    queued: int


class Refresh:
    """One pass over the watched instruments, spread over the refresh interval; in the
    building detector, one chat's bad row skips that chat alone (``guard``)."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        maps: MapService,
        clock: Callable[[], int],
        refresh_ms: int,
        guard: ChatGuard,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.market = market
        self.stores = stores
        self.maps = maps
        self.clock = clock
        self.refresh_ms = refresh_ms
        self.guard = guard
        self.sleep = sleep

    async def run(self) -> Refreshed:
        """Recompute every subscribed instrument's map (one failing does not stop the
        others), check the building detector on each, then prune old snapshots."""
        keys = await self.stores.run(self.stores.chats.watched_instruments)
        await self._record_open_interest(keys)
        started, computed, queued = self.clock(), 0, 0
        for index, key in enumerate(keys):
            wait_ms = started + self.refresh_ms * SPREAD_SHARE * index / len(keys) - self.clock()
            if wait_ms > 0:
                await self.sleep(wait_ms / 1000)
            try:
                inst = await self.market.instrument(key)
                stored = await self.maps.compute(inst, ALERT_WINDOW)
                computed += 1
                queued += await self._building(stored)
            except LiqmapError as exc:
                log.warning("refresh of %s failed: %s", key, exc)
            except Exception:
                log.exception("refresh of %s failed unexpectedly", key)
        pruned = await self.stores.run(self.stores.snapshots.prune)
        log.info("refreshed %d/%d maps, pruned %d old snapshots", computed, len(keys), pruned)
        return Refreshed(computed, queued)

    async def _record_open_interest(self, keys: list[str]) -> None:
        """Record the current OI of the watched instruments of venues that publish no OI
        history (``Venue.oi_recorded``): their maps are built from these snapshots."""
        recorded = [k for k in keys if (v := VENUES.get(k.partition(":")[0])) and v.oi_recorded]
        if not recorded:
            return
        try:
            instruments = [await self.market.instrument(key) for key in recorded]
            stored = await record_open_interest(self.market, self.stores, instruments)
            log.info("recorded the open interest of %d instruments", stored)
        except LiqmapError as exc:
            log.warning("open interest not recorded this refresh: %s", exc)

    async def _building(self, stored: StoredMap) -> int:
        """The building detector on the latest maps, for the chats that opted in; its alerts
        are queued with its memory."""
        stores, key = self.stores, stored.instrument
        watches = await stores.run(stores.building.watches, key)
        if not watches:
            return 0
        frames = await stores.run(stores.snapshots.frames, key, ALERT_WINDOW, REFRESHES + 1)
        span = (REFRESHES + 1) * max(self.refresh_ms, MIN_STALE_MS)
        frames = [f for f in frames if stored.computed_at - f.computed_at <= span]
        subject = Subject(key, stored.snapshot.label, stored.snapshot.source, ALERT_WINDOW)
        now, checks = self.clock(), []
        for chat, subscription in await stores.run(stores.chats.subscribers, key):
            if chat.id not in watches:
                continue
            with self.guard.step(log, chat.id):
                self.guard.zone(chat)
                watch, alerts = check_building(watches[chat.id], frames, now, chat.settings,
                                               subject)  # fmt: skip
                checks.append(Built(chat.id, watch, [] if subscription.muted(now) else alerts))
        return await stores.run(stores.building.record, key, checks, stored.id, ALERT_TTL_MS)
