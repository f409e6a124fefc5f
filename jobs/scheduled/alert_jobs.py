"""The jobs of ``liqmap run`` as one: refresh maps, watch prices, settle sweep receipts, queue
digests, deliver alerts, prune the database, scan real positions.

Each job lives in its own module; this composition gives each run its urgency at the
exchanges and Telegram, wakes delivery as soon as a run queued something, and can stop
whatever is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from jobs.on_demand.maps import MapService
from jobs.scheduled.chat_guard import ChatGuard
from jobs.scheduled.delivery import Delivery, DeliveryReport
from jobs.scheduled.digests import Digests
from jobs.scheduled.receipts import Receipts
from jobs.scheduled.refresh import Refresh
from jobs.scheduled.retention import RetentionReport, prune_storage
from jobs.scheduled.scanner import PassReport, Scanner
from jobs.scheduled.watch import PriceWatch
from jobs.scheduled.webhooks import WebhookDeliveries, WebhookReport
from liqmap.exchanges.market_data import MarketData
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from storage.stores import Stores

log = logging.getLogger(__name__)


class AlertJobs:
    """Refresh, watch, settle, digest, deliver and prune, each safe to run on a schedule and
    to cancel."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        maps: MapService,
        delivery: Delivery,
        clock: Callable[[], int],
        refresh_seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        scanner: Scanner | None = None,
        webhooks: WebhookDeliveries | None = None,
    ) -> None:
        refresh_ms = int(refresh_seconds * 1000)
        self.market = market
        self.stores = stores
        self.clock = clock
        guard = ChatGuard()  # what was logged of each chat's bad row, so it is not every round
        self.map_refresh = Refresh(market, stores, maps, clock, refresh_ms, guard, sleep)
        self.price_watch = PriceWatch(market, stores, clock, refresh_ms, guard)
        self.receipts = Receipts(market, stores, clock, guard)
        self.digests = Digests(stores, clock, guard)
        self.delivery = delivery
        self.scanner = scanner
        self.webhooks = webhooks
        self.wake_delivery: Callable[[], None] = lambda: None
        self._running: set[asyncio.Task[object]] = set()

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """How the refresh pauses between instruments (a test may replace it)."""
        return self.map_refresh.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.map_refresh.sleep = sleep

    async def refresh(self) -> int:
        """Recompute the map of every subscribed instrument, spread over the interval; how
        many were computed."""
        CLAIM.set(Claim(Urgency.REFRESH, "refresh"))
        with self._tracked():
            refreshed = await self.map_refresh.run()
            self._wake_if(refreshed.queued)
            return refreshed.computed

    async def watch(self) -> int:
        """Check current prices against the stored clusters; how many alerts were queued."""
        CLAIM.set(Claim(Urgency.PRICE, "watch"))
        with self._tracked():
            return self._wake_if(await self.price_watch.run())

    async def scan(self) -> PassReport | None:
        """One pass of the scanner of real positions, behind every other call at the
        exchange; None when there is no scanner or nothing to scan."""
        if self.scanner is None:
            return None
        with self._tracked():
            return await self.scanner.run()

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

    async def post_webhooks(self) -> WebhookReport | None:
        """Hand new alerts and receipts to the chats' webhooks and post what is due, in a lane
        of its own (None without webhooks)."""
        if self.webhooks is None:
            return None
        CLAIM.set(Claim(Urgency.PRICE, "alerts"))  # a pause notice goes ahead of answers
        with self._tracked():
            report = await self.webhooks.run()
            if report.sent or report.retried or report.failed:
                log.info(
                    "webhooks: %d posted (%d to retry, %d failed, %d paused)",
                    report.sent, report.retried, report.failed, report.paused,
                )  # fmt: skip
            return report

    async def settle(self) -> int:
        """Queue the receipts of sweeps that have settled; how many."""
        with self._tracked():
            return self._wake_if(await self.receipts.run())

    async def digest(self) -> int:
        """Queue the daily digests whose local time has come (once per chat and day)."""
        with self._tracked():
            return self._wake_if(await self.digests.run())

    async def prune(self) -> RetentionReport:
        """Keep the database bounded: old cache rows, maps and finished alerts go."""
        with self._tracked():
            return await self.stores.run(prune_storage, self.stores, self.clock())

    async def stop(self, grace_s: float = 0.0) -> None:
        """Let the running jobs finish for up to ``grace_s``, cancel what still runs, and wait
        until it has let go; then write what delivery could not write yet."""
        tasks = [task for task in self._running if not task.done()]
        if tasks and grace_s > 0:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.delivery.close()

    def _wake_if(self, queued: int) -> int:
        """Wake delivery when a run queued something; the count, passed through."""
        if queued:
            self.wake_delivery()
        return queued

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            yield
        finally:
            self._running.discard(task)
