"""Where a stop-loss sits on the liquidation map: inside a dense cluster, just before one, or
clear, and a level just beyond the cluster to consider instead.

A long's stop is a sell below the price: it runs with the long liquidations there, so the
clusters that matter are the long ones below the price; a short's, the short ones above.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.model import LiquidationMap

POSITIONS = (LONG, SHORT)
NEAR_PCT = 0.5
"""A stop this close (in % of price) before a cluster's near edge is run by a cascade through it."""
BUFFER_PCT = 0.15
"""How far beyond a cluster's far edge (in % of price) the suggested level sits."""


class Verdict(StrEnum):
    INSIDE = "inside"
    """The stop sits inside a dense cluster."""
    BEFORE = "before"
    """The stop sits just before one, on the price's side."""
    CLEAR = "clear"


class StopProblem(StrEnum):
    WRONG_SIDE = "wrong side"
    """A long's stop at or above the price, a short's at or below."""
    OFF_MAP = "off the map"
    """Farther from the price than the map reaches."""


@dataclass(frozen=True)
class StopCheck:
    """A stop judged against a map's clusters, with the level suggested instead (if any)."""

    position: str
    """``long`` or ``short``: the position the stop protects."""
    stop: float
    price: float
    verdict: Verdict
    cluster: Cluster | None
    """The cluster the stop sits in or just before."""
    suggestion: float | None
    """Just beyond that cluster (and any it runs into); None when the stop is clear."""
    stop_usd: float
    """Liquidations estimated between the price and the stop."""
    suggestion_usd: float
    """Between the price and the suggestion (0 without one)."""

    @property
    def stop_pct(self) -> float:
        return (self.stop - self.price) / self.price * 100

    @property
    def suggestion_pct(self) -> float | None:
        if self.suggestion is None:
            return None
        return (self.suggestion - self.price) / self.price * 100

    @property
    def beyond_stop_usd(self) -> float:
        """Liquidations between the stop and the suggestion."""
        return self.suggestion_usd - self.stop_usd if self.suggestion is not None else 0.0


def stop_problem(liq_map: LiquidationMap, position: str, stop: float) -> StopProblem | None:
    """Why ``stop`` cannot protect ``position`` on this map, or None when it can be judged."""
    if (stop >= liq_map.price) if position == LONG else (stop <= liq_map.price):
        return StopProblem.WRONG_SIDE
    if not liq_map.edges[0] <= stop <= liq_map.edges[-1]:
        return StopProblem.OFF_MAP
    return None


def check_stop(
    liq_map: LiquidationMap, clusters: list[Cluster], position: str, stop: float
) -> StopCheck:
    """Judge a stop that ``stop_problem`` accepts: the first cluster of the position's side it
    sits in or just before, and a level past it and past any cluster that level lands in."""
    price = liq_map.price
    mine = [c for c in clusters if c.side == position]
    cluster = _blocking(mine, position, stop, price)
    if cluster is None:
        return StopCheck(position, stop, price, Verdict.CLEAR, None, None,
                         _usd_to(liq_map, position, stop), 0.0)  # fmt: skip
    inside = cluster.low <= stop <= cluster.high
    level = stop
    blocking: Cluster | None = cluster
    while blocking is not None:
        level = _beyond(blocking, position, price)
        blocking = _blocking(mine, position, level, price)
    return StopCheck(
        position=position,
        stop=stop,
        price=price,
        verdict=Verdict.INSIDE if inside else Verdict.BEFORE,
        cluster=cluster,
        suggestion=level,
        stop_usd=_usd_to(liq_map, position, stop),
        suggestion_usd=_usd_to(liq_map, position, level),
    )


def _blocking(clusters: list[Cluster], position: str, level: float, price: float) -> Cluster | None:
    """The cluster nearest the price that ``level`` sits in or within ``NEAR_PCT`` before."""
    near = price * NEAR_PCT / 100
    for cluster in sorted(clusters, key=lambda c: abs(c.distance_pct)):
        if position == LONG and cluster.low <= level <= cluster.high + near:
            return cluster
        if position == SHORT and cluster.low - near <= level <= cluster.high:
            return cluster
    return None


def _beyond(cluster: Cluster, position: str, price: float) -> float:
    """``BUFFER_PCT`` past the cluster's far edge."""
    buffer = price * BUFFER_PCT / 100
    return cluster.low - buffer if position == LONG else cluster.high + buffer


def _usd_to(liq_map: LiquidationMap, position: str, level: float) -> float:
    """USD of the position's side in the bins from the price to ``level`` (their centers)."""
    centers, price = liq_map.centers, liq_map.price
    if position == LONG:
        return float(np.sum(liq_map.long_usd[(centers >= level) & (centers < price)]))
    return float(np.sum(liq_map.short_usd[(centers > price) & (centers <= level)]))
