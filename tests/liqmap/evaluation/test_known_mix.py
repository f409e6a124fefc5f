"""Calibration recovers a known mix: the fake Hyperliquid's accounts are drawn from
``LEVERAGE_MIX``, and the real leverage mix by notional, measured from the positions read from
it, matches that mix capped by each coin's maximum leverage.

Tolerance, from the sample size: a position's notional v (uniform from $10K to $2M at entry,
whatever its leverage) and its leverage are drawn independently, so a leverage of weight p
holds a share S = sum(v on it) / sum(v) of the notional whose standard deviation over n
positions is, by the delta method, sqrt(p (1 - p) E[v^2] / E[v]^2 / n), with
E[v^2] / E[v]^2 = 1 + (b - a)^2 / (12 ((a + b) / 2)^2) = 1.327 for a, b = 10K, 2M. The read
share must lie within four of them of the drawn weight (for one leverage a miss has odds
under 1 in 15,000 on a fresh seed). The notional is valued at the mark, and a position is
entered up to half way to its liquidation price, so mark/entry lifts a 1x position's expected
notional by up to 9% (3x: 1%): at 1x's weight of 5% that is 0.5 points, a sixth of its
tolerance. The same rule rejects the uncapped mix, so the tolerance is tight enough to tell
mixes apart.
"""

from __future__ import annotations

import math

import pytest

from liqmap.evaluation.calibration import notional_by_leverage
from liqmap.market.positions import Position
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import LEVERAGE_MIX, FakeHyperliquid

pytestmark = [pytest.mark.fixed_clock, pytest.mark.slow]

ACCOUNTS = 1500
"""About 1,000 positions per coin: each account holds one to three of the three coins."""
LOW, HIGH = 1e4, 2e6
SECOND_MOMENT = 1 + (HIGH - LOW) ** 2 / (12 * ((LOW + HIGH) / 2) ** 2)
SIGMAS = 4


def _drawn(max_leverage: float, capped: bool = True) -> dict[float, float]:
    mix: dict[float, float] = {}
    for leverage, weight in LEVERAGE_MIX:
        key = float(min(leverage, max_leverage)) if capped else float(leverage)
        mix[key] = mix.get(key, 0.0) + weight
    return mix


def _within(read: dict[float, float], drawn: dict[float, float], n: int) -> bool:
    return all(
        abs(read.get(lev, 0.0) - p) <= SIGMAS * math.sqrt(p * (1 - p) * SECOND_MOMENT / n)
        for lev, p in drawn.items()
    ) and set(read) <= set(drawn)


async def test_the_mix_read_from_the_fake_is_the_mix_its_accounts_were_drawn_from(
    hyperliquid: FakeHyperliquid, adapter: Adapter, clock: Clock
) -> None:
    addresses = hyperliquid.open_accounts(ACCOUNTS, seed=7)
    held: list[Position] = []
    async with adapter(hyperliquid=hyperliquid.url) as market:
        for address in addresses:
            clock.advance(100)  # 600 reads of weight 2 a minute: inside the 1,200 weight limit
            held.extend((await market.account(address)).positions)
    assert len(held) == sum(len(p) for p in hyperliquid.accounts.values())
    for perp in hyperliquid.perps:
        positions = [p for p in held if p.coin == perp.name]
        read = notional_by_leverage(positions)
        assert len(positions) > 900
        assert _within(read, _drawn(perp.max_leverage), len(positions)), (perp.name, read)
        if perp.max_leverage < max(lev for lev, _ in LEVERAGE_MIX):
            assert not _within(read, _drawn(perp.max_leverage, capped=False), len(positions))
