"""The ``/top`` screener: each instrument's nearest dense cluster, measured in its own volatility.

Pure: stored clusters and cached candles in, a ranking out. Urgency is the distance to the
nearest dense cluster divided by the instrument's typical hourly range (both in percent of
price): 0.5 means half an ordinary hour's move away.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from liqmap.engine.clusters import Cluster
from liqmap.engine.series import Candles
from liqmap.market.timeframes import HOUR_MS
from liqmap.signals.proximity import distance_to

DEFAULT_TOP = 5
MAX_TOP = 10
MAJORS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LINK", "AVAX", "LTC", "TRX")
"""With no watchlist and no open-interest ranking from the exchange (``MarketData.largest``),
these USDT perpetuals are screened, in this order, until ``N`` are found."""
RANGE_HOURS = 24
"""The typical hourly range is the median over this many latest hours."""


@dataclass(frozen=True)
class Ranked:
    """An instrument's nearest dense cluster, its distance and the hourly range it is set in."""

    instrument: str
    label: str
    source: str
    cluster: Cluster
    distance_pct: float
    hourly_range_pct: float | None

    @property
    def hours(self) -> float:
        """Distance in typical hourly ranges (infinite when the range is unknown)."""
        if not self.hourly_range_pct:
            return math.inf
        return self.distance_pct / self.hourly_range_pct


def nearest_dense(
    clusters: list[Cluster], price: float, min_strength: float
) -> tuple[Cluster, float] | None:
    """The nearest uncrossed cluster at least ``min_strength`` dense, with its distance."""
    found = [
        (distance_to(c, price), c)
        for c in clusters
        if c.strength >= min_strength and distance_to(c, price) >= 0
    ]
    if not found:
        return None
    distance, cluster = min(found, key=lambda pair: pair[0])
    return cluster, distance


def hourly_range_pct(candles: Candles, hours: int = RANGE_HOURS) -> float | None:
    """Median high-to-low range of the latest ``hours`` clock hours, in percent of their close;
    None without candles."""
    by_hour: dict[int, list[int]] = {}
    for index, ts in enumerate(candles.ts.tolist()):
        by_hour.setdefault(int(ts) // HOUR_MS, []).append(index)
    ranges = []
    for hour in sorted(by_hour)[-hours:]:
        rows = by_hour[hour]
        close = float(candles.close[rows[-1]])
        if close > 0:
            high, low = float(candles.high[rows].max()), float(candles.low[rows].min())
            ranges.append((high - low) / close * 100)
    return statistics.median(ranges) if ranges else None


def most_urgent(ranked: list[Ranked], count: int) -> list[Ranked]:
    """The ``count`` nearest in hourly ranges (then in percent), most urgent first."""
    return sorted(ranked, key=lambda r: (r.hours, r.distance_pct))[:count]
