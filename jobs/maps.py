"""Compute the map of an instrument: bring its data up to date, then model it off the loop."""

from __future__ import annotations

import asyncio

from jobs.market_sync import sync_window
from liqmap.instruments import Instrument
from liqmap.margins import params_for
from liqmap.market_data import MarketData, Progress
from liqmap.snapshot import MapSnapshot, build_snapshot
from liqmap.timeframes import DEFAULT_STEP
from storage.market_cache import MarketCache


async def compute_map(
    market: MarketData,
    cache: MarketCache,
    inst: Instrument,
    window: str,
    step: str | None = None,
    progress: Progress | None = None,
) -> MapSnapshot:
    """Sync the window's candles and OI, then build the map and clusters in a worker thread."""
    data = await sync_window(market, cache, inst, window, step or DEFAULT_STEP[window], progress)
    params = params_for(inst, await market.maintenance_rate(inst))
    return await asyncio.to_thread(
        build_snapshot,
        inst.native_id,
        inst.exchange,
        window,
        data.step,
        data.candles,
        data.open_interest,
        params,
    )
