"""Exchange calls by urgency, chats in turn: a burst from one chat never starves the others."""

from __future__ import annotations

import asyncio

import pytest

from liqmap.request_gate import CLAIM, Claim, RequestGate, Urgency


async def run_in_order(gate: RequestGate, claims: list[Claim]) -> list[Claim]:
    """Queue one call per claim behind a held slot; the order in which they ran."""
    ran: list[Claim] = []
    hold = asyncio.Event()

    async def call(claim: Claim) -> None:
        async with gate.slot(claim):
            ran.append(claim)

    async def holder() -> None:
        async with gate.slot(Claim(Urgency.PRICE, "holder")):
            await hold.wait()

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0)
    calls = [asyncio.create_task(call(claim)) for claim in claims]
    await asyncio.sleep(0)
    assert gate.waiting == len(claims)
    hold.set()
    await asyncio.gather(holding, *calls)
    return ran


def chat(n: int) -> Claim:
    return Claim(Urgency.ON_DEMAND, f"chat:{n}")


async def test_a_price_check_and_a_refresh_go_ahead_of_maps_asked_in_chat() -> None:
    price, refresh = Claim(Urgency.PRICE, "watch"), Claim(Urgency.REFRESH, "refresh")
    ran = await run_in_order(RequestGate(slots=1), [chat(1), chat(1), refresh, chat(2), price])
    assert ran[:2] == [price, refresh]


async def test_chats_take_turns_so_a_burst_does_not_queue_the_others_behind_it() -> None:
    burst = [chat(1)] * 20
    ran = await run_in_order(RequestGate(slots=1), [*burst, chat(2), chat(3)])
    assert ran.index(chat(2)) == 1 and ran.index(chat(3)) == 2


async def test_several_slots_run_at_once_and_a_cancelled_wait_gives_its_turn_away() -> None:
    gate = RequestGate(slots=2)
    inside, release = 0, asyncio.Event()
    most = 0

    async def call(claim: Claim) -> None:
        nonlocal inside, most
        async with gate.slot(claim):
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(call(chat(n))) for n in range(5)]
    await asyncio.sleep(0.01)
    assert (inside, gate.waiting) == (2, 3)
    tasks[3].cancel()
    await asyncio.sleep(0)
    assert gate.waiting == 2
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert most == 2 and gate.waiting == 0
    async with asyncio.timeout(1):  # every slot came back
        async with gate.slot(chat(9)), gate.slot(chat(9)):
            pass


async def test_the_tasks_claim_is_used_when_none_is_given() -> None:
    gate = RequestGate(slots=1)
    seen: list[Claim] = []

    async def hold() -> None:
        async with gate.slot():
            await asyncio.sleep(0.01)

    async def as_watch() -> None:
        CLAIM.set(Claim(Urgency.PRICE, "watch"))
        async with gate.slot():
            seen.append(Claim(Urgency.PRICE, "watch"))

    async def as_chat() -> None:
        CLAIM.set(chat(1))
        async with gate.slot():
            seen.append(chat(1))

    first = asyncio.create_task(hold())
    await asyncio.sleep(0)
    later = [asyncio.create_task(as_chat()), asyncio.create_task(as_watch())]
    await asyncio.gather(first, *later)
    assert seen == [Claim(Urgency.PRICE, "watch"), chat(1)]


@pytest.mark.parametrize("slots", [1, 3])
async def test_many_concurrent_calls_all_finish(slots: int) -> None:
    gate = RequestGate(slots=slots)
    done = 0

    async def call(n: int) -> None:
        nonlocal done
        async with gate.slot(Claim(Urgency(n % 3), f"o{n % 7}")):
            await asyncio.sleep(0)
            done += 1

    await asyncio.gather(*(call(n) for n in range(500)))
    assert done == 500 and gate.waiting == 0
