"""Which open-interest step can serve a window: the finest one the exchange or cache still has."""

from __future__ import annotations

from collections.abc import Callable

from liqmap.errors import UnsupportedRequest
from liqmap.formats import utc
from liqmap.ranges import Range, missing
from liqmap.timeframes import STEPS
from liqmap.venues import Venue


def oi_step_for(
    venue: Venue,
    candle_step: str,
    start: int,
    now: int,
    covered: Callable[[str], list[Range]],
) -> str:
    """The finest OI step, no finer than the candles, whose history reaches back to ``start``.

    A step qualifies when every part of ``[start, now)`` not already in the cache
    (``covered(step)``) is still inside the exchange's retention for that step.
    """
    candidates = [s for s in venue.oi_steps if STEPS[s] >= STEPS[candle_step]]
    for step in candidates:
        earliest = venue.earliest_oi(step, now)
        gaps = missing(covered(step), start, now)
        if earliest is None or all(gap_start >= earliest for gap_start, _ in gaps):
            return step
    raise UnsupportedRequest(
        f"{venue.name} keeps no open-interest history at {candle_step} or coarser "
        f"back to {utc(start)}; ask for a shorter window"
    )
