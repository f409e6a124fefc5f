"""A computed map of one instrument and window, with its clusters: what users are shown."""

from __future__ import annotations

from dataclasses import dataclass

from liqmap.clusters import LONG, SHORT, Cluster, find_clusters
from liqmap.model import LiquidationMap, ModelParams, build_map
from liqmap.series import Candles, OpenInterest


@dataclass(frozen=True, eq=False)
class MapSnapshot:
    """The map, its clusters, and what it was built from."""

    label: str
    """What the map is of, e.g. ``BTC-USDT-SWAP``."""
    source: str
    """Where the data came from: an exchange name or a CSV file."""
    window: str
    step: str
    liq_map: LiquidationMap
    clusters: list[Cluster]
    notes: tuple[str, ...] = ()
    """What a reader should know about the data, e.g. a coarser open-interest step."""

    @property
    def price(self) -> float:
        return self.liq_map.price

    @property
    def as_of_ms(self) -> int:
        return self.liq_map.as_of_ms

    def nearest(self, side: str) -> Cluster | None:
        """The cluster of ``side`` closest to the price."""
        mine = [c for c in self.clusters if c.side == side]
        return min(mine, key=lambda c: abs(c.distance_pct), default=None)

    @property
    def nearest_long(self) -> Cluster | None:
        return self.nearest(LONG)

    @property
    def nearest_short(self) -> Cluster | None:
        return self.nearest(SHORT)


def build_snapshot(
    label: str,
    source: str,
    window: str,
    step: str,
    candles: Candles,
    oi: OpenInterest,
    params: ModelParams,
    notes: tuple[str, ...] = (),
) -> MapSnapshot:
    """Model the data and find its clusters (blocking numpy work: run it off the event loop)."""
    liq_map = build_map(candles, oi, params)
    return MapSnapshot(label, source, window, step, liq_map, find_clusters(liq_map), notes)
