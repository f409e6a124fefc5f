"""The real bot Application against the fake Bot API and the fake OKX, played as users would."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from storage.database import open_database
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ADMIN,
    ANN,
    BOB,
    BOT,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    running,
    say,
    wait_until,
    words,
)

# -- commands --------------------------------------------------------------------------------


async def test_start_help_and_the_command_menu(tg: FakeTelegram, core: BotDeps) -> None:
    (start,) = await say(tg, ANN, "/start")
    assert "liquidation maps" in words(start) and "/map BTC" in words(start)
    (help_,) = await say(tg, ANN, "/help")
    for command in ("/map", "/clusters", "/heatmap", "/subscribe", "/unsubscribe", "/list",
                    "/settings", "/status", "/map BTC 7d", "/heatmap BTC 7d all",
                    "/accuracy BTC all", "/stop", "/stop BTC long 61500", "/top [N]",
                    "building", "/subscribe hyperliquid:BTC real", "/whales BTC",
                    "/webhook add URL"):  # fmt: skip
        assert command in words(help_)
    assert "/digest on 08:00" in words(help_)
    menu = [c["command"] for c in tg.commands()]
    assert menu == ["start", "help", "map", "clusters", "heatmap", "accuracy", "stop",
                    "subscribe", "whales", "top", "unsubscribe", "list", "settings", "digest",
                    "webhook", "status"]  # fmt: skip


async def test_map_sends_a_chart_with_caption_and_buttons(tg: FakeTelegram, core: BotDeps) -> None:
    (photo,) = await say(tg, ANN, "/map BTC")
    assert photo["method"] == "sendPhoto"
    assert photo["photo"][:8] == b"\x89PNG\r\n\x1a\n"
    caption = words(photo)
    assert caption.startswith("BTC-USDT-SWAP · okx · 7d map")
    assert "Price " in caption and "Long liquidations:" in caption and "Data to " in caption
    buttons = [b["text"] for row in photo["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["1d", "• 7d •", "30d", "🔄 Refresh", "🔔 Subscribe", "🔗 Share"]
    share = photo["reply_markup"]["inline_keyboard"][-1][-1]
    assert share["url"] == f"https://t.me/{BOT}?start=map_okx_BTC-USDT-SWAP_7d"
    assert "upload_photo" in tg.chat_actions(ANN)

    # the next ask, fresh, re-sends the uploaded chart by its file id without recomputing
    (again,) = await say(tg, BOB, "/map btc-usdt-swap 7d")
    last = tg.calls_of("sendPhoto")[-1]
    assert not last["files"] and last["params"]["photo"] == photo["file_id"]
    assert words(again).startswith("BTC-USDT-SWAP · okx · 7d map")
    assert "upload_photo" not in tg.chat_actions(BOB)


async def test_buttons_switch_window_refresh_and_subscribe(tg: FakeTelegram, core: BotDeps) -> None:
    (photo,) = await say(tg, ANN, "/map ETH 1d")
    message_id = photo["message_id"]
    tg.user_clicks(ANN, message_id, "w|30d|okx:ETH-USDT-SWAP")
    await tg.wait_for(lambda c: c["method"] == "editMessageMedia" and c["ok"], timeout=20)
    edited = tg.message(ANN, message_id)
    assert "ETH-USDT-SWAP · okx · 30d map" in edited["caption"]

    mark = tg.mark()
    tg.user_clicks(ANN, message_id, "r|30d|okx:ETH-USDT-SWAP")
    answer = await tg.wait_for("answerCallbackQuery", since=mark)
    assert answer["params"].get("text") == "Refreshing…"

    mark = tg.mark()
    tg.user_clicks(ANN, message_id, "s|30d|okx:ETH-USDT-SWAP")
    answer = await tg.wait_for("answerCallbackQuery", since=mark)
    assert answer["params"]["text"] == "Subscribed to ETH-USDT-SWAP: alerts within 1%."
    assert [s.instrument for s in core.stores.chats.subscriptions(ANN)] == ["okx:ETH-USDT-SWAP"]


async def test_clusters_as_text(tg: FakeTelegram, core: BotDeps) -> None:
    (reply,) = await say(tg, ANN, "/clusters BTC 1d")
    text = words(reply)
    assert text.startswith("BTC-USDT-SWAP · okx · 1d clusters · price")
    assert "Long liquidations (below)" in text and "Short liquidations (above)" in text
    assert "avg density" in text


async def test_subscribe_list_unsubscribe(tg: FakeTelegram, core: BotDeps) -> None:
    (reply,) = await say(tg, ANN, "/subscribe BTC 0.8")
    assert "Subscribed to BTC-USDT-SWAP on okx" in words(reply) and "within 0.8%" in words(reply)
    (reply,) = await say(tg, ANN, "/subscribe eth")
    assert "within 1%" in words(reply)
    (reply,) = await say(tg, ANN, "/subscribe BTC 1.5%")
    assert words(reply).startswith("Updated BTC-USDT-SWAP")
    (listing,) = await say(tg, ANN, "/list")
    assert "okx:BTC-USDT-SWAP — within 1.5% (own)" in words(listing)
    assert "okx:ETH-USDT-SWAP — within 1%" in words(listing)
    (reply,) = await say(tg, ANN, "/unsubscribe BTC-USDT-SWAP")
    assert words(reply) == "Stopped alerts for okx:BTC-USDT-SWAP."
    (reply,) = await say(tg, ANN, "/unsubscribe BTC")
    assert "not subscribed" in words(reply)
    (reply,) = await say(tg, ANN, "/unsubscribe all")
    assert words(reply) == "Stopped all alerts (1 subscription)."
    assert core.stores.chats.subscriptions(ANN) == []


async def test_settings_show_and_change(tg: FakeTelegram, core: BotDeps) -> None:
    (shown,) = await say(tg, ANN, "/settings")
    assert "distance: 1%" in words(shown) and "cooldown: 30 min" in words(shown)
    assert "quiet: off" in words(shown)
    (saved,) = await say(tg, ANN, "/settings distance 0.8")
    assert words(saved).startswith("Saved.") and "distance: 0.8%" in words(saved)
    await say(tg, ANN, "/settings quiet 23:00-07:00")
    await say(tg, ANN, "/settings cooldown 45")
    (reply,) = await say(tg, ANN, "/settings strength 3")
    assert "quiet: 23:00-07:00 UTC" in words(reply) and "cooldown: 45 min" in words(reply)
    settings = core.stores.chats.get(ANN).settings
    assert (settings.alert_distance_pct, settings.min_strength, settings.cooldown_minutes) == (
        0.8,
        3.0,
        45,
    )


async def test_status_is_for_admin_chats(tg: FakeTelegram, core: BotDeps, okx: FakeOkx) -> None:
    await say(tg, ANN, "/subscribe BTC")
    await say(tg, ANN, "/map BTC 1d")
    okx.inject(Fault(503, "down"), "/api/v5/market/", times=None)
    await say(tg, ANN, "/map SOL 1d")
    (refused,) = await say(tg, ANN, "/status")
    assert words(refused) == "/status is for the bot's admins only."
    (status,) = await say(tg, ADMIN, "/status")
    text = words(status)
    assert "liqmap status" in text and "1 watched instrument" in text and "0 pending alerts" in text
    assert "okx:BTC-USDT-SWAP 1d:" in text
    assert "okx: fetch_ohlcv: not reachable" in text
    assert "Recorded liquidations (watched in the last 24 h, lag, events)\nnothing recorded" in text


async def test_status_shows_the_recorders_coverage_and_lag_per_exchange(
    tg: FakeTelegram, core: BotDeps
) -> None:
    from liqmap.engine.realized import Realized

    now, hour = core.clock(), 3_600_000
    store = core.stores.realized
    events = [Realized("binance", "BTCUSDT", "long", 60_000.0, 0.1, 6_000.0, now - 3 * hour)]
    store.record("binance", ["BTCUSDT", "ETHUSDT"], events, (now - 12 * hour, now - 2 * hour))
    store.record("okx", ["BTC-USDT-SWAP"], [], (now - 24 * hour, now - 60_000))
    from jobs.scheduled.recorder import RecorderStatus

    core.recorder = {
        "okx": RecorderStatus("okx", "", 1, True, now - 5 * 60_000, now, 3, 2, 1),
        "bybit": RecorderStatus("bybit", "", 1, False, reconnects=4, last_error="refused"),
    }
    (status,) = await say(tg, ADMIN, "/status")
    text = words(status)
    assert "okx stream: connected (subscribed 5 min ago), 1 reconnects, 2 malformed" in text
    assert "bybit stream: not connected, 4 reconnects, last error: refused" in text
    assert "binance (sampled): 2 instruments, 42% watched, lag 2 h, 1 events, last 3 h ago" in text
    assert "okx (sampled): 1 instrument, 100% watched, lag 1 min, 0 events" in text


# -- groups and access -----------------------------------------------------------------------


async def test_groups_address_the_bot_by_name_and_only_admins_change_things(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (photo,) = await say(tg, GROUP, f"/map@{BOT} BTC 1d", user_id=MEMBER, title="traders")
    assert photo["method"] == "sendPhoto"
    (refused,) = await say(tg, GROUP, f"/subscribe@{BOT} BTC", user_id=MEMBER)
    assert words(refused) == "Only group administrators can change subscriptions and settings here."
    (refused,) = await say(tg, GROUP, "/settings distance 2", user_id=MEMBER)
    assert "Only group administrators" in words(refused)
    assert core.stores.chats.subscriptions(GROUP) == []
    (done,) = await say(tg, GROUP, f"/subscribe@{BOT} BTC", user_id=GROUP_OWNER)
    assert "Subscribed to BTC-USDT-SWAP" in words(done)
    # the member may still look; another bot's command is not ours; ours still answers
    before = len(tg.sent(GROUP))
    tg.user_sends(GROUP, "/map@other_bot BTC", user_id=MEMBER)
    (listing,) = await say(tg, GROUP, f"/list@{BOT}", user_id=MEMBER)
    assert "okx:BTC-USDT-SWAP" in words(listing)
    assert len(tg.sent(GROUP)) == before + 1
    assert core.stores.chats.get(GROUP).title == "traders"


async def test_in_groups_the_trader_tools_change_state_only_for_admins(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, GROUP, f"/map@{BOT} BTC 1d", user_id=MEMBER, title="traders")
    chats = core.stores.chats
    for command in ("/digest on 08:00", "/settings tz Europe/Berlin",
                    "/subscribe BTC 1 building"):  # fmt: skip
        (refused,) = await say(tg, GROUP, command, user_id=MEMBER)
        assert "Only group administrators" in words(refused), command
    assert chats.get(GROUP).settings.tz == "UTC" and chats.get(GROUP).settings.digest_at is None
    assert chats.subscriptions(GROUP) == []
    # reading is for everyone: /stop and /top change nothing
    (stop,) = await say(tg, GROUP, "/stop BTC long 1", user_id=MEMBER)
    assert "Only group administrators" not in words(stop)
    (top,) = await say(tg, GROUP, "/top 1", user_id=MEMBER)
    assert words(top).startswith("Nearest dense clusters")
    for command in ("/digest on 08:00", "/settings tz Europe/Berlin"):
        await say(tg, GROUP, command, user_id=GROUP_OWNER)
    assert chats.get(GROUP).settings.tz == "Europe/Berlin"
    assert chats.get(GROUP).settings.digest_at is not None


async def test_the_allowlist_refuses_others_once_and_logs_it(
    tg: FakeTelegram, settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    strict = replace(settings, allowed_chats=frozenset({ANN}))
    stranger = 4242
    with caplog.at_level(logging.WARNING, logger="bot.access"):
        async with running(strict, db):
            (refusal,) = await say(tg, stranger, "/map BTC")
            assert "this bot is private" in words(refusal)
            tg.user_sends(stranger, "/help")
            await wait_until(lambda: "refused chat 4242 (private), again" in caplog.text)
            (ok,) = await say(tg, ANN, "/help")
            assert "Commands" in words(ok)
    assert len(tg.sent(stranger)) == 1
    assert "refused chat 4242 (private)" in caplog.text


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/map", "Usage: /map SYMBOL [1d|7d|30d] [all] — e.g. /map BTC 7d, /map BTC all"),
        ("/map BTC ETH", "Usage: /map SYMBOL"),
        ("/map " + "A" * 5000, "'AAAAAAAAAAAAAAAAAAAAAAAA…' is not a symbol"),
        ("/map <b>BTC</b>", "'<b>BTC</b>' is not a symbol"),
        ("/map 😀", "'😀' is not a symbol"),
        ("/map BTCC", "unknown instrument BTCC on okx; did you mean BTC?"),
        ("/map kraken:BTC", "unknown exchange kraken"),
        ("/map BTC-USDT-250523", "expired on 2025-05-23"),
        ("/clusters", "Usage: /clusters SYMBOL"),
        ("/subscribe", "Usage: /subscribe SYMBOL [all] [DISTANCE%]"),
        ("/subscribe BTC -1", "distance must be between 0.05% and 20%"),
        ("/subscribe BTC 1e99", "distance must be between 0.05% and 20%"),
        ("/subscribe BTC lots", "distance must be a number, got 'lots'"),
        ("/unsubscribe", "Usage: /unsubscribe SYMBOL [all] | all"),
        ("/unsubscribe all all", "Usage: /unsubscribe SYMBOL [all] | all"),
        ("/unsubscribe ALL all", "Usage: /unsubscribe SYMBOL [all] | all"),
        ("/unsubscribe BTC ETH", "Usage: /unsubscribe SYMBOL [all] | all"),
        ("/settings distance", "Usage: /settings"),
        ("/settings cooldown 99999", "cooldown must be whole minutes from 0 to 1440"),
        ("/settings quiet 25:00-99:00", "quiet hours look like 23:00-07:00"),
        ("/settings colour red", "unknown setting"),
        ("/frobnicate", "I don't know that command. /help lists them."),
        ("hello there", "Send a command, e.g. /map BTC."),
    ],
)
async def test_bad_input_gets_a_short_answer_and_the_bot_keeps_working(
    tg: FakeTelegram, core: BotDeps, text: str, answer: str
) -> None:
    (reply,) = await say(tg, ANN, text)
    assert answer in words(reply)
    assert len(words(reply)) < 400
    (help_,) = await say(tg, ANN, "/help")
    assert "Commands" in words(help_)
    assert tg.sent(ADMIN) == [], "no error report"


# -- exchange and Telegram failures ----------------------------------------------------------


async def test_exchange_down_without_and_with_a_stored_map(
    tg: FakeTelegram, settings: Settings, db: Database, okx: FakeOkx
) -> None:
    clock = Clock()
    async with running(settings, db, clock):
        await say(tg, ANN, "/map BTC 1d")
        okx.inject(Fault(503, "down"), "/api/v5/market/", times=None)
        (reply,) = await say(tg, ANN, "/map SOL 1d")
        assert words(reply) == (
            "okx is unavailable right now (not reachable); please try again in a minute."
        )
        clock.advance(2 * 3600_000)
        (stale,) = await say(tg, ANN, "/map BTC 1d")
        assert stale["method"] == "sendPhoto"
        assert "⚠️ data for BTC-USDT-SWAP is unavailable right now (okx: not reachable)" in words(
            stale
        )
        assert "this map was computed 2 h ago" in words(stale)


async def test_a_429_is_retried_and_nothing_is_lost(tg: FakeTelegram, core: BotDeps) -> None:
    tg.rate_limit(2, retry_after=1, method="sendMessage")
    (reply,) = await say(tg, ANN, "/help")
    assert "Commands" in words(reply)
    assert len(tg.calls_of("sendMessage", ok=True)) == 1
    assert len(tg.calls_of("sendMessage", ok=False)) == 2


async def test_a_blocked_bot_marks_the_chat_inactive(tg: FakeTelegram, core: BotDeps) -> None:
    await say(tg, ANN, "/subscribe BTC")
    tg.block(ANN)
    await wait_until(lambda: not core.stores.chats.get(ANN).active)
    assert core.stores.chats.watched_instruments() == []
    # a group that removed the bot without telling: the reply fails with Forbidden
    await say(tg, GROUP, f"/list@{BOT}", user_id=MEMBER)
    tg.block(GROUP, notify=False)
    tg.user_sends(GROUP, f"/help@{BOT}", user_id=MEMBER)
    await wait_until(lambda: not core.stores.chats.get(GROUP).active)


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscriptions(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, GROUP, f"/subscribe@{BOT} BTC 0.5", user_id=GROUP_OWNER)
    tg.migrate_group(GROUP, -1009001)
    await wait_until(lambda: core.stores.chats.get(-1009001) is not None)
    assert core.stores.chats.get(GROUP) is None
    assert [s.distance_pct for s in core.stores.chats.subscriptions(-1009001)] == [0.5]


async def test_a_failing_handler_answers_briefly_and_reports_to_admins(
    tg: FakeTelegram, core: BotDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(core.stores.chats, "subscriptions", broken)
    (reply,) = await say(tg, ANN, "/list")
    assert words(reply) == "Sorry, something went wrong on my side. It is logged; please try again."
    (report,) = await tg.wait_for_sent(ADMIN)
    assert "RuntimeError: disk on fire" in words(report)
    assert tg.token not in words(report)


async def test_everything_survives_a_restart(
    tg: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "restart.db"
    async with running(settings, open_database(path)):
        await say(tg, ANN, "/subscribe ETH 0.7")
        await say(tg, ANN, "/settings cooldown 10")
    async with running(settings, open_database(path)):
        (listing,) = await say(tg, ANN, "/list")
        assert "okx:ETH-USDT-SWAP — within 0.7% (own)" in words(listing)
        (shown,) = await say(tg, ANN, "/settings")
        assert "cooldown: 10 min" in words(shown)


async def test_two_users_asking_at_once_share_one_computation(
    tg: FakeTelegram, core: BotDeps, okx: FakeOkx
) -> None:
    tg.user_sends(ANN, "/map SOL 1d")
    tg.user_sends(BOB, "/map sol 1d")
    await tg.wait_for_sent(ANN)
    await tg.wait_for_sent(BOB)
    assert [m["method"] for m in tg.sent(ANN) + tg.sent(BOB)] == ["sendPhoto", "sendPhoto"]
    assert okx.count("/api/v5/public/position-tiers") == 1
    assert core.stores.db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1


async def test_only_group_admins_subscribe_with_the_button(tg: FakeTelegram, core: BotDeps) -> None:
    (photo,) = await say(tg, GROUP, f"/map@{BOT} BTC 1d", user_id=MEMBER)
    mark = tg.mark()
    tg.user_clicks(GROUP, photo["message_id"], "s|1d|okx:BTC-USDT-SWAP", user_id=MEMBER)
    refused = await tg.wait_for("answerCallbackQuery", since=mark)
    assert refused["params"]["text"] == "Only group administrators can do this here."
    assert refused["params"]["show_alert"] is True
    mark = tg.mark()
    tg.user_clicks(GROUP, photo["message_id"], "s|1d|okx:BTC-USDT-SWAP", user_id=GROUP_OWNER)
    done = await tg.wait_for("answerCallbackQuery", since=mark)
    assert done["params"]["text"].startswith("Subscribed to BTC-USDT-SWAP")
    assert [s.instrument for s in core.stores.chats.subscriptions(GROUP)] == ["okx:BTC-USDT-SWAP"]


async def test_another_process_holding_the_write_lock_does_not_freeze_the_bot(
    tg: FakeTelegram, core: BotDeps, settings: Settings
) -> None:
    import sqlite3

    await say(tg, ANN, "/start")  # the chat exists; /subscribe will need a write
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    other = sqlite3.connect(core.stores.db.conn.execute("PRAGMA database_list").fetchone()[2])
    other.execute("BEGIN IMMEDIATE")  # e.g. a backup or the sqlite-utils CLI writing
    try:
        before = len(tg.sent(ANN))
        tg.user_sends(ANN, "/subscribe BTC")
        await asyncio.sleep(1.0)
        during = ticks
        assert len(tg.sent(ANN)) == before, "the write waits for the lock"
        assert during >= 30, f"the event loop kept running while the lock was held ({during})"
    finally:
        other.rollback()
        other.close()
        ticker.cancel()
    (reply,) = (await tg.wait_for_sent(ANN, before + 1, timeout=20))[before:]
    assert "Subscribed to BTC-USDT-SWAP" in words(reply)
