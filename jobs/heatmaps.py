"""Heatmaps on demand: built from the market cache, synced first, on every request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from jobs.maps import sync_venues
from liqmap.chart import ChartLabels
from liqmap.heatmap import Heatmap, build_aggregate_heatmap
from liqmap.instruments import Instrument
from liqmap.market_data import MarketData, Progress
from liqmap.timeframes import DEFAULT_STEP
from storage.stores import Stores


@dataclass(frozen=True)
class HeatmapView:
    """A heatmap, what its chart's title says, and what a reader should know about it."""

    heatmap: Heatmap
    labels: ChartLabels
    notes: tuple[str, ...]


async def compute_heatmap(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str | None = None,
    progress: Progress | None = None,
) -> HeatmapView:
    """Sync the window (each exchange of an aggregate at once), then build the heatmap in a
    worker thread. An aggregate left without some exchange says which in its notes."""
    step = step or DEFAULT_STEP[window]
    parts, notes = await sync_venues(market, stores, inst, window, step, progress)
    heatmap, shares = await asyncio.to_thread(build_aggregate_heatmap, parts)
    if inst.is_aggregate:
        source = "+".join(part.exchange for part in parts)
        labels = ChartLabels(
            inst.native_id, source, window, tuple((s.exchange, s.share) for s in shares)
        )
    else:
        labels = ChartLabels(inst.native_id, inst.exchange, window)
    return HeatmapView(heatmap, labels, notes)
