"""Faults outside the service: it keeps running, recovers by itself, and no alert is lost or sent
twice.

Each test arms the alert pipeline (a chat subscribed, the map computed, price away from every
dense cluster), breaks something at the step that matters (the exchange hanging or gone,
Telegram failing or timing out, a full disk), moves the price into a cluster, then mends it:
exactly one alert reaches the chat. Time is the ``clock`` fixture's; the jobs are run by the
test, so a retry delay is waited out by moving the clock, never by sleeping.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlite_utils import Database
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.alert_sender import TelegramAlertSender
from liqmap.config import Settings
from liqmap.engine.clusters import Cluster
from liqmap.signals.proximity import ALERT_WINDOW
from tests.fakes.clock import Clock
from tests.fakes.http import FakeServer, Fault
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram, api_error
from tests.support.bot_harness import (
    ADMIN,
    ANN,
    BOB,
    Service,
    idle,
    say,
    serving,
    wait_until,
    words,
)

pytestmark = [pytest.mark.fixed_clock, pytest.mark.slow]

BTC = "okx:BTC-USDT-SWAP"
EXCHANGE_TIMEOUT_S = 0.4
QUICK_TIMEOUTS = {"rateLimit": 1, "timeout": int(EXCHANGE_TIMEOUT_S * 1000), "timeout_on_exit": 0}
"""ccxt gives up on a request after 0.4 s (production: 10 s). Each request is tried four times
(``FAST_RETRY``), so an answer a busy machine slowed down is not taken for a hang."""
TELEGRAM_TIMEOUT_S = 2.0
"""The quick bot gives Telegram 2 s (python-telegram-bot's default: 5 s). A delivery tries
once, so the limit is one a healthy answer never reaches, however busy the machine."""
HANG_S = 10.0
"""Far longer than every timeout here: an answer that never comes in time, however late a busy
machine fires the timers."""
MINUTE = 60_000


async def armed(tg: FakeTelegram, service: Service, chat: int = ANN) -> Cluster:
    """``chat`` follows BTC within 0.5% with no cooldown; the 7d map is computed and price is
    away from every dense cluster. The nearest cluster dense enough to alert."""
    await say(tg, chat, "/settings cooldown 0")
    await say(tg, chat, "/subscribe BTC 0.5")
    assert await service.jobs.refresh() == 1
    assert await service.jobs.watch() == 0, "price starts away from every dense cluster"
    return target(service)


def target(service: Service) -> Cluster:
    stored = service.core.stores.snapshots.latest(BTC, ALERT_WINDOW)
    strong = [c for c in stored.snapshot.clusters if c.strength >= 2.0]
    return min(strong, key=lambda c: abs(c.distance_pct))


def into(okx: FakeOkx, cluster: Cluster | dict) -> None:
    """Trade 0.3% outside ``cluster``: within a 0.5% subscription of it."""
    side, low, high = (
        (cluster[k] for k in ("side", "low", "high"))
        if isinstance(cluster, dict)
        else (cluster.side, cluster.low, cluster.high)
    )
    okx.tape("BTC-USDT-SWAP").set_price(high * 1.003 if side == "long" else low * 0.997)


def alerts(tg: FakeTelegram, chat: int = ANN) -> list[dict]:
    return [m for m in tg.sent(chat) if "liquidation cluster" in (m["plain"] or "")]


def gone(server: FakeServer) -> int:
    """The server disappears: new connections are refused, kept-alive ones are cut. Its port,
    to come back on."""
    port = server.port
    server.inject(Fault(disconnect=True), "", times=None)
    server.stop()
    return port


def back(server: FakeServer, port: int) -> None:
    server.clear_faults()
    server.start(port)


# -- the exchange -------------------------------------------------------------------------------


async def test_an_exchange_hanging_past_its_timeout_is_waited_out_and_the_alert_comes_once(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving(settings, db, clock, ccxt_config=QUICK_TIMEOUTS) as service:
        cluster = await armed(tg, service)
        okx.inject(Fault(200, "{}", delay=HANG_S), "/api/v5/", times=None)  # every endpoint
        into(okx, cluster)
        assert await service.jobs.watch() == 0
        assert "no okx prices this round" in caplog.text
        assert any(i.detail.endswith("timed out") for i in service.core.market.incidents)
        clock.advance(5 * MINUTE)  # a new 5-minute candle to fetch
        assert await service.jobs.refresh() == 0, "the refresh gives up too"
        into(okx, cluster)
        # the bot keeps serving: a map needing the exchange is refused in time, others answered
        tg.user_sends(BOB, "/map SOL 1d")
        (help_,) = await say(tg, ANN, "/help")
        assert "Commands" in words(help_)
        (down,) = await tg.wait_for_sent(BOB, 1, timeout=30)
        assert (
            words(down) == "okx is unavailable right now (timed out); please try again in a minute."
        )

        okx.clear_faults()
        assert await service.jobs.watch() == 1
        assert (await service.jobs.deliver()).sent == 1
        assert await service.jobs.watch() == 0
        assert (await service.jobs.deliver()).sent == 0
    assert len(alerts(tg)) == 1
    assert tg.sent(ADMIN) == []


async def test_an_exchange_gone_for_twenty_minutes_alerts_once_it_is_back(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving(settings, db, clock) as service:
        jobs = service.jobs
        cluster = await armed(tg, service)
        port = gone(okx)
        for minute in range(1, 21):  # watched every minute, refreshed every five: all fail
            clock.advance(MINUTE)
            assert await jobs.watch() == 0
            if minute % 5 == 0:
                assert await jobs.refresh() == 0
        # meanwhile the bot answers, with the last map and what is wrong
        (help_,) = await say(tg, BOB, "/help")
        assert "Commands" in words(help_)
        (stored,) = await say(tg, BOB, "/map BTC")
        assert stored["method"] == "sendPhoto"
        assert "okx: not reachable" in words(stored) and "computed 20 min ago" in words(stored)
        into(okx, cluster)  # the market moves while the exchange cannot be asked
        assert await jobs.watch() == 0

        back(okx, port)
        caplog.clear()
        caplog.set_level(logging.INFO, logger="jobs.scheduled.watch")
        assert await jobs.watch() == 0, "a 20-minute-old map raises nothing"
        assert "map of okx:BTC-USDT-SWAP is stale" in caplog.text
        assert await jobs.refresh() == 1
        assert await jobs.watch() == 1, "the move is seen once the exchange is back"
        assert (await jobs.deliver()).sent == 1
        clock.advance(MINUTE)
        assert await jobs.watch() == 0
        assert (await jobs.deliver()).sent == 0
    assert len(alerts(tg)) == 1
    assert tg.sent(ADMIN) == []


# -- Telegram -----------------------------------------------------------------------------------


@pytest.fixture
async def quick_bot(tg: FakeTelegram) -> AsyncIterator[ExtBot]:
    """A bot that gives Telegram ``TELEGRAM_TIMEOUT_S`` to answer."""
    quick = HTTPXRequest(
        read_timeout=TELEGRAM_TIMEOUT_S,
        write_timeout=TELEGRAM_TIMEOUT_S,
        connect_timeout=TELEGRAM_TIMEOUT_S,
    )
    bot = ExtBot(tg.token, base_url=tg.base_url, request=quick,
                 rate_limiter=AIORateLimiter(max_retries=3))  # fmt: skip
    async with bot:
        yield bot


async def test_telegram_failing_timing_out_and_gone_while_an_alert_is_due_sends_it_once(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    clock: Clock,
    quick_bot: ExtBot,
) -> None:
    async with serving(settings, db, clock) as service:
        jobs = service.jobs
        jobs.delivery.sender = TelegramAlertSender(quick_bot, TELEGRAM_TIMEOUT_S)
        into(okx, await armed(tg, service))
        assert await jobs.watch() == 1
        for fault in (api_error(502, "Bad Gateway"), Fault(200, "{}", delay=HANG_S)):
            tg.inject(fault, tg.path("sendPhoto"), times=None)
            report = await jobs.deliver()
            assert (report.sent, report.retried) == (0, 1)
            tg.clear_faults()
            assert (await jobs.deliver()).sent == 0, "not before its retry time"
            clock.advance(MINUTE)
        port = gone(tg)
        assert (await jobs.deliver()).retried == 1
        back(tg, port)
        clock.advance(MINUTE)
        assert (await jobs.deliver()).sent == 1
        clock.advance(MINUTE)
        assert await jobs.watch() == 0
        assert (await jobs.deliver()).sent == 0
        assert service.core.stores.outbox.counts() == {"sent": 1}
        # the bot's own polling came back by itself too
        (help_,) = await say(tg, BOB, "/help")
        assert "Commands" in words(help_)
    assert len(alerts(tg)) == 1
    assert tg.sent(ADMIN) == []


async def test_telegram_failing_the_update_poll_loses_no_command_and_answers_each_once(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        await say(tg, ANN, "/start")
        polls = tg.count(tg.path("getUpdates"))
        tg.inject(api_error(502, "Bad Gateway"), tg.path("getUpdates"))
        tg.inject(Fault(disconnect=True), tg.path("getUpdates"))
        await wait_until(lambda: tg.count(tg.path("getUpdates")) > polls + 1)  # a poll failed
        sent = [tg.user_sends(ANN, "/list"), tg.user_sends(BOB, "/help"),
                tg.user_sends(ANN, "/settings")]  # fmt: skip
        await tg.wait_for_sent(ANN, 3, timeout=30)
        await tg.wait_for_sent(BOB, 1, timeout=30)
        await wait_until(lambda: idle(tg, service.application), what="the bot to finish")
        assert [tg.deliveries(update) for update in sent] == [1, 1, 1]
    first_words = sorted(words(m).split()[0] for m in tg.sent(ANN)[1:])
    assert first_words == ["Alert", "No"], "the /settings and /list answers, once each"
    assert len(tg.sent(BOB)) == 1
    assert tg.sent(ADMIN) == []


async def test_telegram_refusing_a_reply_costs_that_reply_only(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock):
        await say(tg, ANN, "/start")
        sends = tg.count(tg.path("sendMessage"))
        tg.inject(api_error(502, "Bad Gateway"), tg.path("sendMessage"), times=1)
        tg.user_sends(ANN, "/list")  # its answer meets the 502
        await wait_until(lambda: tg.count(tg.path("sendMessage")) >= sends + 1)
        (listing,) = await say(tg, ANN, "/list")
        assert "No subscriptions yet" in words(listing)
    assert tg.sent(ADMIN) == [], "Telegram failing is no bug of ours to report"
    assert tg.count(tg.path("sendMessage")) == sends + 2, "no apology into the same failure"


# -- the disk -----------------------------------------------------------------------------------


def disk_full(*args: object, **kwargs: object) -> None:
    """What SQLite answers any write when the disk (or the database's volume) is full."""
    raise sqlite3.OperationalError("database or disk is full")


async def test_a_full_disk_while_the_alert_is_recorded_raises_it_once_there_is_room(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serving(settings, db, clock) as service:
        jobs, stores = service.jobs, service.core.stores
        into(okx, await armed(tg, service))
        with monkeypatch.context() as full:
            # the watch job's one transaction (detector state and outbox row) cannot be written
            full.setattr(stores.alerts, "record", disk_full)
            with pytest.raises(sqlite3.OperationalError):
                await jobs.watch()  # the job run fails (the scheduler logs it and goes on)
            assert stores.outbox.counts() == {}
        clock.advance(MINUTE)
        assert await jobs.watch() == 1, "the state was not written, so the move is seen again"
        assert (await jobs.deliver()).sent == 1
        assert await jobs.watch() == 0
    assert len(alerts(tg)) == 1


async def test_a_full_disk_after_telegram_took_the_alert_does_not_send_it_again(
    tg: FakeTelegram,
    okx: FakeOkx,
    settings: Settings,
    db: Database,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving(settings, db, clock) as service:
        jobs, outbox = service.jobs, service.core.stores.outbox
        into(okx, await armed(tg, service))
        assert await jobs.watch() == 1
        with monkeypatch.context() as full:
            # Telegram accepted the alert; marking its outbox row sent cannot be written
            full.setattr(outbox, "mark_sent", disk_full)
            assert (await jobs.deliver()).sent == 1
            assert "database or disk is full" in caplog.text
            for _ in range(3):  # still full: the alert is not sent again meanwhile
                clock.advance(MINUTE)
                assert (await jobs.deliver()).sent == 0
            assert outbox.counts() == {"sending": 1}, "as it was marked before the send"
        clock.advance(MINUTE)
        assert (await jobs.deliver()).sent == 0
        assert outbox.counts() == {"sent": 1}, "written once there is room"
        assert await jobs.watch() == 0
    assert len(alerts(tg)) == 1


# -- end to end: ``liqmap run`` ----------------------------------------------------------------


def test_liqmap_run_rides_out_the_exchange_going_away_and_alerts_once_it_is_back(
    tmp_path: Path,
) -> None:
    """``liqmap run`` wired whole (in this process, on the wall clock, retrying fast)."""
    from tests.support.cli import Liqmap
    from tests.support.service import MARKS, query

    with FakeTelegram() as tg, FakeOkx() as okx:
        db = tmp_path / "faults.db"
        env = {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url,
               "LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(db), "LIQMAP_REFRESH_SECONDS": "2",
               "LIQMAP_PRICE_SECONDS": "0.5"}  # fmt: skip
        with Liqmap(["run"], tmp_path, env) as service:
            for text in ("/settings cooldown 0", "/subscribe BTC 0.5"):
                mark = tg.mark()
                tg.user_sends(ANN, text)
                tg.wait_for_sync("sendMessage", timeout=60, since=mark)
            latest = "SELECT clusters FROM snapshots WHERE window = '7d' ORDER BY id DESC LIMIT 1"
            service.until(lambda: bool(query(db, latest)), "the 7d map")
            strong = [c for c in json.loads(query(db, latest)[0][0]) if c["strength"] >= 2.0]
            cluster = min(strong, key=lambda c: abs(c["distance_pct"]))
            checks = okx.count(MARKS)
            service.until(lambda: okx.count(MARKS) >= checks + 2, "two price checks")
            assert alerts(tg) == [], "price starts away from every dense cluster"

            port = gone(okx)
            into(okx, cluster)  # the market moves while the exchange is gone
            service.until(lambda: "no okx prices this round" in service.output(),
                          "a round without prices")  # fmt: skip
            assert alerts(tg) == []
            back(okx, port)
            service.until(lambda: len(alerts(tg)) >= 1, "the alert once the exchange is back")
            checks = okx.count(MARKS)
            service.until(lambda: okx.count(MARKS) >= checks + 4, "four more price checks")
            assert len(alerts(tg)) == 1, service.output()
            assert query(db, "SELECT state, count(*) FROM outbox GROUP BY state") == [("sent", 1)]
            assert service.stop().returncode == 0
