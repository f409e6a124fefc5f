"""The one retry policy: growing capped pauses, only named faults retried, bugs surface."""

from __future__ import annotations

import itertools

import pytest

from liqmap.policies.retry import RetryPolicy, retry_call


def test_pauses_grow_to_a_cap_and_stop_after_the_attempts() -> None:
    policy = RetryPolicy(attempts=6, first_delay=0.5, factor=2.0, max_delay=3.0)
    assert list(policy.delays()) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [policy.delay(n) for n in (0, 1, 10)] == [0.5, 1.0, 3.0]
    endless = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=60.0)
    assert list(itertools.islice(endless.delays(), 8)) == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_a_transient_fault_is_retried_until_it_passes() -> None:
    answers = iter([ConnectionError("down"), ConnectionError("down"), "ok"])
    heard: list[tuple[str, float]] = []
    slept: list[float] = []

    async def call() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(delay: float) -> None:
        slept.append(delay)

    policy = RetryPolicy(attempts=5, first_delay=0.1, factor=3.0, max_delay=1.0)
    result = await retry_call(
        call, policy, (ConnectionError,), lambda e, d: heard.append((str(e), d)), sleep
    )
    assert result == "ok"
    assert slept == pytest.approx([0.1, 0.3])
    assert heard == [("down", 0.1), ("down", pytest.approx(0.3))]


async def test_the_last_transient_fault_is_raised_when_attempts_run_out() -> None:
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError(f"try {calls}")

    async def sleep(delay: float) -> None:
        pass

    with pytest.raises(TimeoutError, match="try 3"):
        await retry_call(call, RetryPolicy(attempts=3), (TimeoutError,), lambda e, d: None, sleep)
    assert calls == 3


async def test_anything_else_surfaces_at_once() -> None:
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("our own bug")

    with pytest.raises(KeyError):
        await retry_call(call, RetryPolicy(attempts=5), (ConnectionError,), lambda e, d: None)
    assert calls == 1
