"""Time zones in the jobs: the daily digest, once per local day, and local quiet hours."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram.ext import AIORateLimiter, ExtBot

from bot.alert_sender import TelegramAlertSender
from jobs.on_demand.maps import MapService
from jobs.scheduled.alert_jobs import AlertJobs
from jobs.scheduled.delivery import Delivery
from liqmap.engine.clusters import Cluster
from liqmap.exchanges.market_data import MarketData
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.fast import FAST_CCXT, FAST_RETRY

pytestmark = pytest.mark.fixed_clock
ANN, BOB, CAROL = 1001, 1002, 1003
BTC = "okx:BTC-USDT-SWAP"
HOUR = 3_600_000


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def jobs(
    okx: FakeOkx, tg: FakeTelegram, stores: Stores, clock: Clock
) -> AsyncIterator[AlertJobs]:
    bot = ExtBot(tg.token, base_url=tg.base_url, rate_limiter=AIORateLimiter(max_retries=3))
    async with bot, MarketData(urls={"okx": okx.url}, clock=clock, retry=FAST_RETRY,
                               ccxt_config=FAST_CCXT) as market:  # fmt: skip
        maps = MapService(market, stores, 300_000, clock)
        delivery = Delivery(stores, TelegramAlertSender(bot), clock)
        yield AlertJobs(market, stores, maps, delivery, clock, refresh_seconds=300)


def follow(stores: Stores, chat: int, settings: ChatSettings) -> None:
    stores.chats.seen(chat, "private", None)
    stores.chats.save_settings(chat, settings)
    stores.chats.subscribe(chat, BTC, None)


def nearest_long(stores: Stores) -> Cluster:
    """The nearest long cluster strong enough for the default settings."""
    clusters = stores.snapshots.latest(BTC, "7d").snapshot.clusters
    strong = [c for c in clusters if c.side == "long" and c.strength >= 2.0]
    return min(strong, key=lambda c: abs(c.distance_pct))


def digests(tg: FakeTelegram, chat: int) -> list[dict]:
    return [m for m in tg.sent(chat) if (m.get("plain") or "").startswith("☀️")]


async def test_one_digest_per_local_day_at_its_local_time(
    jobs: AlertJobs, stores: Stores, tg: FakeTelegram, clock: Clock, okx: FakeOkx
) -> None:
    # the clock starts at 12:00 UTC: 21:00 in Tokyo, 13:00 in Berlin
    tokyo = ChatSettings(cooldown_minutes=0, tz="Asia/Tokyo", digest_at=8 * 60)
    follow(stores, ANN, tokyo)
    night = QuietHours(7 * 60, 9 * 60)
    follow(stores, BOB, ChatSettings(tz="Europe/Berlin", digest_at=13 * 60 + 30, quiet=night))
    follow(stores, BOB + 1, ChatSettings(tz="Europe/Berlin", quiet=night))  # digest off
    follow(stores, CAROL, ChatSettings(tz="Europe/Berlin", digest_at=13 * 60 + 30))
    await jobs.refresh()
    cluster = nearest_long(stores)
    okx.tape("BTC-USDT-SWAP").set_price(cluster.high * 1.005)
    await jobs.watch()
    okx.tape("BTC-USDT-SWAP").set_price(cluster.low * 0.995)
    await jobs.watch()
    await jobs.deliver()
    approaches = stores.db.execute(
        "SELECT count(*) FROM outbox WHERE chat_id = ? AND kind = 'approach'", [ANN]
    ).fetchone()[0]
    assert approaches >= 1 and len(tg.sent(ANN)) == approaches + 1, "approaches, a sweep"

    assert await jobs.digest() == 0, "21:00 in Tokyo is past 08:00 by more than the grace"
    clock.advance(30 * 60_000)  # 13:30 in Berlin
    stores.chats.save_settings(CAROL, ChatSettings(tz="Europe/Berlin"))  # turned off
    assert await jobs.digest() == 1
    assert await jobs.digest() == 0, "a second run queues nothing"
    await jobs.deliver()
    (bob,) = digests(tg, BOB)
    assert "Daily digest · 2026-11-25 13:30 CET" in bob["plain"]
    assert bob["disable_notification"] in (None, False)
    assert digests(tg, BOB + 1) == [] and digests(tg, CAROL) == []

    clock.advance(11 * HOUR)  # 08:30 in Tokyo
    assert await jobs.digest() == 1
    await jobs.deliver()
    (ann,) = digests(tg, ANN)
    text = ann["plain"]
    assert "Daily digest · 2026-11-26 08:30 JST" in text
    assert "BTC-USDT-SWAP (okx) · price" in text and "🟢 Longs " in text
    assert f"Last 24 h: {approaches} alert" in text
    assert "💥 BTC-USDT-SWAP LONG " in text and " swept" in text

    clock.advance(HOUR)
    assert await jobs.digest() == 0
    await jobs.deliver()
    assert len(digests(tg, ANN)) == 1 and len(digests(tg, BOB)) == 1

    clock.advance(7 * HOUR)  # 08:30 in Berlin the next day: inside BOB's quiet hours
    stores.chats.save_settings(BOB, ChatSettings(tz="Europe/Berlin", digest_at=8 * 60,
                                                 quiet=night))  # fmt: skip
    assert await jobs.digest() == 1
    await jobs.deliver()
    assert digests(tg, BOB)[-1]["disable_notification"] is True


async def test_alerts_are_silent_in_local_night_hours(
    jobs: AlertJobs, stores: Stores, tg: FakeTelegram, okx: FakeOkx
) -> None:
    night = QuietHours(22 * 60, 7 * 60)  # 12:00 UTC is 21:00 in Tokyo, 01:00 in Auckland
    follow(stores, ANN, ChatSettings(cooldown_minutes=0, quiet=night, tz="Pacific/Auckland"))
    follow(stores, BOB, ChatSettings(cooldown_minutes=0, quiet=night, tz="Asia/Tokyo"))
    await jobs.refresh()
    cluster = nearest_long(stores)
    okx.tape("BTC-USDT-SWAP").set_price(cluster.high * 1.005)
    assert await jobs.watch() == 2
    await jobs.deliver()
    assert tg.sent(ANN)[0]["disable_notification"] is True
    assert tg.sent(BOB)[0]["disable_notification"] in (None, False)
