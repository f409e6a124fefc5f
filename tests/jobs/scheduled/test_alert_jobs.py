"""The alert jobs in one process: refresh maps, watch prices, deliver through the real PTB bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import asdict

import pytest
from sqlite_utils import Database

from jobs.scheduled.alert_timing import ALERT_TTL_MS
from jobs.scheduled.delivery import Delivery
from liqmap.engine.realized import Realized
from liqmap.market.timeframes import HOUR_MS
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from liqmap.signals.proximity import ALERT_WINDOW
from liqmap.signals.receipts import SETTLE_MS
from storage.liquidations import RealizedStore
from storage.snapshots import KEPT_MAPS
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.support.alert_world import ANN, BOB, BTC, World, captions

pytestmark = pytest.mark.fixed_clock


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


async def test_approach_alerts_once_with_chart_and_meaning(world: World) -> None:
    world.subscribe(ANN)
    assert await world.jobs.refresh() == 1
    cluster = world.target()
    world.price(cluster.high * 1.006)
    assert await world.jobs.watch() == 1
    report = await world.jobs.deliver()
    assert report.sent == 1
    (alert,) = world.tg.sent(ANN)
    assert alert["method"] == "sendPhoto" and alert["photo"][:4] == b"\x89PNG"
    text = alert["plain"]
    assert text.startswith("🔻 BTC-USDT-SWAP (okx) is near a dense LONG liquidation cluster")
    assert "0.60% away, falling toward it" in text or "0.60% away, near it" in text
    assert "Long liquidations below could accelerate a drop" in text
    assert alert["disable_notification"] in (None, False)
    # lingering, recomputing, lingering: no second alert
    world.price(cluster.high * 1.004)
    assert await world.jobs.watch() == 0
    await world.jobs.refresh()
    assert await world.jobs.watch() == 0
    assert (await world.jobs.deliver()).sent == 0
    assert len(world.tg.sent(ANN)) == 1


async def test_retreat_and_return_alerts_again_then_crossing_sweeps(world: World) -> None:
    world.subscribe(ANN)
    await world.jobs.refresh()
    cluster = world.target()
    for price, queued in ((1.006, 1), (1.03, 0), (1.006, 1)):
        world.price(cluster.high * price)
        assert await world.jobs.watch() == queued
    world.price(cluster.low * 0.995)
    assert await world.jobs.watch() >= 1  # the sweep, and maybe a cluster further down
    await world.jobs.deliver()
    texts = captions(world.tg, ANN)
    swept = [t for t in texts if t.startswith("💥 BTC-USDT-SWAP (okx) swept a dense LONG")]
    assert len(swept) == 1
    assert sum(t.startswith("🔻") for t in texts) in (2, 3)


def wild_mark(world: World, price: float) -> None:
    """OKX's mark-price endpoint answers once with ``price`` for BTC (the candles do not)."""
    import json

    from tests.fakes.http import Fault

    row = {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": f"{price:.1f}",
           "ts": str(world.clock())}  # fmt: skip
    body = json.dumps({"code": "0", "msg": "", "data": [row]})
    world.okx.inject(Fault(200, body, "application/json"), "/api/v5/public/mark-price")


async def test_one_wild_mark_price_raises_no_alert_not_even_a_sweep(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.subscribe(ANN, settings=ChatSettings(cooldown_minutes=30))
    await world.jobs.refresh()
    cluster = world.target()
    world.price(cluster.high * 1.006)
    assert await world.jobs.watch() == 1, "an approach: the cluster is now remembered"
    wild_mark(world, cluster.low * 0.5)  # half the market: would sweep it, past the cooldown
    assert await world.jobs.watch() == 0
    assert "held until confirmed" in caplog.text
    assert await world.jobs.watch() == 0, "the next tick is the market again"
    assert world.outbox.pending() == 1
    # a real fall of more than 5% shows on two ticks running: the second one counts
    world.price(cluster.low * 0.93)
    assert await world.jobs.watch() == 0
    assert await world.jobs.watch() >= 1
    await world.jobs.deliver()
    swept = [t for t in captions(world.tg, ANN) if t.startswith("💥 BTC-USDT-SWAP (okx) swept")]
    assert len(swept) == 1


async def test_fan_out_uploads_the_chart_once(world: World) -> None:
    for chat in range(2001, 2041):
        world.subscribe(chat)
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    assert await world.jobs.watch() == 40
    report = await world.jobs.deliver()
    assert report.sent == 40
    photos = world.tg.calls_of("sendPhoto", ok=True)
    assert len(photos) == 40
    assert sum(1 for call in photos if call["files"]) == 1, "one upload, 39 by file id"
    assert world.outbox.counts() == {"sent": 40}


async def test_quiet_hours_send_silently_and_weak_clusters_do_not_alert(world: World) -> None:
    world.subscribe(
        ANN, settings=ChatSettings(cooldown_minutes=0, quiet=QuietHours(11 * 60, 13 * 60))
    )
    world.subscribe(BOB, settings=ChatSettings(cooldown_minutes=0, min_strength=99))
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    assert await world.jobs.watch() == 1
    await world.jobs.deliver()
    assert world.tg.sent(ANN)[0]["disable_notification"] is True
    assert world.tg.sent(BOB) == []


async def test_telegram_failures_are_retried_and_nothing_is_lost(world: World) -> None:
    from tests.fakes.http import Fault

    world.subscribe(ANN)
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    await world.jobs.watch()
    world.tg.inject(Fault(502, "bad gateway"), world.tg.path("sendPhoto"), times=None)
    report = await world.jobs.deliver()
    assert (report.sent, report.retried) == (0, 1)
    assert world.outbox.pending() == 1
    world.tg.clear_faults()
    assert (await world.jobs.deliver()).sent == 0, "not before its retry time"
    world.clock.advance(10_000)
    world.tg.rate_limit(1, retry_after=1, method="sendPhoto")
    assert (await world.jobs.deliver()).sent == 1
    assert len(world.tg.sent(ANN)) == 1
    assert world.outbox.counts() == {"sent": 1}


async def test_a_retried_alert_waits_as_the_retry_policy_says(world: World) -> None:
    from bot.alert_sender import NETWORK_RETRY_S
    from jobs.scheduled.delivery import DELIVERY_RETRY
    from tests.fakes.http import Fault

    world.subscribe(ANN)
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    await world.jobs.watch()
    world.tg.inject(Fault(502, "bad gateway"), world.tg.path("sendPhoto"), times=None)
    waits = []
    for attempt in range(5):
        assert (await world.jobs.deliver()).retried == 1
        due = world.outbox.db.execute("SELECT next_attempt_at FROM outbox").fetchone()[0]
        wait = max(NETWORK_RETRY_S, DELIVERY_RETRY.delay(attempt))
        waits.append(wait)
        assert due == world.clock() + int(wait * 1000)
        world.clock.advance(due - world.clock())
    assert waits == [5, 5, 5, 8, 16], "a network fault waits 5 s at least, then the policy"


async def test_a_bug_while_sending_fails_the_alert_instead_of_retrying_it(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world.subscribe(ANN)
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    await world.jobs.watch()

    async def broken(*args: object) -> None:
        raise AttributeError("our mistake")

    monkeypatch.setattr(world.jobs.delivery.sender, "send", broken)
    report = await world.jobs.deliver()
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    assert world.outbox.counts() == {"failed": 1}
    assert "our mistake" in caplog.text and "Traceback" in caplog.text


async def test_blocked_chats_stop_and_moved_groups_follow(world: World) -> None:
    world.subscribe(ANN)
    world.subscribe(-4001)
    await world.jobs.refresh()
    world.tg.user_sends(-4001, "hello", title="traders")  # the fake learns the group
    world.tg.block(ANN, notify=False)
    world.tg.migrate_group(-4001, -1004001)
    world.price(world.target().high * 1.005)
    assert await world.jobs.watch() == 2
    report = await world.jobs.deliver()
    assert report.failed == 1 and report.retried == 1
    assert world.chats.get(ANN).active is False
    assert world.chats.get(-1004001) is not None
    assert (await world.jobs.deliver()).sent == 1
    assert len(world.tg.sent(-1004001)) == 1
    # the blocked chat is no longer watched
    assert world.chats.watched_instruments() == [BTC]
    assert [chat.id for chat, _ in world.chats.subscribers(BTC)] == [-1004001]


async def test_alerts_too_old_to_matter_expire_unsent(world: World) -> None:
    world.subscribe(ANN)
    await world.jobs.refresh()
    world.price(world.target().high * 1.005)
    await world.jobs.watch()
    world.clock.advance(ALERT_TTL_MS + 1)
    report = await world.jobs.deliver()
    assert (report.sent, report.expired) == (0, 1)
    assert world.tg.sent(ANN) == []


async def test_a_stale_map_raises_no_alerts(world: World) -> None:
    world.subscribe(ANN)
    await world.jobs.refresh()
    cluster = world.target()
    world.clock.advance(16 * 60_000)
    world.price(cluster.high * 1.005)
    assert await world.jobs.watch() == 0


async def test_refresh_spreads_instruments_survives_failures_and_prunes(world: World) -> None:
    for key in ("okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP", "okx:SOL-USDT-SWAP"):
        world.subscribe(ANN, key)
    await world.jobs.market.instrument("SOL")
    world.okx.instruments = [i for i in world.okx.instruments if i.inst_id != "ETH-USDT-SWAP"]
    assert await world.jobs.refresh() == 2, "ETH failing does not stop BTC and SOL"
    assert world.slept == pytest.approx([80.0, 160.0], abs=1.0)
    for _ in range(4):
        world.clock.advance(60_000)
        await world.jobs.refresh()
    counts = world.snapshots.db.execute(
        "SELECT instrument, count(*) FROM snapshots GROUP BY instrument"
    ).fetchall()
    assert dict(counts) == {"okx:BTC-USDT-SWAP": KEPT_MAPS, "okx:SOL-USDT-SWAP": KEPT_MAPS}


async def test_the_scheduler_never_runs_a_job_twice_at_once() -> None:
    from jobs.scheduled.scheduler import start_jobs

    class Slow:
        def __init__(self) -> None:
            self.running = self.most = self.runs = 0
            self.wake_delivery = lambda: None

        async def refresh(self) -> None:
            self.running += 1
            self.most = max(self.most, self.running)
            self.runs += 1
            await asyncio.sleep(0.3)
            self.running -= 1

        async def watch(self) -> None:
            self.wake_delivery()

        async def deliver(self) -> None:
            pass

        async def settle(self) -> None:
            pass

        async def digest(self) -> None:
            pass

        async def prune(self) -> None:
            pass

        async def scan(self) -> None:
            pass

        async def post_webhooks(self) -> None:
            pass

    slow = Slow()
    scheduler = start_jobs(slow, refresh_seconds=0.05, price_seconds=0.05)  # type: ignore[arg-type]
    prune = scheduler.get_job("prune")
    assert prune is not None and prune.trigger.interval.total_seconds() == 24 * 3600
    scan = scheduler.get_job("scan")
    assert scan is not None and scan.trigger.interval.total_seconds() == 600
    webhooks = scheduler.get_job("webhooks")
    assert webhooks is not None and webhooks.trigger.interval.total_seconds() == 1
    try:
        deadline = asyncio.get_running_loop().time() + 5
        while slow.runs < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
    finally:
        scheduler.shutdown(wait=False)
    assert slow.most == 1


async def test_one_exchange_down_leaves_the_others_watched(world: World) -> None:
    world.subscribe(ANN)
    world.subscribe(BOB, "bybit:BTCUSDT")
    assert await world.jobs.refresh() == 2
    world.bybit.stop()
    world.price(world.target().high * 1.005)
    assert await world.jobs.watch() == 1
    assert world.outbox.pending() == 1


async def test_an_alert_pending_for_a_chat_taken_off_the_allowlist_is_not_sent(
    db: Database, clock: Clock
) -> None:
    from liqmap.policies.access import Access
    from liqmap.signals.proximity import Alert

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[int] = []

        async def send(self, chat_id: int, alert: Alert, chart: object, *topic: object) -> None:
            self.sent.append(chat_id)

    everyone = Stores(db, clock)
    for chat in (ANN, BOB):
        everyone.chats.seen(chat, "private", None)
    alert = Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 1.0, 2.0, 3e6, 3.0, 2.5,
                  None, 0.5, False, "7d")  # fmt: skip
    for chat in (ANN, BOB):
        db.execute(
            "INSERT INTO outbox (chat_id, instrument, kind, text, payload, created_at, "
            "next_attempt_at) VALUES (?, ?, 'approach', 'x', ?, ?, ?)",
            [chat, BTC, json.dumps(asdict(alert)), clock(), clock()],
        )
    everyone.close()
    only_bob = Stores(db, clock, Access(allowed_chats=frozenset({BOB})))
    recorder = Recorder()
    report = await Delivery(only_bob, recorder, clock).run()
    only_bob.close()
    assert (report.sent, report.failed) == (1, 1)
    assert recorder.sent == [BOB]
    assert db.execute("SELECT error FROM outbox WHERE chat_id = ?", [ANN]).fetchone()[0] == (
        "chat not allowed"
    )


async def test_the_daily_prune_runs_in_the_database_thread_and_keeps_what_is_needed(
    world: World,
) -> None:
    world.subscribe(ANN)
    await world.jobs.refresh()
    world.clock.advance(40 * 24 * 3600_000)
    report = await world.jobs.prune()
    assert report.candles > 0 and report.open_interest > 0, "40 days later the cache is old"
    assert world.snapshots.latest(BTC, ALERT_WINDOW) is None, "a week-old map is gone"
    assert world.chats.subscriptions(ANN), "subscriptions are never pruned"


# -- sweep receipts ------------------------------------------------------------------------


async def swept(world: World) -> tuple[float, float]:
    """Walk price to the nearest long cluster, then through it; the cluster's range."""
    await world.jobs.refresh()
    cluster = world.target()
    world.price(cluster.high * 1.006)
    assert await world.jobs.watch() >= 1
    world.price(cluster.low * 0.995)
    assert await world.jobs.watch() >= 1
    return cluster.low, cluster.high


def record(stores: Stores, rows: list[Realized], start: int, end: int) -> None:
    RealizedStore(stores.db).record("okx", ["BTC-USDT-SWAP"], rows, (start, end))


async def test_a_sweep_gets_one_receipt_once_it_settles(world: World, stores: Stores) -> None:
    world.subscribe(ANN)
    start = world.clock()
    low, high = await swept(world)
    now = world.clock()
    in_band = Realized("okx", "BTC-USDT-SWAP", "long", (low + high) / 2, 1.0, 6e6, now)
    below = Realized("okx", "BTC-USDT-SWAP", "long", low * 0.99, 1.0, 1e6, now + 1)
    record(stores, [in_band, below], start - 3_600_000, now + SETTLE_MS)
    assert await world.jobs.settle() == 0, "not settled yet"
    world.clock.advance(SETTLE_MS)
    assert await world.jobs.settle() == 1
    assert await world.jobs.settle() == 0, "once"
    await world.jobs.deliver()
    (receipt,) = [t for t in captions(world.tg, ANN) if t.startswith("🧾")]
    assert receipt.startswith("🧾 BTC-USDT-SWAP (okx) LONG cluster")
    assert "recorded liquidations $6.0M in the sweep (okx; okx sampled)" in receipt
    assert "The band took 86% of the recorded long liquidations" in receipt
    assert "the map pointed at them" in receipt
    assert stores.sweeps.hit_rate(["okx:BTC-USDT-SWAP"]).hits == 1


async def test_unwatched_sweeps_say_so_and_quiet_hours_and_cooldown_hold(
    world: World, stores: Stores
) -> None:
    hour = (world.clock() // 3_600_000) % 24
    quiet = QuietHours(hour * 60, (hour + 2) % 24 * 60)
    world.subscribe(ANN, settings=ChatSettings(cooldown_minutes=0, quiet=quiet))
    world.subscribe(BOB, settings=ChatSettings(cooldown_minutes=60))
    await swept(world)
    world.clock.advance(SETTLE_MS)
    assert await world.jobs.settle() == 2
    await world.jobs.deliver()
    for chat in (ANN, BOB):
        (receipt,) = [t for t in captions(world.tg, chat) if t.startswith("🧾")]
        assert "the recorder was not watching then" in receipt
    silent = [m for m in world.tg.sent(ANN) if (m.get("plain") or "").startswith("🧾")]
    assert silent[0]["disable_notification"] is True
    # BOB's next sweep of the instrument within his hour of cooldown gets no receipt
    world.price(world.target().high * 1.3)
    await world.jobs.refresh()
    await swept(world)
    world.clock.advance(SETTLE_MS)
    await world.jobs.settle()
    await world.jobs.deliver()
    assert sum(t.startswith("🧾") for t in captions(world.tg, ANN)) == 2, "a second sweep"
    assert sum(t.startswith("🧾") for t in captions(world.tg, BOB)) == 1
    assert stores.sweeps.hit_rate(["okx:BTC-USDT-SWAP"]).judged == 0


async def test_a_muted_subscription_gets_no_alert_until_the_mute_ends(world: World) -> None:
    world.subscribe(ANN)
    world.subscribe(BOB)
    await world.jobs.refresh()
    cluster = world.target()
    world.chats.mute(ANN, BTC, world.clock() + HOUR_MS)
    world.price(cluster.high * 1.006)
    assert await world.jobs.watch() == 1, "BOB's alert only"
    await world.jobs.deliver()
    assert world.tg.sent(ANN) == []
    (alert,) = world.tg.sent(BOB)
    rows = alert["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == [f"sub|a||{BTC}", f"sub|o||{BTC}"]
    assert await world.jobs.watch() == 0, "no backlog of the muted alert either"
    world.clock.advance(HOUR_MS)
    await world.jobs.refresh()
    assert await world.jobs.watch() == 0, "that cluster was seen while muted"
    world.price(cluster.high * 1.03)
    assert await world.jobs.watch() == 0
    world.price(cluster.high * 1.006)
    assert await world.jobs.watch() == 2, "the mute is over: both chats again"
