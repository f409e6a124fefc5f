"""Max pain: on each side of the price, the bin where the most liquidations would occur."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liqmap.engine.model import LiquidationMap


@dataclass(frozen=True)
class PainBin:
    """One price bin of the map and the USD of liquidations estimated in it."""

    low: float
    high: float
    usd: float

    @property
    def price(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class MaxPain:
    """The bin with the most long USD below the price and the most short USD above it;
    None for a side with none."""

    long: PainBin | None
    short: PainBin | None

    def as_json(self) -> dict[str, Any]:
        """``{"long": {"price", "low", "high", "usd"} | None, "short": ...}``."""
        return {"long": _bin_json(self.long), "short": _bin_json(self.short)}


def max_pain(liq_map: LiquidationMap) -> MaxPain:
    """The largest bin of each side (the one nearest the price on a tie)."""
    centers = liq_map.centers
    below = np.flatnonzero(centers < liq_map.price)[::-1]
    above = np.flatnonzero(centers > liq_map.price)
    long = _largest(liq_map, below, liq_map.long_usd)
    return MaxPain(long, _largest(liq_map, above, liq_map.short_usd))


def _largest(liq_map: LiquidationMap, nearest_first: np.ndarray, usd: np.ndarray) -> PainBin | None:
    """The bin of ``nearest_first`` (indices, nearest the price first) with the most USD."""
    values = usd[nearest_first]
    if not values.size or values.max() <= 0:
        return None
    index = int(nearest_first[int(np.argmax(values))])
    edges = liq_map.edges
    return PainBin(float(edges[index]), float(edges[index + 1]), float(usd[index]))


def _bin_json(pain: PainBin | None) -> dict[str, float] | None:
    if pain is None:
        return None
    return {"price": pain.price, "low": pain.low, "high": pain.high, "usd": pain.usd}
