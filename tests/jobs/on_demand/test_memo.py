"""The on-demand services' memory: made once however many ask, kept while fresh, bounded."""

from __future__ import annotations

import asyncio

import pytest

from jobs.on_demand.memo import Memo


class Maker:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        return self.calls


async def test_callers_share_one_making_then_the_fresh_value() -> None:
    now = [0]
    memo: Memo[str, int] = Memo(fresh_ms=100, clock=lambda: now[0], keep=2)
    make = Maker()
    waiting = [asyncio.ensure_future(memo.get("a", make)) for _ in range(5)]
    await asyncio.sleep(0)
    make.release.set()
    assert await asyncio.gather(*waiting) == [1] * 5 and make.calls == 1
    now[0] = 99
    assert not memo.would_make("a") and await memo.get("a", make) == 1
    now[0] = 100
    assert memo.would_make("a") and await memo.get("a", make) == 2


async def test_the_oldest_goes_past_keep_and_replace_spares_a_newer_value() -> None:
    memo: Memo[str, list] = Memo(fresh_ms=1_000, clock=lambda: 0, keep=2)

    async def fresh_list() -> list:
        return []

    first = await memo.get("a", fresh_list)
    await memo.get("b", fresh_list)
    await memo.get("a", fresh_list)  # a is used again: b is now the oldest
    await memo.get("c", fresh_list)
    assert memo.last("b") is None and memo.last("a") is first
    memo.replace("a", [], ["other"])
    assert memo.last("a") is first, "only the very value replaced is swapped"
    memo.replace("a", first, ["file id"])
    assert memo.last("a") == ["file id"] and not memo.would_make("a")


async def test_an_error_reaches_everyone_waiting_and_nothing_is_kept() -> None:
    memo: Memo[str, int] = Memo(fresh_ms=1_000, clock=lambda: 0, keep=2)

    async def failing() -> int:
        await asyncio.sleep(0)
        raise RuntimeError("exchange down")

    results = await asyncio.gather(
        memo.get("a", failing), memo.get("a", failing), return_exceptions=True
    )
    assert [str(r) for r in results] == ["exchange down"] * 2
    assert memo.last("a") is None and memo.would_make("a")
    with pytest.raises(RuntimeError):
        await memo.get("a", failing)
