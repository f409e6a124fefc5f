"""How many new maps each chat, each user, and the whole service may ask for: budgets that
refill.

Pure: the clock is passed in. Each key (``chat:1``, ``user:2``) has a bucket of ``per_minute``
new maps that refills evenly over a minute; the service has one bucket (``SERVICE``) of
``total_per_minute``, sized from the exchanges' request pace (``docs/architecture.md`` §6). A
request charges its keys and the service, or nothing when one of them is short, and then says
how long until it would pass. The service's last ``reserve`` maps are kept for newcomers, requests
none of whose keys made one within the last minute (or kept asking since), so a few chats
spending their budgets cannot take the service's whole budget from everyone else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MINUTE_MS = 60_000
MAX_KEYS = 10_000
"""Full buckets beyond this many are forgotten (a full bucket is the same as none)."""
EPSILON = 1e-9
"""Tokens short by less than this are not short: refills add up in floating point."""
SERVICE = "service"
"""The key of the service-wide budget."""


@dataclass(frozen=True)
class SubscriptionLimits:
    """Instruments one chat may follow, and instruments watched across all chats."""

    per_chat: int = 30
    watched: int = 150


@dataclass(frozen=True)
class Bucket:
    """A key's budget: ``tokens`` left when it last asked for a new map, at ``at_ms``."""

    key: str
    tokens: float
    at_ms: int


@dataclass(frozen=True)
class Refusal:
    """A request past a budget: seconds until it would pass, and whether the service's budget
    (rather than the chat's or the user's own) is what ran out."""

    seconds: float
    service: bool


class FairUse:
    """Token buckets: ``per_minute`` per key and ``total_per_minute`` for the service, each
    full at once and refilled at its size a minute."""

    def __init__(self, per_minute: int, total_per_minute: int, reserve: int | None = None) -> None:
        self.per_minute = per_minute
        self.total_per_minute = total_per_minute
        self.reserve = total_per_minute // 4 if reserve is None else reserve
        self._buckets: dict[str, Bucket] = {}
        self.refused = 0
        """New maps refused since the start."""

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._buckets)

    def take(self, keys: list[str], now_ms: int) -> Refusal | None:
        """Charge one new map to every key and the service; None if granted, else the wait."""
        levels = {key: self._level(key, now_ms) for key in keys}
        own = max((self._wait(1 - lv, self.per_minute) for lv in levels.values()), default=0.0)
        newcomer = self._newcomer(keys, now_ms)
        service = self._level(SERVICE, now_ms)
        floor = 0 if newcomer else self.reserve
        shared = self._wait(floor + 1 - service, self.total_per_minute)
        if own > 0 or shared > 0:
            if not newcomer:  # asking again keeps it no newcomer, though charged nothing
                for key, level in levels.items():
                    self._buckets[key] = Bucket(key, level, now_ms)
            self.refused += 1
            return Refusal(max(own, shared), service=own == 0)
        for key, level in (*levels.items(), (SERVICE, service)):
            self._buckets[key] = Bucket(key, level - 1, now_ms)
        if len(self._buckets) > MAX_KEYS:
            self._forget_full(now_ms)
        return None

    def buckets(self, keys: Iterable[str]) -> list[Bucket]:
        """The remembered buckets of ``keys`` and of the service, to keep across restarts."""
        return [self._buckets[k] for k in (*keys, SERVICE) if k in self._buckets]

    def restore(self, buckets: Iterable[Bucket]) -> None:
        """Remember buckets kept before a restart."""
        for bucket in buckets:
            self._buckets[bucket.key] = bucket

    def _size(self, key: str) -> int:
        return self.total_per_minute if key == SERVICE else self.per_minute

    def _level(self, key: str, now_ms: int) -> float:
        size = self._size(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(size)
        refilled = max(0, now_ms - bucket.at_ms) * size / MINUTE_MS
        return min(float(size), bucket.tokens + refilled)

    def _newcomer(self, keys: list[str], now_ms: int) -> bool:
        """No key of the request made a new map, or was refused one after making one, within
        the last minute: a flooder held back by the service's budget stays no newcomer."""
        return all(
            (b := self._buckets.get(key)) is None or now_ms - b.at_ms >= MINUTE_MS for key in keys
        )

    @staticmethod
    def _wait(short: float, per_minute: int) -> float:
        """Seconds until a bucket refilling at ``per_minute`` gains ``short`` tokens."""
        return 0.0 if short < EPSILON else short * MINUTE_MS / per_minute / 1000

    def _forget_full(self, now_ms: int) -> None:
        full = [key for key in self._buckets if self._level(key, now_ms) >= self._size(key)]
        for key in full:
            del self._buckets[key]
