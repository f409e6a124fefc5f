"""The whales board: the largest real positions whose liquidation lies near price.

Pure: the stored positions of one coin, the current price and the open interest in; the rows
to show and what the rows leave out, out.

A trader asks "who gets liquidated if price runs there, and how much": so the positions whose
liquidation price lies within ``WHALE_RANGE_PCT`` of price, on the side price has not passed
yet, largest first (a large position liquidated moves price most; the distance is on every
row). A position whose liquidation price was passed since it was read (it was liquidated, or
its cross account moved it) is left out and counted, as are those further away and those
without a liquidation price (cross margin the rest of the account keeps safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from liqmap.market.positions import KnownPosition, Position

WHALE_RANGE_PCT = 10.0
"""Only positions liquidating within this percent of price are listed."""
WHALE_ROWS = 10
"""At most this many rows."""


@dataclass(frozen=True)
class Whale:
    """One row: a stored position, whether the latest scan pass missed it, and its
    liquidation price's distance from price in percent (negative below)."""

    position: Position
    stale: bool
    distance_pct: float


@dataclass(frozen=True)
class WhaleBoard:
    """The rows, and what the scan stored beyond them."""

    coin: str
    price: float
    rows: tuple[Whale, ...]
    in_range: int
    """Positions liquidating within the range (the rows are the largest of them)."""
    further: int
    """Positions liquidating beyond the range."""
    no_liquidation: int
    """Positions without a liquidation price."""
    passed: int
    """Positions whose liquidation price price has passed since they were read."""
    stale: int
    """Of all the stored positions, those the latest scan pass did not read again."""
    scanned_usd: float
    """The notional of every stored position of the coin."""
    open_interest_usd: float | None
    oldest_read_ms: int
    newest_read_ms: int

    @property
    def coverage(self) -> float | None:
        """The scanned notional over the open interest; None without an open interest."""
        if not self.open_interest_usd:
            return None
        return self.scanned_usd / self.open_interest_usd


def whale_board(
    coin: str,
    known: Iterable[KnownPosition],
    price: float,
    open_interest_usd: float | None,
    within_pct: float = WHALE_RANGE_PCT,
    limit: int = WHALE_ROWS,
) -> WhaleBoard:
    """The largest positions liquidating within ``within_pct`` of ``price``, at most ``limit``
    of them, with the counts of what they leave out."""
    stored = list(known)
    near: list[Whale] = []
    further = no_liquidation = passed = 0
    for k in stored:
        p = k.position
        if p.liquidation is None:
            no_liquidation += 1
            continue
        distance = (p.liquidation - price) / price * 100
        if (distance >= 0) == (p.side == "long"):  # a long's lies below price, a short's above
            passed += 1
        elif abs(distance) > within_pct:
            further += 1
        else:
            near.append(Whale(p, k.stale, distance))
    near.sort(key=lambda w: (-w.position.value, abs(w.distance_pct), w.position.address))
    reads = [k.position.read_ms for k in stored]
    return WhaleBoard(
        coin=coin,
        price=price,
        rows=tuple(near[:limit]),
        in_range=len(near),
        further=further,
        no_liquidation=no_liquidation,
        passed=passed,
        stale=sum(k.stale for k in stored),
        scanned_usd=sum(k.position.value for k in stored),
        open_interest_usd=open_interest_usd,
        oldest_read_ms=min(reads, default=0),
        newest_read_ms=max(reads, default=0),
    )


def short_address(address: str) -> str:
    """``0x1234…abcd``: enough to tell accounts apart and look one up, not to copy it."""
    return address if len(address) <= 12 else f"{address[:6]}…{address[-4:]}"
