"""Live accuracy: the map scored against the liquidations the recorder stored.

The hourly history comes from the market cache; it is synced (as the map jobs sync) only when
the cache lacks part of the hours to score, so scoring what is already cached needs no market
data from the exchanges. For the bot, each instrument is scored once however many ask, and
kept while fresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from jobs.market_sync import sync_window
from jobs.on_demand.maps import each_venue
from jobs.on_demand.memo import Memo
from liqmap.engine.ranges import Range, missing
from liqmap.engine.snapshot import VenueData
from liqmap.evaluation.live_accuracy import (
    HISTORY,
    STEP,
    LiveAccuracy,
    NothingRecorded,
    VenueRecord,
    history_span,
    score_live,
)
from liqmap.exchanges.market_data import MarketData, Progress
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from liqmap.market.timeframes import STEPS, step_ms, window_ms
from liqmap.market.venues import VENUES
from storage.market_cache import CANDLES, OPEN_INTEREST
from storage.stores import Stores

KEEP = 64
"""Scores kept in memory (a few hundred bytes each)."""


async def live_accuracy(
    market: MarketData, stores: Stores, inst: Instrument, progress: Progress | None = None
) -> LiveAccuracy:
    """Score ``inst`` (an aggregate: its venues' maps summed) on the hours recorded whole in
    the 30 days up to the last one recorded.

    A venue the recorder never watched is left out of an aggregate, and one whose market data
    cannot be had is left out too; the notes name them. ``NothingRecorded`` when no venue was
    ever watched; the exchange's error when every venue failed.
    """
    members = inst.members if inst.is_aggregate else (inst,)
    realized = stores.realized
    covered = {m.key: await stores.run(realized.covered, m.exchange, m.native_id) for m in members}
    watched = [m for m in members if covered[m.key]]
    if not watched:
        raise NothingRecorded(f"no liquidations recorded for {inst} yet")
    notes = [*inst.missing_notes]
    notes += [f"{m.exchange} left out: nothing recorded" for m in members if not covered[m.key]]
    until = max(covered[m.key][-1][1] for m in watched)
    span = history_span(until, market.now(), step_ms(STEP), window_ms(HISTORY))
    records, found = await each_venue(
        watched, lambda m: _venue_record(market, stores, m, span, covered[m.key], progress)
    )
    notes += found
    return await asyncio.to_thread(score_live, inst.key, records, span, tuple(notes))


async def _venue_record(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    span: Range,
    covered: Sequence[Range],
    progress: Progress | None,
) -> tuple[VenueRecord, tuple[str, ...]]:
    """One venue's hourly candles and open interest over ``span`` (synced first if the cache
    lacks some), its model parameters and its recorded sums; and notes on the data."""
    cache = stores.cache
    start, end = span
    notes: tuple[str, ...] = ()
    oi_step = await _cached_oi_step(stores, inst, span)
    if oi_step is None or missing(await stores.run(cache.covered, inst, CANDLES, STEP), *span):
        window = await sync_window(market, stores, inst, HISTORY, STEP, progress)
        oi_step, notes = window.oi_step, window.notes
    candles = await stores.run(cache.candles, inst, STEP, start, end)
    oi = await stores.run(cache.open_interest, inst, oi_step, start, end)
    params = params_for(inst, await market.maintenance_rate(inst))
    recorded = await stores.run(
        stores.realized.usd_by_candle, inst.exchange, inst.native_id, start, end, step_ms(STEP)
    )
    return VenueRecord(VenueData(inst.exchange, candles, oi, params), recorded, covered), notes


async def _cached_oi_step(stores: Stores, inst: Instrument, span: Range) -> str | None:
    """The finest open-interest step hourly maps can use that the cache holds over ``span``."""
    for oi_step in VENUES[inst.exchange].oi_steps:
        if STEPS[oi_step] >= STEPS[STEP]:
            covered = await stores.run(stores.cache.covered, inst, OPEN_INTEREST, oi_step)
            if not missing(covered, *span):
                return oi_step
    return None


class AccuracyService:
    """Serves live accuracy: the score made in the last ``fresh_ms``, else a new one, shared
    by everyone who asks while it is made."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        fresh_ms: int,
        clock: Callable[[], int] | None = None,
        keep: int = KEEP,
    ) -> None:
        self.market = market
        self.stores = stores
        self._memo: Memo[str, LiveAccuracy] = Memo(fresh_ms, clock or market.now, keep)

    def would_compute(self, inst: Instrument) -> bool:
        """Whether ``get`` would score anew rather than answer from memory."""
        return self._memo.would_make(inst.key)

    async def get(self, inst: Instrument) -> LiveAccuracy:
        return await self._memo.get(inst.key, lambda: live_accuracy(self.market, self.stores, inst))
