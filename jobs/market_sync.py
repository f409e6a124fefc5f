"""Bring the cache up to date for one instrument and window, fetching only what it lacks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from liqmap.engine.ranges import Range, missing, settled
from liqmap.engine.series import Candles, OpenInterest
from liqmap.errors import ExchangeRejected, UnsupportedRequest
from liqmap.exchanges.market_data import MarketData, Progress
from liqmap.formats import utc
from liqmap.market.fetch_plan import oi_steps
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_to, step_ms, window_ms
from liqmap.market.venues import RECORDED_OI_STEP, VENUES
from storage.market_cache import CANDLES, OPEN_INTEREST
from storage.stores import Stores

log = logging.getLogger(__name__)

LATE_STEPS = 2
"""An answer starting more than this many steps after the asked start did not reach it."""
OI_FLOOR_MEMORY_MS = DAY_MS
"""How long a learned start of an exchange's OI history is trusted before asking again."""
RECORDED_BEFORE_MS = DAY_MS
"""How far before a window recorded snapshots are read: the last one before its start
carries the OI the window opens with."""


@dataclass(frozen=True)
class MarketWindow:
    """Candles and open interest of one instrument over a window ending at the last close,
    from ``since`` (the window's ``start`` unless a warm-up was asked for)."""

    instrument: Instrument
    window: str
    step: str
    oi_step: str
    start: int
    end: int
    candles: Candles
    open_interest: OpenInterest
    since: int
    notes: tuple[str, ...] = ()
    """What the user should know about the data, e.g. a coarser OI step than hoped for."""


async def sync_window(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str,
    progress: Progress | None = None,
    warmup_ms: int = 0,
    need_oi: bool = True,
) -> MarketWindow:
    """Fetch what the cache lacks of ``window`` at ``step``, store it, return the window.

    ``warmup_ms`` more before the window are fetched too, as far back as the exchange
    documents open interest (a heatmap builds its first column from them).

    Candles and open interest are fetched and stored range by range; each range is
    written in one transaction, so a failure leaves the cache consistent. Open interest
    comes at the finest step the exchange really has back to the window's start: when it
    refuses or answers short, the next coarser step serves, and the notes say so.

    On a venue whose OI is recorded here (``Venue.oi_recorded``), too few snapshots raise
    ``NotYetRecorded`` unless ``need_oi`` is False (``liqmap fetch``: the candles are
    what it can fetch); then the window holds the snapshots there are.
    """
    cache = stores.cache
    now = market.now()
    length = step_ms(step)
    end = floor_to(now, length)
    start = end - window_ms(window)
    venue = VENUES[inst.exchange]
    since = min(start, venue.oi_start(start - warmup_ms, step, now))
    for gap in missing(await stores.run(cache.covered, inst, CANDLES, step), since, end):
        candles = await market.candles(inst, step, *gap, progress=progress)
        last = int(candles.ts[-1]) if len(candles) else None
        await stores.run(cache.store_candles, inst, step, candles, settled(gap, last, length, now))

    if venue.oi_recorded:
        return await _recorded_window(stores, inst, window, step, start, end, since, need_oi)

    covered = {s: await stores.run(cache.covered, inst, OPEN_INTEREST, s) for s in venue.oi_steps}
    steps = oi_steps(venue, step, since, now, covered.__getitem__)
    notes: list[str] = []
    for oi_step in steps:
        last_resort = oi_step == steps[-1]
        shortfall = await _fill_open_interest(
            market, stores, inst, oi_step, since, last_resort, progress
        )
        if shortfall is None or last_resort:
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
        candles=await stores.run(cache.candles, inst, step, since, end),
        open_interest=await stores.run(cache.open_interest, inst, oi_step, since, oi_end),
        since=since,
        notes=tuple(notes),
    )


async def _fill_open_interest(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    oi_step: str,
    start: int,
    last_resort: bool,
    progress: Progress | None,
) -> str | None:
    """Fetch the OI the cache lacks at ``oi_step``; why it cannot reach ``start``, if so.

    Only the gap at the window's start can be cut short by how far back the exchange keeps
    history. Unless this step is the last resort, one page there is asked first, and if the
    exchange answers short the rest is not fetched; what it lacks is learned
    (``MarketCache.learn_oi_floor``, kept across restarts) and not asked for again for a
    day. A hole later on is
    final, as for candles.
    """
    now = market.now()
    length = step_ms(oi_step)
    end = floor_to(now, length) + 1
    page = VENUES[inst.exchange].oi_page * length
    covered = await stores.run(stores.cache.covered, inst, OPEN_INTEREST, oi_step)
    for gap_start, gap_end in missing(covered, start, end):
        asks: list[Range] = [(gap_start, gap_end)]
        leading = gap_start <= start
        if leading:
            floor = await _oi_floor(market, stores, inst, oi_step)
            if floor is not None and floor > gap_start:
                if not last_resort:
                    return _short_of(inst, oi_step, floor)
                asks = [(floor, gap_end)] if floor < gap_end else []
            elif not last_resort and gap_start + page < gap_end:
                asks = [(gap_start, gap_start + page), (gap_start + page, gap_end)]
        for index, ask in enumerate(asks):
            try:
                short = await _fetch(market, stores, inst, oi_step, ask, progress)
            except ExchangeRejected as exc:
                if not (leading and index == 0):
                    raise
                when = utc(ask[0])
                return f"{inst.exchange} refused {oi_step} open interest from {when}: {exc.detail}"
            if short and leading and index == 0:
                log.info("%s keeps %s open interest of %s only from %s", inst.exchange,
                         oi_step, inst.native_id, utc(short))  # fmt: skip
                await stores.run(stores.cache.learn_oi_floor, inst, oi_step, short, market.now())
                if not last_resort:
                    return _short_of(inst, oi_step, short)
    covered = await stores.run(stores.cache.covered, inst, OPEN_INTEREST, oi_step)
    if missing(covered, start, start + 1):
        return _short_of(inst, oi_step, await _oi_floor(market, stores, inst, oi_step))
    return None


async def _oi_floor(market: MarketData, stores: Stores, inst: Instrument, step: str) -> int | None:
    since = market.now() - OI_FLOOR_MEMORY_MS
    return await stores.run(stores.cache.oi_floor, inst, step, since)


async def _fetch(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    oi_step: str,
    ask: Range,
    progress: Progress | None,
) -> int | None:
    """Fetch and store OI in ``ask``; where the answer began, if well after the ask's start.

    A settled range is covered from where the exchange's answer began: what came after is
    final, what came before the exchange may have and not serve (a start cut short). A row
    of a period still running (OKX's moves until the period closes) is stored but not
    covered, so the next sync asks for it again.
    """
    now = market.now()
    length = step_ms(oi_step)
    oi = await market.open_interest(inst, oi_step, *ask, progress=progress)
    first = int(oi.ts[0]) if len(oi) else None
    closed = oi.ts[oi.ts + length <= now]
    last = int(closed[-1]) if len(closed) else None
    span = settled(ask, last, length, now)
    began = None
    if _started_late(ask, first, span, length):
        began = first if first is not None else span[1]
        span = (began, span[1])
    await stores.run(stores.cache.store_open_interest, inst, oi_step, oi, span)
    return began


def _short_of(inst: Instrument, oi_step: str, floor: int | None) -> str:
    since = f" before {utc(floor)}" if floor is not None else ""
    return f"{inst.exchange} has no {oi_step} open interest of {inst.native_id}{since}"


def _started_late(ask: Range, first: int | None, span: Range, length: int) -> bool:
    """The exchange should have had rows near the request's start, and sent none there."""
    reach = ask[0] + LATE_STEPS * length
    return span[1] > reach and (first is None or first > reach)


class NotYetRecorded(UnsupportedRequest):
    """A venue without OI history whose recorded snapshots cannot make a map yet."""


async def record_open_interest(
    market: MarketData, stores: Stores, instruments: list[Instrument]
) -> int:
    """Store the current OI of each instrument on a venue without OI history, one request per
    venue, at the current minute (``RECORDED_OI_STEP``); how many snapshots were stored."""
    now = market.now()
    at = floor_to(now, MINUTE_MS)
    stored = 0
    recorded = [i for i in instruments if VENUES[i.exchange].oi_recorded]
    for exchange in dict.fromkeys(i.exchange for i in recorded):
        usd = await market.open_interest_now(exchange)
        for inst in recorded:
            if inst.exchange == exchange and inst.symbol in usd:
                oi = OpenInterest.from_rows(MINUTE_MS, [(at, usd[inst.symbol])])
                span = (at, at + MINUTE_MS)
                await stores.run(stores.cache.store_open_interest, inst, RECORDED_OI_STEP, oi, span)
                stored += 1
    return stored


async def _recorded_window(
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str,
    start: int,
    end: int,
    since: int,
    need_oi: bool = True,
) -> MarketWindow:
    """The window of a venue without OI history, its OI from the snapshots recorded here;
    ``NotYetRecorded`` until two of them reach into the window (if ``need_oi``, else the
    window with the snapshots there are and no note)."""
    cache = stores.cache
    now_end = end + step_ms(step)
    oi = await stores.run(
        cache.open_interest, inst, RECORDED_OI_STEP, since - RECORDED_BEFORE_MS, now_end
    )
    inside = oi.ts[oi.ts >= since]
    recorded = len(oi) >= 2 and len(inside) > 0
    if need_oi and not recorded:
        raise NotYetRecorded(
            f"{inst.exchange} publishes no open-interest history; liqmap records it at each "
            f"refresh of a watched instrument and has {len(oi)} snapshot(s) of "
            f"{inst.native_id} so far; a map needs at least 2"
        )
    notes: tuple[str, ...] = ()
    if recorded:
        hours = (int(oi.ts[-1]) - max(int(oi.ts[0]), since)) / HOUR_MS
        notes = (f"built from {hours:.1f} h of recorded open interest ({len(oi)} snapshots)",)
    return MarketWindow(
        instrument=inst,
        window=window,
        step=step,
        oi_step=RECORDED_OI_STEP,
        start=start,
        end=end,
        candles=await stores.run(cache.candles, inst, step, since, end),
        open_interest=oi,
        since=since,
        notes=notes,
    )


async def latest_recorded_oi(stores: Stores, inst: Instrument, at_ms: int) -> float | None:
    """The last open interest in USD recorded for ``inst`` in the day up to ``at_ms``."""
    oi = await stores.run(
        stores.cache.open_interest, inst, RECORDED_OI_STEP, at_ms - RECORDED_BEFORE_MS,
        at_ms + MINUTE_MS,
    )  # fmt: skip
    return float(oi.usd[-1]) if len(oi) else None
