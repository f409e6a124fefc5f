"""Map budgets per chat and per user: a burst is cut off with the time to wait, then refills."""

from __future__ import annotations

import pytest

from liqmap.policies.fair_use import FairUse

MIN = 60_000


def test_a_burst_gets_its_budget_then_the_wait_until_one_more() -> None:
    fair = FairUse(per_minute=6)
    assert [fair.take(["chat:1", "user:1"], 0) for _ in range(6)] == [None] * 6
    assert fair.take(["chat:1", "user:1"], 0) == pytest.approx(10.0), "one refills in 10 s"
    assert fair.take(["chat:1", "user:1"], 5_000) == pytest.approx(5.0)
    assert fair.take(["chat:1", "user:1"], 10_000) is None
    assert fair.take(["chat:1", "user:1"], 10_000) == pytest.approx(10.0)


def test_a_refusal_charges_nobody_and_other_chats_are_not_affected() -> None:
    fair = FairUse(per_minute=2)
    fair.take(["chat:1", "user:7"], 0)
    fair.take(["chat:1", "user:7"], 0)
    assert fair.take(["chat:2", "user:7"], 0) is not None, "the user is out of budget"
    assert fair.take(["chat:2", "user:8"], 0) is None, "the other user in chat 2 is not"
    assert fair.take(["chat:2", "user:9"], 0) is None
    assert fair.take(["chat:2", "user:10"], 0) is not None, "now chat 2 is out"


def test_the_budget_refills_to_its_size_and_no_further() -> None:
    fair = FairUse(per_minute=3)
    fair.take(["chat:1"], 0)
    granted = [fair.take(["chat:1"], 10 * MIN) for _ in range(4)]
    assert granted == [None, None, None, pytest.approx(20.0)]


def test_memory_stays_bounded_under_many_keys() -> None:
    from liqmap.policies import fair_use

    fair = FairUse(per_minute=5)
    for n in range(fair_use.MAX_KEYS + 50):
        fair.take([f"chat:{n}"], n * 1000)
    assert len(fair) <= fair_use.MAX_KEYS + 1
