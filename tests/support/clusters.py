"""Clusters written by hand, for charts and texts that only draw or describe them."""

from __future__ import annotations

from liqmap.engine.clusters import Cluster


def cluster(side: str, low: float, high: float, usd: float, distance_pct: float) -> Cluster:
    """A band from ``low`` to ``high`` around ``PRICE`` holding ``usd``."""
    center = (low + high) / 2
    density = usd / ((high - low) / center * 100)
    return Cluster(side, low, high, center, usd, 0.1, density, 2.0, distance_pct,
                   f"{side}:{center:.1f}")  # fmt: skip
