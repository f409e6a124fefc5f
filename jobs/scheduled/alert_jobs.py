"""The jobs of ``liqmap run``: refresh maps, watch prices, settle sweep receipts, deliver
alerts, prune the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from jobs.on_demand.maps import MapService
from jobs.on_demand.realized_view import realized_view
from jobs.scheduled.delivery import Delivery, DeliveryReport
from jobs.scheduled.digests import Digests
from jobs.scheduled.retention import RetentionReport, prune_storage
from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData, Price
from liqmap.market.instruments import Instrument
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from liqmap.signals.growing_clusters import REFRESHES, check_building
from liqmap.signals.price_check import PriceCheck, vet
from liqmap.signals.proximity import ALERT_WINDOW, Subject, Watch, check, in_quiet_hours
from liqmap.signals.receipts import Receipt, Sweep, receipt_for
from storage.alerts import Checked
from storage.growing_clusters import Built
from storage.snapshots import StoredMap
from storage.stores import Stores

log = logging.getLogger(__name__)

ALERT_TTL_MS = 15 * 60_000
"""An alert not delivered within this time (an outage) is dropped, not sent late."""
STALE_AFTER_REFRESHES = 3
MIN_STALE_MS = 2 * 60_000
SPREAD_SHARE = 0.8
"""A refresh pass spreads its instruments over this share of the interval."""


class AlertJobs:
    """Refresh, watch and deliver, each safe to run on a schedule and to cancel."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        maps: MapService,
        delivery: Delivery,
        clock: Callable[[], int],
        refresh_seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.market = market
        self.stores = stores
        self.maps = maps
        self.delivery = delivery
        self.digests = Digests(stores, clock)
        self.clock = clock
        self.refresh_ms = int(refresh_seconds * 1000)
        self.sleep = sleep
        self.wake_delivery: Callable[[], None] = lambda: None
        self._running: set[asyncio.Task] = set()
        self._price_checks: dict[str, PriceCheck] = {}

    async def refresh(self) -> int:
        """Recompute the map of every subscribed instrument, spread over the interval."""
        CLAIM.set(Claim(Urgency.REFRESH, "refresh"))
        with self._tracked():
            keys = await self.stores.run(self.stores.chats.watched_instruments)
            started, computed, queued = self.clock(), 0, 0
            for index, key in enumerate(keys):
                wait_ms = (
                    started + self.refresh_ms * SPREAD_SHARE * index / len(keys) - self.clock()
                )
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
            if queued:
                self.wake_delivery()
            return computed

    async def watch(self) -> int:
        """Check current prices against the stored clusters; queue the alerts.

        Prices come per exchange, so one exchange failing leaves the others watched.
        """
        CLAIM.set(Claim(Urgency.PRICE, "watch"))
        with self._tracked():
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
            if queued:
                self.wake_delivery()
            return queued

    async def deliver(self) -> DeliveryReport:
        CLAIM.set(Claim(Urgency.PRICE, "alerts"))  # ahead of answers to chats at Telegram
        with self._tracked():
            report = await self.delivery.run()
            if report.sent or report.retried or report.failed or report.expired:
                log.info(
                    "delivered %d alerts (%d to retry, %d failed, %d expired)",
                    report.sent, report.retried, report.failed, report.expired,
                )  # fmt: skip
            return report

    async def settle(self) -> int:
        """Make the receipts of sweeps that have settled and queue them (once each; at most
        one per chat and instrument within the chat's cooldown, silent in its quiet hours).
        A sweep whose instrument cannot be looked up now waits for the next pass."""
        with self._tracked():
            run, queued = self.stores.run, 0
            for sweep_id, sweep in await run(self.stores.sweeps.due, self.clock()):
                try:
                    inst = await self.market.instrument(sweep.instrument)
                except LiqmapError as exc:
                    log.warning("receipt of %s waits: %s", sweep.instrument, exc)
                    continue
                view = await realized_view(self.stores, inst, sweep.start_ms, sweep.due_ms)
                receipt = (
                    receipt_for(sweep, view.rows, view.covered, view.venues, view.sampled)
                    if view is not None
                    else Receipt(0.0, 0.0, 1.0, 0.0, _venues(inst), ())
                )
                queue, silent = await self._may_tell(sweep)
                now = self.clock()
                if await run(self.stores.sweeps.settle, sweep_id, sweep, receipt, queue, silent,
                             now, ALERT_TTL_MS) and queue:  # fmt: skip
                    queued += 1
            if queued:
                self.wake_delivery()
            return queued

    async def digest(self) -> int:
        """Queue the daily digests whose local time has come (once per chat and day)."""
        with self._tracked():
            queued = await self.digests.run()
            if queued:
                self.wake_delivery()
            return queued

    async def prune(self) -> RetentionReport:
        """Keep the database bounded: old cache rows, maps and finished alerts go."""
        with self._tracked():
            return await self.stores.run(prune_storage, self.stores, self.clock())

    async def stop(self) -> None:
        """Cancel whatever job is running and wait until it has let go."""
        tasks = [task for task in self._running if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
        checks = []
        for chat, subscription in await stores.run(stores.chats.subscribers, inst.key):
            watch, alerts = check(
                watches.get(chat.id, Watch()),
                snapshot.clusters,
                price,
                now,
                subscription.distance(chat.settings),
                chat.settings,
                subject,
            )
            if subscription.muted(now):
                alerts = []  # muted: the detector moves on, its alerts are dropped
            checks.append(Checked(chat.id, watch, alerts))
        return await stores.run(stores.alerts.record, inst.key, checks, stored.id, ALERT_TTL_MS)

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
            if chat.id in watches:
                watch, alerts = check_building(watches[chat.id], frames, now, chat.settings,
                                               subject)  # fmt: skip
                checks.append(Built(chat.id, watch, [] if subscription.muted(now) else alerts))
        return await stores.run(stores.building.record, key, checks, stored.id, ALERT_TTL_MS)

    async def _watched(self) -> list[Instrument]:
        instruments = []
        for key in await self.stores.run(self.stores.chats.watched_instruments):
            try:
                instruments.append(await self.market.instrument(key))
            except LiqmapError as exc:
                log.warning("cannot watch %s: %s", key, exc)
        return instruments

    async def _may_tell(self, sweep: Sweep) -> tuple[bool, bool]:
        """Whether the chat may get this receipt now, and whether silently."""
        chat = await self.stores.run(self.stores.chats.get, sweep.chat_id)
        if chat is None:
            return False, False
        now = self.clock()
        last = await self.stores.run(
            self.stores.sweeps.last_receipt_at, sweep.chat_id, sweep.instrument
        )
        cooling = last is not None and now - last < chat.settings.cooldown_minutes * 60_000
        return not cooling, in_quiet_hours(chat.settings, now)

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            yield
        finally:
            self._running.discard(task)


def _venues(inst: Instrument) -> tuple[str, ...]:
    return tuple(m.exchange for m in inst.members) if inst.is_aggregate else (inst.exchange,)
