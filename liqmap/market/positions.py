"""Positions of real accounts, as a venue that publishes them (Hyperliquid) reports them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from liqmap.engine.real_layer import RealLevel

Side = Literal["long", "short"]
MarginMode = Literal["cross", "isolated"]


@dataclass(frozen=True)
class Position:
    """One open position of one account in one coin, as read at ``read_ms``.

    ``size`` is in coins and positive (``side`` carries the sign); ``value`` and ``margin``
    are in USD; ``liquidation`` is None where the venue gives no price (a cross position the
    rest of the account keeps safe).
    """

    address: str
    coin: str
    side: Side
    size: float
    entry: float
    leverage: float
    mode: MarginMode
    margin: float
    value: float
    liquidation: float | None
    read_ms: int


@dataclass(frozen=True)
class AccountRead:
    """What one read of one account gave: the positions kept, and how many were skipped."""

    address: str
    positions: tuple[Position, ...]
    skipped: int
    read_ms: int

    @property
    def notional(self) -> float:
        """The USD value of the positions kept."""
        return sum(p.value for p in self.positions)


@dataclass(frozen=True)
class KnownPosition:
    """A position as stored: read in scan pass ``pass_id``; ``stale`` once a later pass has
    begun without reading it again."""

    position: Position
    pass_id: int
    stale: bool


@dataclass(frozen=True)
class CoinScan:
    """What one pass read of one coin: the accounts holding it, their positions, the long and
    short notional in USD, and that notional's share of the coin's open interest."""

    coin: str
    accounts: int
    positions: int
    long_usd: float
    short_usd: float
    open_interest_usd: float | None

    @property
    def coverage(self) -> float | None:
        """Scanned notional / open interest; None without an open interest."""
        if not self.open_interest_usd:
            return None
        return (self.long_usd + self.short_usd) / self.open_interest_usd


def coin_scans(
    reads: Iterable[AccountRead], open_interest: Mapping[str, float], coin: str | None = None
) -> list[CoinScan]:
    """Per coin (only ``coin`` if given), by coin name: what ``reads`` hold of it, against
    ``open_interest`` in USD by coin."""
    by_coin: dict[str, list[Position]] = {}
    for read in reads:
        for position in read.positions:
            if coin is None or position.coin == coin:
                by_coin.setdefault(position.coin, []).append(position)
    return [
        CoinScan(
            coin=name,
            accounts=len({p.address for p in held}),
            positions=len(held),
            long_usd=sum(p.value for p in held if p.side == "long"),
            short_usd=sum(p.value for p in held if p.side == "short"),
            open_interest_usd=open_interest.get(name),
        )
        for name, held in sorted(by_coin.items())
    ]


def real_levels(known: Iterable[KnownPosition]) -> list[RealLevel]:
    """The stored positions that have a liquidation price, as levels of the real layer."""
    return [
        RealLevel(p.side, p.liquidation, p.value, p.read_ms, k.stale)
        for k in known
        if (p := k.position).liquidation is not None
    ]


def scanned_coverage(
    known: Iterable[KnownPosition], open_interest_usd: float | None
) -> float | None:
    """The notional of the stored positions (stale ones too) over the open interest."""
    if not open_interest_usd:
        return None
    return sum(k.position.value for k in known) / open_interest_usd
