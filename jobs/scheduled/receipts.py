"""Settle sweep receipts: how much of a swept cluster was really liquidated, once it is due."""

from __future__ import annotations

import logging
from collections.abc import Callable

from jobs.on_demand.realized_view import realized_view
from jobs.scheduled.alert_timing import ALERT_TTL_MS
from jobs.scheduled.chat_guard import ChatGuard
from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.market.instruments import Instrument
from liqmap.signals.proximity import in_quiet_hours
from liqmap.signals.receipts import Receipt, Sweep, receipt_for
from storage.stores import Stores

log = logging.getLogger(__name__)


class Receipts:
    """One pass over the sweeps whose receipt is due; one chat's bad row skips that chat's
    receipts alone (``guard``)."""

    def __init__(
        self, market: MarketData, stores: Stores, clock: Callable[[], int], guard: ChatGuard
    ) -> None:
        self.market = market
        self.stores = stores
        self.clock = clock
        self.guard = guard

    async def run(self) -> int:
        """Make the receipts of sweeps that have settled and queue them (once each; at most
        one per chat and instrument within the chat's cooldown, silent in its quiet hours);
        how many were queued. A sweep whose instrument cannot be looked up now waits for the
        next pass."""
        run, queued = self.stores.run, 0
        for sweep_id, sweep in await run(self.stores.sweeps.due, self.clock()):
            try:
                inst = await self.market.instrument(sweep.instrument)
            except LiqmapError as exc:
                log.warning("receipt of %s waits: %s", sweep.instrument, exc)
                continue
            view = await realized_view(self.stores, self.market, inst, sweep.start_ms, sweep.due_ms)
            receipt = (
                receipt_for(sweep, view.rows, view.covered, view.venues, view.sampled)
                if view is not None
                else Receipt(0.0, 0.0, 1.0, 0.0, _venues(inst), ())
            )
            with self.guard.step(log, sweep.chat_id):
                queue, silent = await self._may_tell(sweep)
                now = self.clock()
                if await run(self.stores.sweeps.settle, sweep_id, sweep, receipt, queue, silent,
                             now, ALERT_TTL_MS) and queue:  # fmt: skip
                    queued += 1
        return queued

    async def _may_tell(self, sweep: Sweep) -> tuple[bool, bool]:
        """Whether the chat may get this receipt now, and whether silently."""
        chat = await self.stores.run(self.stores.chats.get, sweep.chat_id)
        if chat is None:
            return False, False
        self.guard.zone(chat)
        now = self.clock()
        last = await self.stores.run(
            self.stores.sweeps.last_receipt_at, sweep.chat_id, sweep.instrument
        )
        cooling = last is not None and now - last < chat.settings.cooldown_minutes * 60_000
        return not cooling, in_quiet_hours(chat.settings, now)


def _venues(inst: Instrument) -> tuple[str, ...]:
    return tuple(m.exchange for m in inst.members) if inst.is_aggregate else (inst.exchange,)
