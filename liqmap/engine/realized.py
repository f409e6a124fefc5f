"""Realized liquidations: forced closes the exchanges published, as the recorder stores them.

Pure functions over recorded rows and the time ranges the recorder covered: sums in a price
band and time span, per-candle totals, and how much of a span was watched. A span the
recorder did not cover is unknown, never calm.

Rows are stored at the price the venue published. OKX and Bybit publish the bankruptcy
price, about one maintenance margin beyond the trigger price the map bins; ``at_trigger``
turns a row into the trigger price under the instrument's margin rule when it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from liqmap.engine.clusters import LONG, SHORT
from liqmap.engine.model import MarginRule
from liqmap.engine.ranges import Range, merge, missing
from liqmap.engine.series import Liquidations

EventKey = tuple[str, str, int, str, float, float]
"""Exchange, instrument, time, side, price and amount: one liquidation event."""


@dataclass(frozen=True)
class Realized:
    """One forced close: ``side`` is the position liquidated (``long`` or ``short``)."""

    exchange: str
    instrument: str
    """The exchange's own id, e.g. ``BTC-USDT-SWAP`` (``Instrument.native_id``)."""
    side: str
    price: float
    """As the venue published it (``BANKRUPTCY_PRICES``), or the trigger price once read
    through ``at_trigger``."""
    amount: float
    """Size in base coins (BTC for BTC contracts)."""
    usd: float
    ts: int
    """Exchange time in ms."""

    def __post_init__(self) -> None:
        if self.side not in (LONG, SHORT):
            raise ValueError(f"side must be {LONG!r} or {SHORT!r}, not {self.side!r}")

    @property
    def key(self) -> EventKey:
        """What makes two records the same event (a re-sent message, a reconnect replay)."""
        return (self.exchange, self.instrument, self.ts, self.side, self.price, self.amount)


BANKRUPTCY_PRICES: dict[str, str] = {
    "okx": "bkPx, the bankruptcy price (OKX docs, liquidation-orders channel)",
    "bybit": "p, the bankruptcy price (Bybit docs, All Liquidation)",
}
"""Venues whose feed gives a liquidation's bankruptcy price, and the field. Binance's
``forceOrder`` gives ``ap``, the average price the liquidation order filled at: the market
where the position was taken over, read as the trigger price."""


def at_trigger(rows: Iterable[Realized], rule: MarginRule) -> list[Realized]:
    """``rows`` of one instrument at their trigger price under ``rule`` (the map's margin
    rule for the instrument): a bankruptcy price moves one maintenance margin towards the
    entry, above it for a long and below it for a short; other prices stay."""
    return [
        replace(row, price=rule.trigger_from_bankruptcy(row.side, row.price))
        if row.exchange in BANKRUPTCY_PRICES
        else row
        for row in rows
    ]


def unique(rows: Iterable[Realized]) -> list[Realized]:
    """Rows in order of time, each event once."""
    seen: dict[EventKey, Realized] = {}
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


SAMPLED_VENUES: dict[str, str] = {
    "okx": "OKX publishes a selection of its liquidations, not all of them (its docs)",
    "binance": "Binance publishes at most one liquidation per symbol a second, the latest",
}
"""Venues whose public feed carries only a sample of their liquidations, and how (OKX
``liquidation-orders`` and Binance USD-M ``forceOrder`` docs; Bybit's ``allLiquidation``
carries all)."""


@dataclass(frozen=True)
class RealizedView:
    """What the recorder saw of a chart's window: its events and how much of it was watched."""

    rows: tuple[Realized, ...]
    start_ms: int
    end_ms: int
    covered: float
    """Share of the window the recorder watched, 0 to 1 (averaged over venues)."""
    venues: tuple[str, ...]
    note: str = ""
    """How the events were placed, where they are not single recorded events."""

    @property
    def sampled(self) -> tuple[str, ...]:
        return tuple(v for v in self.venues if v in SAMPLED_VENUES)

    @property
    def coverage_text(self) -> str:
        """``watched 93% of the window; binance sampled``, or how the events were placed."""
        if self.note:
            return self.note
        sampled = f"; {', '.join(self.sampled)} sampled" if self.sampled else ""
        return f"watched {self.covered:.0%} of the window{sampled}"

    def total(self, side: str) -> float:
        return sum(r.usd for r in self.rows if r.side == side)


def by_price(rows: Sequence[Realized], edges: np.ndarray) -> dict[str, np.ndarray]:
    """USD per price bin of ``edges`` for each side; events outside the edges are dropped."""
    found = {LONG: np.zeros(len(edges) - 1), SHORT: np.zeros(len(edges) - 1)}
    for side, usd in found.items():
        mine = [r for r in rows if r.side == side]
        prices = np.array([r.price for r in mine])
        at = np.searchsorted(edges, prices, side="right") - 1
        inside = (at >= 0) & (at < len(usd))
        np.add.at(usd, at[inside], np.array([r.usd for r in mine])[inside])
    return found


def by_cell(
    rows: Sequence[Realized], column_ends: np.ndarray, column_ms: int, edges: np.ndarray
) -> dict[str, np.ndarray]:
    """USD per (column, price bin) for each side; column ``c`` spans the ``column_ms`` before
    ``column_ends[c]``. Events outside the grid are dropped."""
    shape = (len(column_ends), len(edges) - 1)
    found = {LONG: np.zeros(shape), SHORT: np.zeros(shape)}
    ends = np.asarray(column_ends, dtype=np.int64)
    for side, usd in found.items():
        mine = [r for r in rows if r.side == side]
        times = np.array([r.ts for r in mine], dtype=np.int64)
        column = np.searchsorted(ends, times, side="right")
        bin_ = np.searchsorted(edges, np.array([r.price for r in mine]), side="right") - 1
        inside = (column < len(ends)) & (bin_ >= 0) & (bin_ < shape[1])
        inside &= times >= ends[np.clip(column, 0, len(ends) - 1)] - column_ms
        np.add.at(usd, (column[inside], bin_[inside]), np.array([r.usd for r in mine])[inside])
    return found
