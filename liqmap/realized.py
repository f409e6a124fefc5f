"""Realized liquidations: forced closes the exchanges published, as the recorder stores them.

Pure functions over recorded rows and the time ranges the recorder covered: sums in a price
band and time span, per-candle totals, and how much of a span was watched. A span the
recorder did not cover is unknown, never calm.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from liqmap.clusters import LONG, SHORT
from liqmap.ranges import Range, merge, missing
from liqmap.series import Liquidations


@dataclass(frozen=True)
class Realized:
    """One forced close: ``side`` is the position liquidated (``long`` or ``short``)."""

    exchange: str
    instrument: str
    """The exchange's own id, e.g. ``BTC-USDT-SWAP`` (``Instrument.native_id``)."""
    side: str
    price: float
    amount: float
    """Size in base coins (BTC for BTC contracts)."""
    usd: float
    ts: int
    """Exchange time in ms."""

    def __post_init__(self) -> None:
        if self.side not in (LONG, SHORT):
            raise ValueError(f"side must be {LONG!r} or {SHORT!r}, not {self.side!r}")

    @property
    def key(self) -> tuple[str, str, int, str, float, float]:
        """What makes two records the same event (a re-sent message, a reconnect replay)."""
        return (self.exchange, self.instrument, self.ts, self.side, self.price, self.amount)


def unique(rows: Iterable[Realized]) -> list[Realized]:
    """Rows in order of time, each event once."""
    seen: dict[tuple, Realized] = {}
    for row in rows:
        seen.setdefault(row.key, row)
    return sorted(seen.values(), key=lambda r: (r.ts, r.exchange, r.instrument))


def usd_between(
    rows: Iterable[Realized], side: str, low: float, high: float, start_ms: int, end_ms: int
) -> float:
    """USD liquidated on ``side`` at prices in ``[low, high]`` with time in ``[start, end)``."""
    return sum(
        r.usd
        for r in rows
        if r.side == side and low <= r.price <= high and start_ms <= r.ts < end_ms
    )


def per_candle(rows: Sequence[Realized], candle_ts: np.ndarray, step_ms: int) -> Liquidations:
    """USD liquidated per candle and side; events outside every candle are dropped."""
    ts = np.asarray(candle_ts, dtype=np.int64)
    long_usd = np.zeros(len(ts))
    short_usd = np.zeros(len(ts))
    if len(ts) and rows:
        times = np.array([r.ts for r in rows], dtype=np.int64)
        usd = np.array([r.usd for r in rows])
        longs = np.array([r.side == LONG for r in rows])
        at = np.searchsorted(ts, times, side="right") - 1
        inside = (at >= 0) & (times < ts[np.clip(at, 0, None)] + step_ms)
        np.add.at(long_usd, at[inside & longs], usd[inside & longs])
        np.add.at(short_usd, at[inside & ~longs], usd[inside & ~longs])
    return Liquidations(ts, long_usd, short_usd)


def covered_share(covered: Iterable[Range], start_ms: int, end_ms: int) -> float:
    """The part of ``[start, end)`` the recorder watched, 0 to 1."""
    if end_ms <= start_ms:
        return 0.0
    gaps = missing(merge(covered), start_ms, end_ms)
    return 1.0 - sum(b - a for a, b in gaps) / (end_ms - start_ms)


def fully_covered(covered: Iterable[Range], start_ms: int, end_ms: int) -> bool:
    """Whether the recorder watched all of ``[start, end)``."""
    return not missing(merge(covered), start_ms, end_ms)
