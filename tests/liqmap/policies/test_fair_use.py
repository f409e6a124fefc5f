"""Map budgets per chat, per user and for the whole service: a burst is cut off with the time
to wait, then refills; a flood of a few chats leaves the service's reserve to the others."""

from __future__ import annotations

import pytest

from liqmap.policies.fair_use import SERVICE, Bucket, FairUse, Refusal

MIN = 60_000
ROOMY = 10_000
"""A service-wide budget no test of the per-key budgets reaches."""


def test_a_burst_gets_its_budget_then_the_wait_until_one_more() -> None:
    fair = FairUse(per_minute=6, total_per_minute=ROOMY)
    assert [fair.take(["chat:1", "user:1"], 0) for _ in range(6)] == [None] * 6
    assert fair.take(["chat:1", "user:1"], 0) == Refusal(pytest.approx(10.0), service=False)
    assert fair.take(["chat:1", "user:1"], 5_000) == Refusal(pytest.approx(5.0), service=False)
    assert fair.take(["chat:1", "user:1"], 10_000) is None
    assert fair.take(["chat:1", "user:1"], 10_000) == Refusal(pytest.approx(10.0), service=False)


def test_a_refusal_charges_nobody_and_other_chats_are_not_affected() -> None:
    fair = FairUse(per_minute=2, total_per_minute=ROOMY)
    fair.take(["chat:1", "user:7"], 0)
    fair.take(["chat:1", "user:7"], 0)
    assert fair.take(["chat:2", "user:7"], 0) is not None, "the user is out of budget"
    assert fair.take(["chat:2", "user:8"], 0) is None, "the other user in chat 2 is not"
    assert fair.take(["chat:2", "user:9"], 0) is None
    assert fair.take(["chat:2", "user:10"], 0) is not None, "now chat 2 is out"


def test_the_budget_refills_to_its_size_and_no_further() -> None:
    fair = FairUse(per_minute=3, total_per_minute=ROOMY)
    fair.take(["chat:1"], 0)
    granted = [fair.take(["chat:1"], 10 * MIN) for _ in range(4)]
    assert granted == [None, None, None, Refusal(pytest.approx(20.0), service=False)]


def test_memory_stays_bounded_under_many_keys() -> None:
    from liqmap.policies import fair_use

    fair = FairUse(per_minute=5, total_per_minute=ROOMY)
    for n in range(fair_use.MAX_KEYS + 50):
        fair.take([f"chat:{n}"], n * 1000)
    assert len(fair) <= fair_use.MAX_KEYS + 2


# -- the service-wide budget -------------------------------------------------------------------


def test_past_the_service_budget_every_chat_is_told_when_to_try_again() -> None:
    fair = FairUse(per_minute=6, total_per_minute=12, reserve=0)
    for n in range(12):
        assert fair.take([f"chat:{n % 4}"], 0) is None
    assert fair.take(["chat:0"], 0) == Refusal(pytest.approx(5.0), service=True), "12 a minute"
    assert fair.take(["chat:1"], 0) == Refusal(pytest.approx(5.0), service=True)
    assert fair.take(["chat:2"], 0) == Refusal(pytest.approx(5.0), service=True)
    assert fair.take(["chat:2"], 4_999) is not None
    assert fair.take(["chat:2"], 5_000) is None, "one map refilled 5 s later"
    assert fair.take(["chat:3"], 5_000) is not None, "and taken"


def test_the_service_budget_is_a_minute_window_refilled_evenly() -> None:
    fair = FairUse(per_minute=100, total_per_minute=6, reserve=0)
    assert [fair.take(["chat:1"], 0) for _ in range(7)][-1] == Refusal(10.0, service=True)
    assert [fair.take(["chat:1"], 30_000) for _ in range(4)] == [
        None,
        None,
        None,
        Refusal(pytest.approx(10.0), service=True),
    ]
    granted = [fair.take(["chat:1"], 10 * MIN) for _ in range(7)]
    assert granted.count(None) == 6, "a quiet spell refills a minute's worth, no more"


def test_a_flood_leaves_the_reserve_to_chats_that_asked_for_no_map_this_minute() -> None:
    fair = FairUse(per_minute=6, total_per_minute=20, reserve=5)
    flooders = [[f"chat:{n}", f"user:{n}"] for n in range(10)]
    now = 2 * MIN
    tries = [(keys, t) for t in range(0, now + 1, 1000) for keys in flooders]  # each every 1 s
    granted = sum(fair.take(keys, t) is None for keys, t in tries)
    assert granted == 20 + 40 - 5, "all at once, then 20 a minute, all but the reserve of 5"
    refused = fair.take(flooders[9], now)  # the last in each round: its own budget is full
    assert refused is not None and refused.service and 0 < refused.seconds <= 3.0
    assert fair.take(["chat:99", "user:99"], now) is None, "an innocent chat is served at once"
    assert fair.take(["chat:99", "user:99"], now) is not None, "one from the reserve a minute"
    assert fair.take(["chat:98", "user:98"], now) is None, "the next innocent chat too"
    assert fair.take(["chat:97", "user:7"], now) is not None, "a flooder in another chat is not"
    assert fair.take(["chat:99", "user:99"], now + MIN) is None, "a minute on, it is new again"


def test_a_newcomer_refused_for_an_empty_reserve_is_served_when_told() -> None:
    fair = FairUse(per_minute=6, total_per_minute=4, reserve=1)
    for _ in range(3):
        assert fair.take(["chat:1"], 0) is None
    assert fair.take(["chat:1"], 0) == Refusal(pytest.approx(15.0), service=True)
    assert fair.take(["chat:2"], 0) is None, "from the reserve"
    assert fair.take(["chat:3"], 0) == Refusal(pytest.approx(15.0), service=True)
    assert fair.take(["chat:1"], 15_000) == Refusal(pytest.approx(15.0), service=True)
    assert fair.take(["chat:3"], 15_000) is None, "still a newcomer, served when told"


def test_the_reserve_is_a_quarter_of_the_service_budget_by_default() -> None:
    assert FairUse(per_minute=6, total_per_minute=10).reserve == 2
    assert FairUse(per_minute=6, total_per_minute=3).reserve == 0


def test_a_chat_short_of_its_own_budget_is_told_about_its_own() -> None:
    fair = FairUse(per_minute=1, total_per_minute=1, reserve=0)
    fair.take(["chat:1"], 0)
    assert fair.take(["chat:1"], 0) == Refusal(pytest.approx(60.0), service=False)
    assert fair.take(["chat:2"], 0) == Refusal(pytest.approx(60.0), service=True)


# -- kept across restarts ----------------------------------------------------------------------


def test_restored_buckets_carry_on_where_they_were() -> None:
    before = FairUse(per_minute=2, total_per_minute=3, reserve=0)
    before.take(["chat:1", "user:1"], 0)
    before.take(["chat:1", "user:1"], 0)
    before.take(["chat:2"], 0)
    saved = before.buckets(["chat:1", "user:1", "chat:2"])
    assert Bucket(SERVICE, 0.0, 0) in saved
    after = FairUse(per_minute=2, total_per_minute=3, reserve=0)
    after.restore(saved)
    assert after.take(["chat:1"], 1_000) == Refusal(pytest.approx(29.0), service=False)
    assert after.take(["chat:3"], 1_000) == Refusal(pytest.approx(19.0), service=True)
    assert after.take(["chat:3"], 20_000) is None
