"""Whether a price tick is believable before alerts act on it: one wild tick is held.

Pure: the tick, what it is compared with and the remembered state in; the price to act on
(or None) and the next state out. A tick far from the last believed price (or, after a
restart, the map's last close) counts at once when the exchange's other price source agrees
with it; otherwise it waits for a second tick that stays nearer to it than to the old price.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_JUMP = 0.05
"""A move beyond 5% between two checks needs confirming."""
AGREE = 0.01
"""Two sources within 1% of each other tell the same story."""


@dataclass(frozen=True)
class PriceCheck:
    """What is remembered of one instrument's prices between checks."""

    believed: float | None = None
    held: float | None = None
    """A wild tick waiting for a second one."""


def vet(
    state: PriceCheck, price: float, reference: float | None, other: float | None
) -> tuple[PriceCheck, float | None]:
    """The next state, and ``price`` if it can be acted on (None while it is held).

    ``reference`` stands in for the believed price before there is one (the map's last
    close); ``other`` is the exchange's other source for the same moment, if any.
    """
    base = state.believed if state.believed is not None else reference
    confirmed = (
        base is None
        or _near(price, base, MAX_JUMP)
        or (other is not None and _near(price, other, AGREE))
        or (state.held is not None and abs(price - state.held) < abs(price - base))
    )
    if confirmed:
        return PriceCheck(believed=price), price
    return PriceCheck(state.believed, held=price), None


def _near(price: float, reference: float, tolerance: float) -> bool:
    return abs(price / reference - 1) <= tolerance
