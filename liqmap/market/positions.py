"""Positions of real accounts, as a venue that publishes them (Hyperliquid) reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
