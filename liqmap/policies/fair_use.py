"""How many map computations each chat and each user may ask for: a budget that refills.

Pure: the clock is passed in. Each key (``chat:1``, ``user:2``) has a bucket of ``per_minute``
computations that refills evenly over a minute; a request charges every key it is made for,
or none when one of them is empty, and then says how long until it would pass.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE_MS = 60_000
MAX_KEYS = 10_000
"""Full buckets beyond this many are forgotten (a full bucket is the same as none)."""


@dataclass(frozen=True)
class SubscriptionLimits:
    """Instruments one chat may follow, and instruments watched across all chats."""

    per_chat: int = 30
    watched: int = 150


@dataclass
class _Bucket:
    tokens: float
    at_ms: int


class FairUse:
    """Token buckets per key: ``per_minute`` at once, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, _Bucket] = {}
        self.refused = 0
        """Computations refused since the start."""

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._buckets)

    def take(self, keys: list[str], now_ms: int) -> float | None:
        """Charge one computation to every key; None if granted, else seconds to wait."""
        levels = {key: self._level(key, now_ms) for key in keys}
        short = [1 - level for level in levels.values() if level < 1]
        if short:
            self.refused += 1
            return max(short) * MINUTE_MS / self.per_minute / 1000
        for key, level in levels.items():
            self._buckets[key] = _Bucket(level - 1, now_ms)
        if len(self._buckets) > MAX_KEYS:
            self._forget_full(now_ms)
        return None

    def _level(self, key: str, now_ms: int) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.per_minute)
        refilled = (now_ms - bucket.at_ms) * self.per_minute / MINUTE_MS
        return min(float(self.per_minute), bucket.tokens + refilled)

    def _forget_full(self, now_ms: int) -> None:
        full = [key for key in self._buckets if self._level(key, now_ms) >= self.per_minute]
        for key in full:
            del self._buckets[key]
