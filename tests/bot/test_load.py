"""Many chats at once against the real bot and its alert jobs: nothing dropped, nothing broken.

A small version of ``python -m benchmarks.load``: 40 chats send 300 mixed commands (maps,
clusters, subscriptions, settings, presses of the buttons on maps they got, and bad input;
150 at CI size, see ``tests/conftest.py``) while the scheduler watches prices and a price move
must reach a subscriber once. Only behaviour is asserted; the figures are printed
(``pytest -s``) but never compared.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlite_utils import Database

import bot.handlers.maps
from jobs.scheduled.scheduler import start_jobs
from liqmap.charts.map_chart import render_png
from liqmap.config import Settings
from liqmap.engine.snapshot import MapSnapshot
from liqmap.signals.proximity import ALERT_WINDOW
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ADMIN_GROUP, say, serving, wait_until
from tests.support.chat_load import ChatLoad, LoopLag, percentile
from tests.support.size import sized

pytestmark = pytest.mark.slow

BTC = "okx:BTC-USDT-SWAP"
MARKS = "/api/v5/public/mark-price"
WATCHER = 7001
"""The chat subscribed before the load whose alert is followed."""
LOAD_CHATS = range(30_001, 30_041)
COMMANDS, SPREAD_S = sized((150, 4.0), (300, 8.0))
"""The load: as many commands over as many seconds (half as many in half the time at CI size:
the same rate, and every kind of command, refusal and button press still comes)."""


def near_a_dense_cluster(snapshot: MapSnapshot, within_pct: float) -> float:
    """A price ``within_pct``/2 outside the nearest cluster dense enough to alert."""
    strong = [c for c in snapshot.clusters if c.strength >= 2.0]
    target = min(strong, key=lambda c: abs(c.distance_pct))
    step = within_pct / 200
    return target.high * (1 + step) if target.side == "long" else target.low * (1 - step)


def alerts(tg: FakeTelegram, chat: int) -> list[dict]:
    return [m for m in tg.sent(chat) if "liquidation cluster" in (m["plain"] or "")]


async def test_forty_chats_send_a_load_of_commands_all_are_answered_and_an_alert_arrives_once(
    tg: FakeTelegram, okx: FakeOkx, settings: Settings, db: Database
) -> None:
    # small budgets, so the fair-use answers happen under load too
    rules = replace(settings, maps_per_minute=1, max_subscriptions=1)
    async with serving(rules, db) as service:
        core, jobs = service.core, service.jobs
        await say(tg, WATCHER, "/settings cooldown 0")
        await say(tg, WATCHER, "/subscribe BTC 0.5")
        assert await jobs.refresh() == 1
        assert await jobs.watch() == 0, "price starts away from every dense cluster"
        near = near_a_dense_cluster(core.stores.snapshots.latest(BTC, ALERT_WINDOW).snapshot, 0.5)

        scheduler = start_jobs(jobs, rules.refresh_seconds, price_seconds=0.2)
        lag = LoopLag()
        ticking = asyncio.create_task(lag.run())
        load = ChatLoad(tg, LOAD_CHATS, commands=COMMANDS, seconds=SPREAD_S, seed=11)
        try:
            load.begin()
            while len(load.sent) < COMMANDS // 2:  # halfway through, the price moves
                load.step()
                await asyncio.sleep(0.005)
            okx.tape("BTC-USDT-SWAP").set_price(near)
            await load.run(within=120)
            await wait_until(lambda: bool(alerts(tg, WATCHER)), within=30)
            checks = okx.count(MARKS)
            await wait_until(lambda: okx.count(MARKS) >= checks + 3, within=30)
            await wait_until(lambda: core.stores.outbox.pending() == 0, within=30)
        finally:
            scheduler.shutdown(wait=False)
            ticking.cancel()

    outcomes = load.outcomes()
    times = load.answer_times()
    print(
        f"\n{len(load.sent)} commands from {len(LOAD_CHATS)} chats: {dict(outcomes)}; answer "
        f"p50 {percentile(times, 0.5):.3f} s, p95 {percentile(times, 0.95):.3f} s, max "
        f"{max(times):.3f} s; longest loop stall {lag.worst * 1000:.0f} ms; "
        f"{len(load.alerts)} alerts to the load's subscribers; "
        f"{dict(Counter(c.kind for c in load.sent))}"
    )
    assert len(load.sent) == COMMANDS
    assert outcomes["answered"] + outcomes["refused"] == COMMANDS, [
        c for c in load.sent if c.outcome not in ("answered", "refused")
    ]
    assert load.stray == [], "an answer no command was waiting for"
    assert load.unexpected_failures() == []
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == [], "no error reached the admins"
    assert len(alerts(tg, WATCHER)) == 1


FLOODER, BYSTANDER = 1001, 1002
FLOOD = 150


async def test_a_flood_from_one_chat_holds_up_neither_another_chat_nor_an_alert(
    tg: FakeTelegram, okx: FakeOkx, settings: Settings, db: Database
) -> None:
    """Telegram takes about 30 messages a second from the bot: 150 commands at once from one
    chat take five seconds to answer. Another chat's answer and an alert do not wait for
    them: the alert goes first, and chats take turns."""
    async with serving(settings, db) as service:
        jobs = service.jobs
        await say(tg, WATCHER, "/settings cooldown 0")
        await say(tg, WATCHER, "/subscribe BTC 0.5")
        assert await jobs.refresh() == 1
        assert await jobs.watch() == 0
        near = near_a_dense_cluster(
            service.core.stores.snapshots.latest(BTC, ALERT_WINDOW).snapshot, 0.5
        )
        for _ in range(FLOOD):
            tg.user_sends(FLOODER, "/help")
        await tg.wait_for_sent(FLOODER, 3)  # the flood is being answered
        tg.user_sends(BYSTANDER, "/help")
        okx.tape("BTC-USDT-SWAP").set_price(near)
        assert await jobs.watch() == 1
        assert (await jobs.deliver()).sent == 1
        await tg.wait_for_sent(BYSTANDER, 1)
        await tg.wait_for_sent(FLOODER, FLOOD, timeout=60)  # all of it answered, in the end

    order = [
        c["params"]["chat_id"] for c in tg.calls if c["method"] in ("sendMessage", "sendPhoto")
    ]
    assert order.count(FLOODER) == FLOOD
    before_other = order[: order.index(BYSTANDER)].count(FLOODER)
    before_alert = order[: len(order) - order[::-1].index(WATCHER)].count(FLOODER)
    print(f"\nof {FLOOD} answers to the flood, {before_other} came before the other chat's "
          f"answer and {before_alert} before the alert")  # fmt: skip
    assert before_other < FLOOD // 3, "the other chat waited for the flood"
    assert before_alert < FLOOD // 3, "the alert waited for the flood"


async def test_an_alert_chart_does_not_wait_for_the_map_charts_chats_asked_for(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load the threads that draw the maps chats ask for are all busy (here: held until
    the alert is in); the alert's chart is drawn anyway."""
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-pool")
    asyncio.get_running_loop().set_default_executor(pool)
    release = threading.Event()
    drawing: list[object] = []

    def slow(*args: object, **kwargs: object) -> bytes:
        drawing.append(args)
        release.wait(timeout=30)
        return render_png(*args, **kwargs)

    monkeypatch.setattr(bot.handlers.maps, "render_png", slow)
    asks = ["ETH 1d", "SOL 1d", "BTC 1d", "ETH 30d", "SOL 30d", "BTC-USD-SWAP 1d"]
    askers = range(2001, 2001 + len(asks))
    async with serving(settings, db) as service:
        jobs = service.jobs
        try:
            await say(tg, WATCHER, "/settings cooldown 0")
            await say(tg, WATCHER, "/subscribe BTC 0.5")
            assert await jobs.refresh() == 1
            assert await jobs.watch() == 0
            near = near_a_dense_cluster(
                service.core.stores.snapshots.latest(BTC, ALERT_WINDOW).snapshot, 0.5
            )
            for chat, ask in zip(askers, asks, strict=True):
                tg.user_sends(chat, f"/map {ask}")
            await wait_until(lambda: len(drawing) == 4, within=30)  # every thread is drawing
            okx.tape("BTC-USDT-SWAP").set_price(near)
            assert await jobs.watch() == 1
            assert (await asyncio.wait_for(jobs.deliver(), timeout=20)).sent == 1
            assert len(alerts(tg, WATCHER)) == 1
            assert not any(tg.sent(chat) for chat in askers), "the maps are still being drawn"
        finally:
            release.set()
        for chat in askers:
            (photo,) = await tg.wait_for_sent(chat, 1, timeout=30)
            assert photo["method"] == "sendPhoto"
