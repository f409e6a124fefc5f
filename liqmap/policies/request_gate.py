"""Who goes first to an exchange: price checks, then refreshes, then maps asked for in chat,
then the scanner of real positions.

Each exchange lets calls start at its request pace (ccxt's ``rateLimit`` a unit of weight);
calls that must wait line up here rather than in ccxt's first-come queue. A call
weighs 1 unless the venue documents weights (Hyperliquid: ``clearinghouseState`` 2, most
other requests 20), and the next call may start its weight's worth of pace after it. A
waiting call of a more urgent kind always starts first; among calls of one urgency the owners
(chats) take turns, one call each, so one chat's burst never queues another chat behind all
of it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
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
    SCAN = 3
    """The scanner's account reads: only when nothing else waits."""


@dataclass(frozen=True)
class Claim:
    """Who a call is for: its urgency and its owner (``chat:123``), who take turns."""

    urgency: Urgency
    owner: str


ANYONE = Claim(Urgency.ON_DEMAND, "anyone")
CLAIM: ContextVar[Claim | None] = ContextVar("claim", default=None)
"""The claim of the task running now: set by the jobs and the bot, read by the adapter."""


@dataclass(frozen=True)
class Ticket:
    """A call waiting for its turn, and its weight."""

    started: asyncio.Future[None]
    weight: float


class RequestGate:
    """Lets calls start ``interval`` seconds a unit of weight apart: a call of weight 2 keeps
    the next waiting twice as long as one of weight 1. Waiting ones go by urgency, owners in
    turn."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next_start = 0.0
        self._waiting: dict[Urgency, OrderedDict[str, deque[Ticket]]] = {
            urgency: OrderedDict() for urgency in Urgency
        }
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return sum(len(q) for owners in self._waiting.values() for q in owners.values())

    async def turn(self, claim: Claim | None = None, weight: float = 1.0) -> None:
        """Wait until a call of ``weight`` may start (the current task's claim by default)."""
        claim = claim or CLAIM.get() or ANYONE
        now = asyncio.get_running_loop().time()
        if self.waiting == 0 and now >= self._next_start:
            self._next_start = now + self.interval * weight
            return
        ticket = Ticket(asyncio.get_running_loop().create_future(), weight)
        self._waiting[claim.urgency].setdefault(claim.owner, deque()).append(ticket)
        self._schedule()
        try:
            await ticket.started
        except asyncio.CancelledError:
            self._forget(claim, ticket)
            raise

    def _schedule(self) -> None:
        if self._timer is not None or self.waiting == 0:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(max(self._next_start, loop.time()), self._start_next)

    def _start_next(self) -> None:
        self._timer = None
        ticket = self._next_ticket()
        if ticket is not None:
            ticket.started.set_result(None)
            self._next_start = asyncio.get_running_loop().time() + self.interval * ticket.weight
        self._schedule()

    def _next_ticket(self) -> Ticket | None:
        for owners in self._waiting.values():
            while owners:
                owner, queue = next(iter(owners.items()))
                ticket = queue.popleft()
                if queue:
                    owners.move_to_end(owner)  # the next owner's turn
                else:
                    del owners[owner]
                if not ticket.started.cancelled():
                    return ticket
        return None

    def _forget(self, claim: Claim, ticket: Ticket) -> None:
        queue = self._waiting[claim.urgency].get(claim.owner)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._waiting[claim.urgency][claim.owner]
