"""Watch prices against the stored maps: vet each price, run the proximity detector, queue
its alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from jobs.on_demand.real_layer import PositionsCache, positions_public
from jobs.scheduled.alert_timing import ALERT_TTL_MS, MIN_STALE_MS
from jobs.scheduled.chat_guard import ChatGuard
from liqmap.engine.clusters import Cluster
from liqmap.engine.real_layer import RealLevel, bin_real, positions_in, real_clusters
from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData, Price
from liqmap.market.instruments import Instrument
from liqmap.signals.price_check import PriceCheck, vet
from liqmap.signals.proximity import ALERT_WINDOW, REAL, Subject, Watch, check
from storage.alerts import Checked
from storage.chats import Chat, Subscription
from storage.snapshots import StoredMap
from storage.stores import Stores

log = logging.getLogger(__name__)

STALE_AFTER_REFRESHES = 3
"""A map older than this many refresh intervals raises no alerts until it is refreshed."""


class PriceWatch:
    """One pass over the watched instruments' current prices; remembers each instrument's
    price check between passes; one chat's bad row skips that chat alone (``guard``)."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        clock: Callable[[], int],
        refresh_ms: int,
        guard: ChatGuard,
    ) -> None:
        self.market = market
        self.stores = stores
        self.clock = clock
        self.refresh_ms = refresh_ms
        self.guard = guard
        self._price_checks: dict[str, PriceCheck] = {}
        self._positions = PositionsCache()

    async def run(self) -> int:
        """Check current prices against the stored clusters; queue the alerts; how many.

        Prices come per exchange, so one exchange failing leaves the others watched.
        """
        by_exchange: dict[str, list[Instrument]] = {}
        for inst in await self._watched():
            by_exchange.setdefault(inst.exchange, []).append(inst)
        queued = 0
        for exchange, instruments in by_exchange.items():
            try:
                prices = await self.market.prices(instruments)
            except LiqmapError as exc:
                log.warning("no %s prices this round: %s", exchange, exc)
                continue
            for inst in instruments:
                price = prices.get(inst.key)
                if price is not None:
                    queued += await self._check(inst, price)
        return queued

    async def _check(self, inst: Instrument, tick: Price) -> int:
        stores = self.stores
        stored = await stores.run(stores.snapshots.latest, inst.key, ALERT_WINDOW)
        now = self.clock()
        if stored is None:
            return 0
        if now - stored.computed_at > max(STALE_AFTER_REFRESHES * self.refresh_ms, MIN_STALE_MS):
            log.info("map of %s is stale; no alerts until it is refreshed", inst.key)
            return 0
        snapshot = stored.snapshot
        state = self._price_checks.get(inst.key, PriceCheck())
        self._price_checks[inst.key], price = vet(state, tick.value, snapshot.price, tick.other)
        if price is None:
            log.warning(
                "%s %s price %g is far from %g (other source: %s); held until confirmed",
                inst.key, tick.kind, tick.value, state.believed or snapshot.price, tick.other,
            )  # fmt: skip
            return 0
        subject = Subject(inst.key, snapshot.label, snapshot.source, ALERT_WINDOW)
        watches = await stores.run(stores.alerts.watches, inst.key)
        subscribers = await stores.run(stores.chats.subscribers, inst.key)
        checks = self._checks(subscribers, watches, snapshot.clusters, price, now, subject)
        queued = await stores.run(stores.alerts.record, inst.key, checks, stored.id, ALERT_TTL_MS)
        if positions_public(inst):
            queued += await self._check_real(inst, stored, price, now)
        return queued

    async def _check_real(self, inst: Instrument, stored: StoredMap, price: float, now: int) -> int:
        """The same detector on the real layer (the stored positions on the map's bins), for
        the chats that opted in, with a memory of its own: a real cluster and an estimated one
        at the same price are two alerts, each once. Positions the latest scan pass did not
        read again are left out: they may be closed, and an alert speaks of now."""
        stores = self.stores
        watches = await stores.run(stores.real_alerts.watches, inst.key)
        if not watches:
            return 0
        held = await self._positions.get(stores, inst, now)
        if held is None:
            return 0
        snapshot = stored.snapshot
        fresh = [level for level in held.levels if not level.stale]  # an alert is about now
        clusters = await asyncio.to_thread(_real_clusters, snapshot.liq_map.edges, fresh, price,
                                           now)  # fmt: skip
        subject = Subject(inst.key, snapshot.label, snapshot.source, ALERT_WINDOW, REAL,
                          held.coverage)  # fmt: skip
        subscribers = [
            (chat, subscription)
            for chat, subscription in await stores.run(stores.chats.subscribers, inst.key)
            if chat.id in watches
        ]
        checks = [
            replace(checked, alerts=[
                replace(a, positions=positions_in(fresh, a.side, a.low, a.high))
                for a in checked.alerts
            ])
            for checked in self._checks(subscribers, watches, clusters, price, now, subject)
        ]  # fmt: skip
        return await stores.run(stores.real_alerts.record, inst.key, checks, stored.id,
                                ALERT_TTL_MS)  # fmt: skip

    def _checks(
        self,
        subscribers: list[tuple[Chat, Subscription]],
        watches: Mapping[int, Watch],
        clusters: list[Cluster],
        price: float,
        now: int,
        subject: Subject,
    ) -> list[Checked]:
        """Each subscriber's detector run on ``clusters``, from its memory in ``watches`` (a
        fresh one where it has none); a muted subscription's alerts dropped."""
        checks = []
        for chat, subscription in subscribers:
            with self.guard.step(log, chat.id):
                self.guard.zone(chat)
                watch, alerts = check(
                    watches.get(chat.id, Watch()),
                    clusters,
                    price,
                    now,
                    subscription.distance(chat.settings),
                    chat.settings,
                    subject,
                )
                if subscription.muted(now):
                    alerts = []  # muted: the detector moves on, its alerts are dropped
                checks.append(Checked(chat.id, watch, alerts))
        return checks

    async def _watched(self) -> list[Instrument]:
        instruments = []
        for key in await self.stores.run(self.stores.chats.watched_instruments):
            try:
                instruments.append(await self.market.instrument(key))
            except LiqmapError as exc:
                log.warning("cannot watch %s: %s", key, exc)
        return instruments


def _real_clusters(
    edges: np.ndarray, levels: list[RealLevel], price: float, now: int
) -> list[Cluster]:
    """The bands of ``levels`` on ``edges`` at ``price`` (in a worker thread: thousands of
    positions are arrays to build)."""
    return real_clusters(bin_real(edges, levels, None), price, now)
