"""Bring the cache up to date for one instrument and window, fetching only what it lacks."""

from __future__ import annotations

from dataclasses import dataclass

from liqmap.errors import ExchangeRejected
from liqmap.fetch_plan import oi_steps
from liqmap.formats import utc
from liqmap.instruments import Instrument
from liqmap.market_data import MarketData, Progress
from liqmap.ranges import Range, missing, settled
from liqmap.series import Candles, OpenInterest
from liqmap.timeframes import floor_to, step_ms, window_ms
from liqmap.venues import VENUES
from storage.market_cache import CANDLES, OPEN_INTEREST, MarketCache

LATE_STEPS = 2
"""An answer starting more than this many steps after the asked start did not reach it."""


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
    notes: tuple[str, ...] = ()
    """What the user should know about the data, e.g. a coarser OI step than hoped for."""


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
    written in one transaction, so a failure leaves the cache consistent. Open interest
    comes at the finest step the exchange really has back to the window's start: when it
    refuses or answers short, the next coarser step serves, and the notes say so.
    """
    now = market.now()
    length = step_ms(step)
    end = floor_to(now, length)
    start = end - window_ms(window)
    for gap in missing(cache.covered(inst, CANDLES, step), start, end):
        candles = await market.candles(inst, step, *gap, progress=progress)
        last = int(candles.ts[-1]) if len(candles) else None
        cache.store_candles(inst, step, candles, settled(gap, last, length, now))

    venue = VENUES[inst.exchange]
    steps = oi_steps(venue, step, start, now, lambda s: cache.covered(inst, OPEN_INTEREST, s))
    notes: list[str] = []
    for oi_step in steps:
        shortfall = await _fill_open_interest(market, cache, inst, oi_step, start, progress)
        if shortfall is None or oi_step == steps[-1]:
            break
        notes.append(f"{shortfall}; using {steps[steps.index(oi_step) + 1]} open interest")
    if shortfall is not None:
        notes.append(f"{shortfall}; the map starts there")

    oi_end = floor_to(now, step_ms(oi_step)) + 1
    return MarketWindow(
        instrument=inst,
        window=window,
        step=step,
        oi_step=oi_step,
        start=start,
        end=end,
        candles=cache.candles(inst, step, start, end),
        open_interest=cache.open_interest(inst, oi_step, start, oi_end),
        notes=tuple(notes),
    )


async def _fill_open_interest(
    market: MarketData,
    cache: MarketCache,
    inst: Instrument,
    oi_step: str,
    start: int,
    progress: Progress | None,
) -> str | None:
    """Fetch the OI the cache lacks at ``oi_step``; why it cannot reach ``start``, if so.

    Only the gap at the window's start can be cut short by how far back the exchange keeps
    history: what it lacks there is learned (``MarketData.learn_oi_floor``) and not asked
    for again for a while. A hole later on is final, as for candles.
    """
    now = market.now()
    length = step_ms(oi_step)
    end = floor_to(now, length) + 1
    for gap_start, gap_end in missing(cache.covered(inst, OPEN_INTEREST, oi_step), start, end):
        leading = gap_start <= start
        floor = market.oi_floor(inst, oi_step) if leading else None
        ask: Range = (max(gap_start, floor or gap_start), gap_end)
        if ask[0] >= ask[1]:
            continue
        try:
            oi = await market.open_interest(inst, oi_step, *ask, progress=progress)
        except ExchangeRejected as exc:
            if not leading:
                raise
            when = utc(ask[0])
            return f"{inst.exchange} refused {oi_step} open interest from {when}: {exc.detail}"
        first = int(oi.ts[0]) if len(oi) else None
        last = int(oi.ts[-1]) if len(oi) else None
        span = settled(ask, last, length, now)
        if leading and _started_late(ask, first, span, length):
            market.learn_oi_floor(inst, oi_step, first if first is not None else span[1])
            span = (first, span[1]) if first is not None else (span[1], span[1])
        cache.store_open_interest(inst, oi_step, oi, span)
    if missing(cache.covered(inst, OPEN_INTEREST, oi_step), start, start + 1):
        floor = market.oi_floor(inst, oi_step)
        since = f" before {utc(floor)}" if floor is not None else ""
        return f"{inst.exchange} has no {oi_step} open interest of {inst.native_id}{since}"
    return None


def _started_late(ask: Range, first: int | None, span: Range, length: int) -> bool:
    """The exchange should have had rows near the request's start, and sent none there."""
    reach = ask[0] + LATE_STEPS * length
    return span[1] > reach and (first is None or first > reach)
