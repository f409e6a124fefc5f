"""The map budgets written through to the database and taken up by the next run."""

from __future__ import annotations

import pytest

from jobs.on_demand.budgets import MapBudgets
from liqmap.policies.fair_use import FairUse, Refusal
from storage.stores import Stores
from tests.fakes.clock import Clock

pytestmark = pytest.mark.fixed_clock


def budgets(stores: Stores, clock: Clock) -> MapBudgets:
    return MapBudgets(FairUse(per_minute=6, total_per_minute=4, reserve=1), stores, clock)


async def test_a_chat_still_asking_stays_no_newcomer_across_a_restart(
    stores: Stores, clock: Clock
) -> None:
    first = budgets(stores, clock)
    for _ in range(3):
        assert await first.take(["chat:1"]) is None
    clock.advance(40_000)  # the service has 1 + 40/15 = 3.67 maps
    assert await first.take(["chat:2"]) is None
    assert await first.take(["chat:3"]) is None
    assert await first.take(["chat:1"]) == Refusal(pytest.approx(5.0), service=True)
    clock.advance(30_000)  # 70 s after its maps, 30 s after it asked again
    second = budgets(stores, clock)
    await second.load()
    assert await second.take(["chat:4"]) is None
    assert await second.take(["chat:5"]) is None, "newcomers down to the service's last map"
    assert await second.take(["chat:1"]) == Refusal(pytest.approx(5.0), service=True)
    assert await second.take(["chat:6"]) is None, "the reserve is for chats new this minute"
