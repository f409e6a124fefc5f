"""How well the map predicts the liquidations the recorder saw: the backtest's walk forward
over cached hourly markets, scored only on hours the recorder watched whole.

An hour the recorder did not watch is unknown, not calm: it is left out, never counted as an
hour without liquidations. Pure: histories, recorded sums and watched spans in, figures out
(``jobs/on_demand/accuracy.py`` reads them from the cache and the recorder's store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import reduce

import numpy as np

from liqmap.engine.clusters import LONG
from liqmap.engine.ranges import Range, merge, missing
from liqmap.engine.realized import SAMPLED_VENUES
from liqmap.engine.series import Liquidations
from liqmap.engine.snapshot import VenueData
from liqmap.errors import LiqmapError
from liqmap.evaluation.backtest import PartScore, first_hour, score_part, walk_forward_venues
from liqmap.market.timeframes import floor_to

HISTORY = "30d"
"""The market history scored: the longest map window, and what the caches keep."""
STEP = "1h"
"""Candle step of the history: hours, as in the backtest."""
WARMUP_HOURS = 168
"""Hours at the history's start that only build the map (as in the backtest), so the first
week of the 30 days is never scored."""
MIN_HOURS = 48
"""Scored hours needed before figures are given: two days, so one day's regime does not decide."""
MIN_SIDE_HOURS = 12
"""Of those, hours with liquidations recorded on each side: a rank correlation over a handful
of hours with any liquidation says little."""


class NothingRecorded(LiqmapError):
    """The recorder never watched the instrument asked about."""


@dataclass(frozen=True, eq=False)
class VenueRecord:
    """One venue's hourly market and model, and what the recorder saw there."""

    market: VenueData
    recorded: Sequence[tuple[int, str, float]]
    """USD liquidated per candle and side: ``(candle open, side, usd)``."""
    covered: Sequence[Range]
    """The time the recorder watched the instrument."""


@dataclass(frozen=True)
class Sample:
    """What the figures rest on: the hours scored (watched whole, after the warm-up), those
    with liquidations on each side, and the time watched within the history."""

    hours: int
    long_hours: int
    short_hours: int
    recorded_ms: int
    start_ms: int
    end_ms: int
    """The history's span: the last whole hour the recorder watched ends it."""

    @property
    def shortfall(self) -> str | None:
        """What is missing before figures mean something (``12 of 48 hours needed``); None
        when the sample is enough."""
        lacking = []
        if self.hours < MIN_HOURS:
            lacking.append(f"{self.hours} of {MIN_HOURS} hours needed")
        for side, count in (("long", self.long_hours), ("short", self.short_hours)):
            if count < MIN_SIDE_HOURS:
                lacking.append(f"{count} of {MIN_SIDE_HOURS} hours with {side} liquidations")
        return ", ".join(lacking) or None


@dataclass(frozen=True)
class LiveAccuracy:
    """The figures of one instrument, or of venues summed, over the hours recorded whole."""

    label: str
    """``okx:BTC-USDT-SWAP``, or ``all:BTC`` for venues summed."""
    venues: tuple[str, ...]
    sample: Sample
    score: PartScore | None
    """Model and naive map, both sides; None below the minimum sample."""
    notes: tuple[str, ...] = ()


def history_span(watched_until: int, now_ms: int, step_ms: int, length_ms: int) -> Range:
    """The history to score: ``length_ms`` up to the last whole candle the recorder watched
    (never past now), so a recorder that stopped days ago is still scored on what it saw."""
    end = floor_to(min(watched_until, now_ms), step_ms)
    return end - length_ms, end


def watched(covered: Sequence[Range], ts: np.ndarray, step_ms: int) -> np.ndarray:
    """Whether the recorder watched each candle ``[ts, ts + step)`` whole."""
    ranges = merge(covered)
    if not ranges:
        return np.zeros(len(ts), dtype=bool)
    starts, ends = (np.array(column, dtype=np.int64) for column in zip(*ranges, strict=True))
    at = np.searchsorted(starts, ts, side="right") - 1
    return (at >= 0) & (ends[np.clip(at, 0, None)] >= ts + step_ms)


def watched_by_all(coverages: Sequence[Sequence[Range]], start: int, end: int) -> list[Range]:
    """The parts of ``[start, end)`` every one of ``coverages`` holds."""
    return missing([gap for c in coverages for gap in missing(c, start, end)], start, end)


def on_candles(recorded: Sequence[tuple[int, str, float]], ts: np.ndarray) -> Liquidations:
    """Recorded USD on the candles ``ts``; sums of other candles are dropped."""
    long_usd, short_usd = np.zeros(len(ts)), np.zeros(len(ts))
    for candle, side, usd in recorded:
        at = np.searchsorted(ts, candle)
        if at < len(ts) and ts[at] == candle:
            (long_usd if side == LONG else short_usd)[at] += usd
    return Liquidations(ts, long_usd, short_usd)


def score_live(
    label: str,
    records: Sequence[VenueRecord],
    span: Range,
    notes: tuple[str, ...] = (),
    warmup_hours: float = WARMUP_HOURS,
) -> LiveAccuracy:
    """The backtest's figures for one venue's map, or several venues' maps summed (as the
    aggregate map sums them) against their recorded liquidations summed.

    Scored: candles every venue has, in ``span``, after the warm-up, that every venue's
    recorder watched whole. Below ``MIN_HOURS`` (or ``MIN_SIDE_HOURS`` on a side) no walk
    forward is run and ``score`` is None.
    """
    parts = [record.market for record in records]
    start, end = span
    step = parts[0].candles.step_ms
    grid = reduce(np.intersect1d, [p.candles.ts for p in parts])
    grid = grid[(grid >= start) & (grid < end)]
    realized = on_candles([row for r in records for row in r.recorded], grid)
    watched_all = watched_by_all([r.covered for r in records], start, end)
    hours = watched(watched_all, grid, step)
    hours[: first_hour(step, warmup_hours)] = False
    sample = Sample(
        hours=int(hours.sum()),
        long_hours=int((realized.long_usd[hours] > 0).sum()),
        short_hours=int((realized.short_usd[hours] > 0).sum()),
        recorded_ms=sum(b - a for a, b in watched_all),
        start_ms=start,
        end_ms=end,
    )
    venues = tuple(p.exchange for p in parts)
    notes += tuple(
        f"{SAMPLED_VENUES[venue]}: its recorded USD is a sample"
        for venue in venues
        if venue in SAMPLED_VENUES
    )
    if sample.shortfall:
        return LiveAccuracy(label, venues, sample, None, notes)
    naive = [replace(p, params=p.params.naive()) for p in parts]
    score = score_part(
        "live",
        walk_forward_venues(parts, realized, warmup_hours=warmup_hours, hours=hours),
        walk_forward_venues(naive, realized, warmup_hours=warmup_hours, hours=hours),
    )
    return LiveAccuracy(label, venues, sample, score, notes)
