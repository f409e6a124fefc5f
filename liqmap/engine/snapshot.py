"""A computed map of one instrument and window, with its clusters: what users are shown."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from liqmap.engine.clusters import LONG, SHORT, Cluster, find_clusters
from liqmap.engine.model import (
    LiquidationMap,
    ModelParams,
    bin_exposure,
    build_exposure,
    build_map,
    combine_maps,
)
from liqmap.engine.real_layer import RealLayer
from liqmap.engine.series import Candles, OpenInterest


@dataclass(frozen=True)
class VenueShare:
    """One exchange's part of an aggregate map: its share of the map's USD."""

    exchange: str
    share: float


@dataclass(frozen=True, eq=False)
class VenueData:
    """One exchange's candles, open interest and model parameters, for an aggregate."""

    exchange: str
    candles: Candles
    oi: OpenInterest
    params: ModelParams


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
    venues: tuple[VenueShare, ...] = ()
    """For a map summed over exchanges: each one's share."""
    real: RealLayer | None = None
    """Where the venue publishes positions: the real liquidation USD on the same bins."""

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


def build_aggregate_snapshot(
    label: str,
    window: str,
    step: str,
    parts: list[VenueData],
    notes: tuple[str, ...] = (),
) -> MapSnapshot:
    """Several exchanges' maps summed in USD, each with its own contract, OI units and
    liquidation formula, binned around their median last price (blocking numpy work)."""
    exposures = [build_exposure(part.candles, part.oi, part.params) for part in parts]
    closes = [exposure.price for exposure in exposures if exposure.price > 0]
    price = statistics.median(closes) if closes else 0.0
    maps = [
        bin_exposure(exposure, part.params, price)
        for exposure, part in zip(exposures, parts, strict=True)
    ]
    liq_map = combine_maps(maps)
    totals = [float(m.long_usd.sum() + m.short_usd.sum()) for m in maps]
    whole = sum(totals)
    venues = tuple(
        VenueShare(part.exchange, total / whole if whole > 0 else 0.0)
        for part, total in zip(parts, totals, strict=True)
    )
    source = "+".join(part.exchange for part in parts)
    return MapSnapshot(label, source, window, step, liq_map, find_clusters(liq_map), notes, venues)
