"""Exchange calls by urgency, chats in turn: a burst from one chat never starves the others."""

from __future__ import annotations

import asyncio
import itertools

from liqmap.policies.request_gate import CLAIM, Claim, RequestGate, Urgency

PACE = 0.002


def chat(n: int) -> Claim:
    return Claim(Urgency.ON_DEMAND, f"chat:{n}")


async def started_order(gate: RequestGate, claims: list[Claim]) -> list[Claim]:
    """Ask for a turn once per claim, all at once after one call just started: the order in
    which they were let start."""
    started: list[Claim] = []
    await gate.turn(Claim(Urgency.PRICE, "first"))

    async def call(claim: Claim) -> None:
        await gate.turn(claim)
        started.append(claim)

    calls = [asyncio.create_task(call(claim)) for claim in claims]
    await asyncio.sleep(0)
    assert gate.waiting == len(claims)
    await asyncio.gather(*calls)
    return started


async def test_a_price_check_and_a_refresh_go_ahead_of_maps_asked_in_chat() -> None:
    price, refresh = Claim(Urgency.PRICE, "watch"), Claim(Urgency.REFRESH, "refresh")
    started = await started_order(RequestGate(PACE), [chat(1), chat(1), refresh, chat(2), price])
    assert started[:2] == [price, refresh]


async def test_chats_take_turns_so_a_burst_does_not_queue_the_others_behind_it() -> None:
    started = await started_order(RequestGate(PACE), [*[chat(1)] * 20, chat(2), chat(3)])
    assert started.index(chat(2)) == 1 and started.index(chat(3)) == 2


async def test_calls_start_no_faster_than_the_pace() -> None:
    gate = RequestGate(0.05)
    loop = asyncio.get_running_loop()
    starts = []
    for _ in range(4):
        await gate.turn()
        starts.append(loop.time())
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 0.05 - 0.002


async def test_a_cancelled_wait_gives_its_turn_away() -> None:
    gate = RequestGate(PACE)
    await gate.turn()
    first, second = asyncio.create_task(gate.turn(chat(1))), asyncio.create_task(gate.turn(chat(2)))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.wait_for(second, 1)
    assert first.cancelled() and gate.waiting == 0


async def test_the_tasks_claim_is_used_when_none_is_given() -> None:
    gate = RequestGate(PACE)
    started: list[str] = []
    await gate.turn()

    async def as_owner(claim: Claim, name: str) -> None:
        CLAIM.set(claim)
        await gate.turn()
        started.append(name)

    await asyncio.gather(
        as_owner(chat(1), "chat"), as_owner(Claim(Urgency.PRICE, "watch"), "watch")
    )
    assert started == ["watch", "chat"]


async def test_many_concurrent_calls_all_start() -> None:
    gate = RequestGate(0.0)
    done = 0

    async def call(n: int) -> None:
        nonlocal done
        await gate.turn(Claim(Urgency(n % 3), f"o{n % 7}"))
        done += 1

    await asyncio.gather(*(call(n) for n in range(500)))
    assert done == 500 and gate.waiting == 0


async def test_the_scanner_starts_only_when_no_other_call_waits() -> None:
    scan, map_ = Claim(Urgency.SCAN, "scanner"), chat(1)
    price, refresh = Claim(Urgency.PRICE, "watch"), Claim(Urgency.REFRESH, "refresh")
    started = await started_order(RequestGate(PACE), [scan, scan, map_, refresh, price])
    assert started == [price, refresh, map_, scan, scan]


async def test_a_call_keeps_the_next_waiting_for_its_weight() -> None:
    gate = RequestGate(0.01)
    loop = asyncio.get_running_loop()
    await gate.turn(weight=20)  # a weight-20 request: the next waits 20 units
    heavy = loop.time()
    await gate.turn(weight=2)  # a weight-2 read: the next waits 2 units
    light = loop.time()
    await gate.turn()
    after_light = loop.time()
    assert light - heavy >= 20 * 0.01 - 0.002
    assert after_light - light >= 2 * 0.01 - 0.002


async def test_a_waiting_call_keeps_its_weight_when_it_starts_later() -> None:
    gate = RequestGate(0.01)
    loop = asyncio.get_running_loop()
    await gate.turn()
    waiters = [asyncio.create_task(gate.turn(Claim(Urgency.SCAN, "scanner"), 5)) for _ in range(2)]
    await waiters[0]
    first = loop.time()
    await waiters[1]
    assert loop.time() - first >= 5 * 0.01 - 0.002
