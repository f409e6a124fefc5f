"""A pace of request weight a minute that one kind of work keeps to, slowing down when the
exchange says it is asked too much.

Calls go one at a time: each may start once the weight of the one before, at the current
rate, has had its share of a minute (a call of weight 2 at 600 a minute keeps the next 200 ms
away), and once the calls of the last minute leave room for its weight, so no minute holds
more than the rate. A rate limit answered by the exchange halves the rate, down to a floor;
each quiet minute after the last one gives back a tenth of the budget, up to the budget.
Times are milliseconds, passed in.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

MINUTE_MS = 60_000
FLOOR_SHARE = 1 / 16
"""The rate never falls below this share of the budget."""
RECOVERY_SHARE = 0.1
"""What each quiet minute gives back, as a share of the budget."""


@dataclass
class WeightBudget:
    """At most ``per_minute`` weight a minute, now at ``rate`` (slower after a rate limit)."""

    per_minute: float
    rate: float = field(init=False)
    _next_ms: int | None = field(default=None, init=False)
    _calm_since_ms: int | None = field(default=None, init=False)
    _last_minute: deque[tuple[int, float]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        if not self.per_minute > 0:
            raise ValueError(f"a weight budget must be positive, got {self.per_minute!r}")
        self.rate = self.per_minute

    @property
    def slowed(self) -> bool:
        """Below the budget, after a rate limit."""
        return self.rate < self.per_minute

    def wait_ms(self, now_ms: int, weight: float) -> int:
        """How long a call of ``weight`` must wait before it starts: its turn after the last
        one, and room for it among the calls of the minute up to it."""
        paced = 0 if self._next_ms is None else self._next_ms - now_ms
        return max(0, paced, self._room_ms(now_ms, weight))

    def spent(self, started_ms: int, weight: float) -> None:
        """A call that started at ``started_ms`` weighed ``weight`` (its retries included):
        the next starts its share of a minute later."""
        self._recover(started_ms)
        self._next_ms = started_ms + math.ceil(weight * MINUTE_MS / self.rate)
        self._last_minute.append((started_ms, weight))

    def _room_ms(self, now_ms: int, weight: float) -> int:
        """How long until the calls of the minute before leave room for ``weight`` (at once
        when none is left: a call heavier than the rate goes alone)."""
        while self._last_minute and self._last_minute[0][0] <= now_ms - MINUTE_MS:
            self._last_minute.popleft()
        held = sum(w for _, w in self._last_minute)
        if held + weight <= self.rate:
            return 0
        for started_ms, w in self._last_minute:  # oldest first: wait until enough have left
            held -= w
            if held + weight <= self.rate or held <= 0:
                return started_ms + MINUTE_MS - now_ms
        return 0

    def rate_limited(self, now_ms: int) -> None:
        """The exchange refused a call for the rate: halve the pace, down to the floor."""
        self.rate = max(self.rate / 2, self.per_minute * FLOOR_SHARE)
        self._calm_since_ms = now_ms

    def _recover(self, now_ms: int) -> None:
        """Give back a tenth of the budget per quiet minute since the last rate limit."""
        if self._calm_since_ms is None or not self.slowed:
            return
        minutes = (now_ms - self._calm_since_ms) // MINUTE_MS
        if minutes > 0:
            self.rate = min(self.per_minute, self.rate + minutes * RECOVERY_SHARE * self.per_minute)
            self._calm_since_ms += minutes * MINUTE_MS
