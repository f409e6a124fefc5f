"""Who goes first to an exchange: price checks, then refreshes, then maps asked for in chat.

Each exchange lets a few calls run at once; the rest wait their turn. A waiting call of a
more urgent kind always goes first; among on-demand calls, the owners (chats) take turns,
one call each, so one chat's burst never queues another chat behind all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum


class Urgency(IntEnum):
    """Lower goes first."""

    PRICE = 0
    """The alert job's price checks."""
    REFRESH = 1
    """Refreshes of subscribed instruments."""
    ON_DEMAND = 2
    """Maps a user asked for."""


@dataclass(frozen=True)
class Claim:
    """Who a call is for: its urgency and its owner (``chat:123``), who take turns."""

    urgency: Urgency
    owner: str


ANYONE = Claim(Urgency.ON_DEMAND, "anyone")
CLAIM: ContextVar[Claim | None] = ContextVar("claim", default=None)
"""The claim of the task running now: set by the jobs and the bot, read by the adapter."""


class RequestGate:
    """At most ``slots`` calls in flight; waiting ones by urgency, owners in turn."""

    def __init__(self, slots: int = 3) -> None:
        self._free = slots
        self._waiting: dict[Urgency, OrderedDict[str, deque[asyncio.Future[None]]]] = {
            urgency: OrderedDict() for urgency in Urgency
        }

    @contextlib.asynccontextmanager
    async def slot(self, claim: Claim | None = None) -> AsyncIterator[None]:
        """Hold one slot for the duration of a call (the current task's claim by default)."""
        await self._acquire(claim or CLAIM.get() or ANYONE)
        try:
            yield
        finally:
            self._release()

    @property
    def waiting(self) -> int:
        return sum(len(q) for owners in self._waiting.values() for q in owners.values())

    async def _acquire(self, claim: Claim) -> None:
        if self._free > 0 and self.waiting == 0:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        owners = self._waiting[claim.urgency]
        owners.setdefault(claim.owner, deque()).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the slot was handed over just as the caller gave up
            else:
                self._forget(claim, turn)
            raise

    def _release(self) -> None:
        self._free += 1
        while self._free > 0:
            turn = self._next_turn()
            if turn is None:
                return
            self._free -= 1
            turn.set_result(None)

    def _next_turn(self) -> asyncio.Future[None] | None:
        for owners in self._waiting.values():
            while owners:
                owner, queue = next(iter(owners.items()))
                turn = queue.popleft()
                if queue:
                    owners.move_to_end(owner)  # the next owner's turn
                else:
                    del owners[owner]
                if not turn.cancelled():
                    return turn
        return None

    def _forget(self, claim: Claim, turn: asyncio.Future[None]) -> None:
        queue = self._waiting[claim.urgency].get(claim.owner)
        if queue is not None and turn in queue:
            queue.remove(turn)
            if not queue:
                del self._waiting[claim.urgency][claim.owner]
