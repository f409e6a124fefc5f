"""Which open-interest steps can serve a window, finest first, by what the exchange documents."""

from __future__ import annotations

from collections.abc import Callable

from liqmap.engine.ranges import Range, missing
from liqmap.errors import UnsupportedRequest
from liqmap.formats import utc
from liqmap.market.timeframes import STEPS
from liqmap.market.venues import Venue


def oi_steps(
    venue: Venue,
    candle_step: str,
    start: int,
    now: int,
    covered: Callable[[str], list[Range]],
) -> list[str]:
    """The OI steps, no finer than the candles, that may reach back to ``start``: finest first.

    A step qualifies unless some part of ``[start, now)`` not already in the cache
    (``covered(step)``) is older than the history the exchange documents at that step.
    Whether the exchange really has it is learned by asking (see ``jobs.market_sync``).
    """
    candidates = [s for s in venue.oi_steps if STEPS[s] >= STEPS[candle_step]]
    usable = []
    for step in candidates:
        earliest = venue.earliest_oi(step, now)
        gaps = missing(covered(step), start, now)
        if earliest is None or all(gap_start >= earliest for gap_start, _ in gaps):
            usable.append(step)
    if not usable:
        raise UnsupportedRequest(
            f"{venue.name} keeps no open-interest history at {candle_step} or coarser "
            f"back to {utc(start)}; ask for a shorter window"
        )
    return usable
