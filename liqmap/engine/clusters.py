"""Dense bands of liquidation levels, ranked by density (USD per 1% of price), not height.

A band is a run of bins standing above the local background (a rolling median a few
percent wide), so a broad plateau does not swallow the tight zones that rise out of it.
Smoothing bridges single low bins inside a band; its ends are bins that stand above.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from liqmap.engine.model import LiquidationMap

LONG = "long"
SHORT = "short"
_KEY_GRID = math.log(1.005)


@dataclass(frozen=True)
class Cluster:
    """A band of liquidation levels on one side of the price."""

    side: str
    """``long`` (below price: long liquidations) or ``short`` (above)."""
    low: float
    high: float
    center: float
    """USD-weighted center of the band."""
    usd: float
    share: float
    """Fraction of its side's USD on the map."""
    density: float
    """USD per 1% of price the band spans."""
    strength: float
    """Density relative to the side's average density over the map (1.0 = average)."""
    distance_pct: float
    """From the price to the band's near edge, in percent (0 when the price is inside)."""
    key: str
    """Stable name across recomputes: side and the center on a 0.5% log grid."""

    @property
    def width_pct(self) -> float:
        return (self.high - self.low) / self.center * 100

    def overlaps(self, other: Cluster) -> bool:
        return self.side == other.side and self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class ClusterRules:
    """How bands are cut from a map side (widths in bins of the map)."""

    background_bins: int = 31
    """Width of the rolling median taken as the local background."""
    smoothing_bins: int = 3
    min_bins: int = 2
    """Narrower runs are single spikes, not bands."""
    max_gap_bins: int = 1
    """Runs separated by at most this many bins form one band."""
    min_share: float = 0.01
    """Bands holding less of their side's USD than this are noise."""
    limit: int = 5
    """At most this many clusters per side, densest first."""


def find_clusters(liq_map: LiquidationMap, rules: ClusterRules | None = None) -> list[Cluster]:
    """The densest bands of each side, longs first, each side densest first."""
    rules = rules or ClusterRules()
    if liq_map.is_empty:
        return []
    split = int(np.searchsorted(liq_map.centers, liq_map.price))
    return _side(liq_map, LONG, 0, liq_map.long_usd[:split], rules) + _side(
        liq_map, SHORT, split, liq_map.short_usd[split:], rules
    )


def _side(
    liq_map: LiquidationMap, side: str, offset: int, usd: np.ndarray, rules: ClusterRules
) -> list[Cluster]:
    """Clusters among one side's bins, which start at bin ``offset`` of the map."""
    total = float(usd.sum())
    if total <= 0:
        return []
    price = liq_map.price
    edges = liq_map.edges[offset : offset + len(usd) + 1]
    centers = liq_map.centers[offset : offset + len(usd)]
    smooth = _moving(usd, rules.smoothing_bins, np.mean)
    background = _moving(usd, rules.background_bins, np.median)
    dense = smooth > background
    span_pct = abs((edges[-1] if side == SHORT else edges[0]) - price) / price * 100
    average_density = total / span_pct
    bands: list[tuple[float, int, int, float]] = []
    above = usd > background
    for lo, hi in _runs(dense, rules.max_gap_bins):
        while lo < hi and not above[lo]:
            lo += 1
        while hi > lo and not above[hi - 1]:
            hi -= 1
        band_usd = float(usd[lo:hi].sum())
        if hi - lo < rules.min_bins or band_usd < rules.min_share * total:
            continue
        density = band_usd / ((float(edges[hi]) - float(edges[lo])) / price * 100)
        bands.append((density, lo, hi, band_usd))
    bands.sort(key=lambda band: -band[0])
    clusters = []
    for density, lo, hi, band_usd in bands[: rules.limit]:  # only the kept ones are described
        low, high = float(edges[lo]), float(edges[hi])
        center = float(np.average(centers[lo:hi], weights=usd[lo:hi]))
        near = high if side == LONG else low
        clusters.append(
            Cluster(
                side=side,
                low=low,
                high=high,
                center=center,
                usd=band_usd,
                share=band_usd / total,
                density=density,
                strength=density / average_density,
                distance_pct=0.0 if low <= price <= high else (near - price) / price * 100,
                key=f"{side}@{round(math.log(center) / _KEY_GRID)}",
            )
        )
    return clusters


def _moving(values: np.ndarray, width: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """``reduce`` over a centered window of ``width`` bins, mirrored at the ends."""
    half = min(width // 2, len(values) - 1)
    padded = np.pad(values, half, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return reduce(windows, axis=1)


def _runs(mask: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """``[start, end)`` of the true runs of ``mask``, joining runs split by short gaps."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs: list[tuple[int, int]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and start - runs[-1][1] <= max_gap:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs
