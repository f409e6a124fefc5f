"""The scanner's weight budget: never more than its weight a minute, halved by a rate limit,
given back a tenth a quiet minute."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap.policies.weight_budget import MINUTE_MS, WeightBudget


def run_calls(budget: WeightBudget, weights: list[int], limited: set[int]) -> list[tuple[int, int]]:
    """Start each call as soon as the budget lets it; the ``limited`` ones are answered with a
    rate limit. The (start, weight) of each."""
    now, starts = 0, []
    for index, weight in enumerate(weights):
        now += budget.wait_ms(now, weight)
        starts.append((now, weight))
        budget.spent(now, weight)
        if index in limited:
            budget.rate_limited(now)
    return starts


def most_in_a_minute(starts: list[tuple[int, int]]) -> int:
    return max(sum(w for t, w in starts if s <= t < s + MINUTE_MS) for s, _ in starts)


def test_reads_of_weight_two_at_600_a_minute_start_200_ms_apart() -> None:
    starts = run_calls(WeightBudget(600), [2] * 5, set())
    assert [t for t, _ in starts] == [0, 200, 400, 600, 800]


@given(
    per_minute=st.integers(2, 1200),
    weights=st.lists(st.integers(1, 40), min_size=1, max_size=300),
    limited=st.sets(st.integers(0, 399), max_size=20),
)
def test_no_minute_holds_more_than_the_budget(
    per_minute: int, weights: list[int], limited: set[int]
) -> None:
    starts = run_calls(WeightBudget(per_minute), weights, limited)
    assert most_in_a_minute(starts) <= max(per_minute, max(weights))


def test_a_rate_limit_halves_the_pace_down_to_a_floor_and_quiet_minutes_give_it_back() -> None:
    budget = WeightBudget(600)
    budget.rate_limited(0)
    assert budget.rate == 300 and budget.slowed
    for _ in range(10):
        budget.rate_limited(0)
    assert budget.rate == 600 / 16, "never below a sixteenth"
    budget.spent(59_999, 2)
    assert budget.rate == 600 / 16, "not a whole quiet minute yet"
    budget.spent(3 * MINUTE_MS, 2)
    assert budget.rate == pytest.approx(600 / 16 + 3 * 60)
    budget.spent(60 * MINUTE_MS, 2)
    assert budget.rate == 600 and not budget.slowed


def test_reads_of_a_budget_not_a_multiple_of_their_weight_fit_in_it() -> None:
    starts = run_calls(WeightBudget(5), [2] * 6, set())
    assert most_in_a_minute(starts) == 4
    assert [t for t, _ in starts][:3] == [0, 24_000, 60_000]


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        WeightBudget(0)
