"""The real layer: USD that real positions would liquidate at each price, binned like a map.

A venue that publishes positions (Hyperliquid) gives each one's own liquidation price; this
sums their value into the bins of an estimated map, so the two are read side by side. Pure
numpy; the positions come in as plain levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from liqmap.engine.clusters import LONG, SHORT, Cluster, ClusterRules, find_clusters
from liqmap.engine.model import LiquidationMap

REAL_CLUSTERS = ClusterRules(min_bins=1, limit=50)
"""How bands are cut from the real layer. It is sparse: most bins are empty, so the local
background (a rolling median) is 0 and every bin holding a position stands above it. One large
position is a real cluster of its own (the estimate's two-bin minimum would drop it), and every
band counts, not only the five densest a side: the nearest one to price is the one that
matters for an alert, and the densest are the narrowest, often single positions far away.
Positions within about 0.4% of each other still form one band (smoothing over three bins and
gaps of one bin), and bands under 1% of their side's USD are still noise."""


@dataclass(frozen=True)
class RealLevel:
    """One real position as the layer needs it: its side (``long`` liquidates below the
    price), liquidation price, USD value and read time; ``stale`` if a later scan pass
    missed it."""

    side: str
    price: float
    usd: float
    read_ms: int
    stale: bool = False


@dataclass(frozen=True, eq=False)
class RealLayer:
    """Real liquidation USD per bin of ``edges``, per side, and what it was read from."""

    edges: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    coverage: float | None
    """The scanned positions' notional over the instrument's open interest (None unknown)."""
    positions: int
    """Positions with a liquidation price inside the map's range."""
    stale: int
    """Of those, positions a later scan pass did not read again."""
    read_ms: int
    """The oldest read among the positions counted (0 if none)."""

    @property
    def total_usd(self) -> float:
        return float(self.long_usd.sum() + self.short_usd.sum())

    def as_map(self, price: float, as_of_ms: int) -> LiquidationMap:
        """The layer as a one-band map, for the cluster finder and the alert detector."""
        return LiquidationMap(
            price=price,
            as_of_ms=as_of_ms,
            edges=self.edges,
            long_by_band=self.long_usd[np.newaxis, :],
            short_by_band=self.short_usd[np.newaxis, :],
            bands=("real",),
        )


def real_clusters(layer: RealLayer, price: float, as_of_ms: int) -> list[Cluster]:
    """The bands of real liquidation USD on ``layer`` at ``price`` (``REAL_CLUSTERS``)."""
    return find_clusters(layer.as_map(price, as_of_ms), REAL_CLUSTERS)


def positions_in(levels: Iterable[RealLevel], side: str, low: float, high: float) -> int:
    """How many of ``levels`` of ``side`` liquidate from ``low`` to ``high`` (a band's bins)."""
    return sum(1 for lv in levels if lv.side == side and low <= lv.price < high)


def bin_real(
    edges: np.ndarray,
    levels: Iterable[RealLevel],
    coverage: float | None,
) -> RealLayer:
    """Sum ``levels`` into the bins of ``edges`` per side; a level outside the edges, or
    without USD, is left out."""
    kept = [lv for lv in levels if lv.side in (LONG, SHORT) and lv.usd > 0]
    bins = max(len(edges) - 1, 0)
    prices = np.array([lv.price for lv in kept], dtype=float)
    usd = np.array([lv.usd for lv in kept], dtype=float)
    index = np.searchsorted(edges, prices, side="right") - 1
    inside = (index >= 0) & (index < bins)
    is_long = np.array([lv.side == LONG for lv in kept], dtype=bool)
    stale = np.array([lv.stale for lv in kept], dtype=bool)
    read = np.array([lv.read_ms for lv in kept], dtype=np.int64)

    def side(mask: np.ndarray) -> np.ndarray:
        pick = inside & mask
        return np.bincount(index[pick], usd[pick], minlength=bins).astype(float)[:bins]

    return RealLayer(
        edges=edges,
        long_usd=side(is_long),
        short_usd=side(~is_long),
        coverage=coverage,
        positions=int(inside.sum()),
        stale=int((inside & stale).sum()),
        read_ms=int(read[inside].min()) if inside.any() else 0,
    )
