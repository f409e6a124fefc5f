"""Sweep receipts: once price has run through an alerted cluster and settled, what the
exchanges actually liquidated there, against what the map estimated.

A cluster *hit* when its band took more of the side's recorded liquidations during the sweep
than its share of the price range the sweep covered (the band, the price that ran through it,
and the liquidations recorded): the map pointed at where they happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from liqmap.engine.realized import Realized, usd_between

SETTLE_MS = 5 * 60_000
"""A sweep's receipt is made this long after price crossed the cluster."""
LOOKBACK_MS = 15 * 60_000
"""Liquidations this long before the sweep count too when the cluster was never approached
first (price can run through a cluster between two checks)."""


@dataclass(frozen=True)
class Sweep:
    """An alerted cluster that price ran through, waiting for its receipt."""

    chat_id: int
    instrument: str
    label: str
    source: str
    side: str
    low: float
    high: float
    usd: float
    """What the map estimated in the cluster."""
    price: float
    swept_at: int
    alerted_at: int | None
    silent: bool
    window: str

    @property
    def start_ms(self) -> int:
        """Where the sweep's liquidations are counted from: the approach alert, or a while
        before the sweep when it was never approached."""
        return self.alerted_at if self.alerted_at is not None else self.swept_at - LOOKBACK_MS

    @property
    def due_ms(self) -> int:
        return self.swept_at + SETTLE_MS


@dataclass(frozen=True)
class Receipt:
    """What was recorded during a sweep, in the cluster's band and on its side overall."""

    recorded_usd: float
    side_usd: float
    band_share: float
    """The band's share of the price range the sweep covered: the band, the price that swept
    it and every recorded liquidation of the side."""
    covered: float
    """Share of the sweep's time the recorder watched, 0 to 1 (averaged over venues)."""
    venues: tuple[str, ...]
    sampled: tuple[str, ...]

    @property
    def judged(self) -> bool:
        """Whether the sweep can be judged: fully watched, and something was liquidated."""
        return self.covered >= 0.999 and self.side_usd > 0

    @property
    def share(self) -> float:
        """The band's share of the side's recorded liquidations."""
        return self.recorded_usd / self.side_usd if self.side_usd > 0 else 0.0

    @property
    def hit(self) -> bool:
        return self.judged and self.share > self.band_share


def receipt_for(
    sweep: Sweep,
    rows: Sequence[Realized],
    covered: float,
    venues: tuple[str, ...],
    sampled: tuple[str, ...],
) -> Receipt:
    """The receipt of ``sweep`` from the liquidations recorded from its start until due."""
    start, end = sweep.start_ms, sweep.due_ms
    mine = [r for r in rows if r.side == sweep.side and start <= r.ts < end]
    in_band = usd_between(mine, sweep.side, sweep.low, sweep.high, start, end)
    low = min([sweep.low, sweep.price, *(r.price for r in mine)])
    high = max([sweep.high, sweep.price, *(r.price for r in mine)])
    band_share = (sweep.high - sweep.low) / (high - low) if high > low else 1.0
    return Receipt(in_band, sum(r.usd for r in mine), band_share, covered, venues, sampled)


@dataclass(frozen=True)
class HitRate:
    """How alerted clusters fared once swept: judged receipts and the hits among them."""

    swept: int
    judged: int
    hits: int
    first_ms: int | None
    last_ms: int | None

    @property
    def rate(self) -> float | None:
        return self.hits / self.judged if self.judged else None
