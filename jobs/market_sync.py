"""Bring the cache up to date for one instrument and window, fetching only what it lacks."""

from __future__ import annotations

from dataclasses import dataclass

from liqmap.fetch_plan import oi_step_for
from liqmap.instruments import Instrument
from liqmap.market_data import MarketData, Progress
from liqmap.ranges import missing, settled
from liqmap.series import Candles, OpenInterest
from liqmap.timeframes import floor_to, step_ms, window_ms
from liqmap.venues import VENUES
from storage.market_cache import CANDLES, OPEN_INTEREST, MarketCache


@dataclass(frozen=True)
class MarketWindow:
    """Candles and open interest of one instrument over a window ending at the last close."""

    instrument: Instrument
    window: str
    step: str
    oi_step: str
    start: int
    end: int
    candles: Candles
    open_interest: OpenInterest


async def sync_window(
    market: MarketData,
    cache: MarketCache,
    inst: Instrument,
    window: str,
    step: str,
    progress: Progress | None = None,
) -> MarketWindow:
    """Fetch what the cache lacks of ``window`` at ``step``, store it, return the window.

    Candles and open interest are fetched and stored range by range; each range is
    written in one transaction, so a failure leaves the cache consistent.
    """
    now = market.now()
    length = step_ms(step)
    end = floor_to(now, length)
    start = end - window_ms(window)
    for gap in missing(cache.covered(inst, CANDLES, step), start, end):
        candles = await market.candles(inst, step, *gap, progress=progress)
        last = int(candles.ts[-1]) if len(candles) else None
        cache.store_candles(inst, step, candles, settled(gap, last, length, now))

    oi_step = oi_step_for(
        VENUES[inst.exchange], step, start, now, lambda s: cache.covered(inst, OPEN_INTEREST, s)
    )
    oi_length = step_ms(oi_step)
    oi_end = floor_to(now, oi_length) + 1
    for gap in missing(cache.covered(inst, OPEN_INTEREST, oi_step), start, oi_end):
        oi = await market.open_interest(inst, oi_step, *gap, progress=progress)
        last = int(oi.ts[-1]) if len(oi) else None
        cache.store_open_interest(inst, oi_step, oi, settled(gap, last, oi_length, now))

    return MarketWindow(
        instrument=inst,
        window=window,
        step=step,
        oi_step=oi_step,
        start=start,
        end=end,
        candles=cache.candles(inst, step, start, end),
        open_interest=cache.open_interest(inst, oi_step, start, oi_end),
    )
