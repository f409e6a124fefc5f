"""One chat cannot take the service from the others: limits and rules hold on every path.

Each test replays something a hostile user did (forged callbacks, a burst of maps, a chat
taken off the allowlist, an error in a loop, a full disk) against the real bot.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ADMIN,
    ADMIN_GROUP,
    ANN,
    BOB,
    CAROL,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    idle,
    press,
    running,
    say,
    serving,
    wait_until,
    words,
)

pytestmark = pytest.mark.slow

STALE = "This button no longer works; send /map again."


# -- subscriptions: the same limits on every path ----------------------------------------------


async def test_forged_subscribe_callbacks_do_nothing(tg: FakeTelegram, core: BotDeps) -> None:
    (help_,) = await say(tg, ANN, "/help")
    for n in range(60):
        answer = await press(tg, ANN, help_["message_id"], f"s|7d|okx:X{n}")
        assert answer["params"].get("text") == STALE
    (photo,) = await say(tg, ANN, "/map BTC 1d")
    forged = await press(tg, ANN, photo["message_id"], "s|1d|okx:SOL-USDT-SWAP")
    assert forged["params"].get("text") == STALE, "not a button of this map"
    assert core.stores.chats.subscriptions(ANN) == []


async def test_the_per_chat_cap_holds_for_the_command_and_the_button(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(replace(settings, max_subscriptions=2), db) as core:
        await say(tg, ANN, "/subscribe BTC")
        (photo,) = await say(tg, ANN, "/map ETH 1d")
        answer = await press(tg, ANN, photo["message_id"], "s|1d|okx:ETH-USDT-SWAP")
        assert answer["params"]["text"] == "Subscribed to ETH-USDT-SWAP: alerts within 1%."
        (refused,) = await say(tg, ANN, "/subscribe SOL")
        assert words(refused) == (
            "This chat already follows 2 symbols, the most it can; /unsubscribe one first."
        )
        (photo,) = await say(tg, ANN, "/map SOL 1d")
        answer = await press(tg, ANN, photo["message_id"], "s|1d|okx:SOL-USDT-SWAP")
        assert answer["params"]["show_alert"] is True
        assert answer["params"]["text"].startswith("This chat already follows 2 symbols")
        (updated,) = await say(tg, ANN, "/subscribe BTC 0.5")
        assert words(updated).startswith("Updated"), "changing one it follows is fine"
        assert len(core.stores.chats.subscriptions(ANN)) == 2


async def test_the_service_wide_cap_on_watched_instruments_has_a_clear_answer(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(replace(settings, max_watched=2), db) as core:
        await say(tg, ANN, "/subscribe BTC")
        await say(tg, BOB, "/subscribe ETH")
        (refused,) = await say(tg, CAROL, "/subscribe SOL")
        assert words(refused).startswith("The bot already watches 2 instruments, the most it")
        (ok,) = await say(tg, CAROL, "/subscribe BTC")
        assert "Subscribed to BTC-USDT-SWAP" in words(ok), "one already watched costs nothing"
        assert core.stores.chats.watched_instruments() == [
            "okx:BTC-USDT-SWAP",
            "okx:ETH-USDT-SWAP",
        ]


async def test_a_window_button_forged_onto_a_text_message_is_refused_quietly(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (text,) = await say(tg, ANN, "/clusters BTC 1d")
    for _ in range(5):
        answer = await press(tg, ANN, text["message_id"], "w|7d|okx:BTC-USDT-SWAP")
        assert answer["params"].get("text") == STALE
    assert tg.sent(ADMIN) == [], "no traceback for the admins"
    assert tg.calls_of("editMessageMedia") == []


# -- map budgets -------------------------------------------------------------------------------


async def test_a_burst_of_new_maps_is_told_when_to_try_again_and_stored_maps_stay_free(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    clock = Clock()
    async with running(replace(settings, maps_per_minute=2), db, clock):
        await say(tg, ANN, "/map BTC 1d")
        await say(tg, ANN, "/map ETH 1d")
        (refused,) = await say(tg, ANN, "/map SOL 1d")
        assert words(refused).startswith("That is a lot of new maps at once; try again in 30 s.")
        (stored,) = await say(tg, ANN, "/map BTC 1d")
        assert stored["method"] == "sendPhoto", "a map computed moments ago costs nothing"
        (other,) = await say(tg, BOB, "/map SOL 1d")
        assert other["method"] == "sendPhoto", "another chat has its own budget"
        clock.advance(30_000)
        (later,) = await say(tg, ANN, "/map ETH 30d")
        assert later["method"] == "sendPhoto"


async def test_the_budget_is_per_user_too_across_chats(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(replace(settings, maps_per_minute=1), db):
        await say(tg, GROUP, "/map BTC 1d", user_id=MEMBER)
        (refused,) = await say(tg, MEMBER, "/map ETH 1d")  # the same user, in private
        assert "try again in 60 s" in words(refused)


async def test_a_burst_from_one_chat_does_not_hold_up_another_chat_or_the_price_checks(
    tg: FakeTelegram, settings: Settings, db: Database, okx: FakeOkx
) -> None:
    """With requests spaced as OKX wants them, one chat's six maps queue their requests; the
    other chat's map is served between them, not after them."""
    okx_pace = {"rateLimit": 40, "timeout": 3000, "timeout_on_exit": 0}
    async with running(replace(settings, maps_per_minute=20), db, ccxt_config=okx_pace) as core:
        await core.market.instrument("BTC")  # the instrument list, loaded once
        burst = ["BTC 1d", "ETH 1d", "SOL 1d", "BTC-USD-SWAP 1d", "BTC 7d", "ETH 7d"]
        for text in burst:
            tg.user_sends(ANN, f"/map {text}")
        await wait_until(lambda: okx.count("/api/v5/market/") >= 6)
        tg.user_sends(BOB, "/map SOL 30d")

        async def price_check() -> int:
            CLAIM.set(Claim(Urgency.PRICE, "watch"))
            await core.market.prices([await core.market.instrument("ETH")])
            return len(tg.sent(ANN))

        assert await price_check() < len(burst), "the price check did not wait for the burst"
        bob = await tg.wait_for_sent(BOB, 1, timeout=60)
        assert bob[0]["method"] == "sendPhoto"
        assert len(tg.sent(ANN)) < len(burst), "Bob's map came before Ann's burst was done"
        await tg.wait_for_sent(ANN, len(burst), timeout=60)


# -- access: one rule everywhere ---------------------------------------------------------------


async def test_a_chat_taken_off_the_allowlist_is_refused_and_its_alerts_pause(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    both = replace(settings, allowed_chats=frozenset({ANN, BOB}))
    async with running(both, db) as core:
        await say(tg, ANN, "/subscribe BTC")
        await say(tg, BOB, "/subscribe ETH")
        assert len(core.stores.chats.watched_instruments()) == 2
    async with running(replace(settings, allowed_chats=frozenset({BOB})), db) as core:
        assert core.stores.chats.watched_instruments() == ["okx:ETH-USDT-SWAP"]
        assert core.stores.chats.subscribers("okx:BTC-USDT-SWAP") == []
        (refusal,) = await say(tg, ANN, "/unsubscribe BTC")
        assert "this bot is private" in words(refusal)
        assert len(core.stores.chats.subscriptions(ANN)) == 1, "paused, not deleted"
    async with running(both, db) as core:
        assert len(core.stores.chats.watched_instruments()) == 2, "allowed again: resumed"


async def test_status_checks_the_user_not_only_the_chat(tg: FakeTelegram, core: BotDeps) -> None:
    tg.set_member_status(ADMIN_GROUP, GROUP_OWNER, "creator")
    tg.set_member_status(ADMIN_GROUP, MEMBER, "member")
    (refused,) = await say(tg, ADMIN_GROUP, "/status", user_id=MEMBER, title="ops")
    assert words(refused) == "/status is for the bot's admins only."
    (status,) = await say(tg, ADMIN_GROUP, "/status", user_id=GROUP_OWNER)
    assert "liqmap status" in words(status)
    (private,) = await say(tg, ADMIN, "/status")
    assert "liqmap status" in words(private)
    (other,) = await say(tg, GROUP, "/status", user_id=GROUP_OWNER)
    assert words(other) == "/status is for the bot's admins only.", "an admin of another group"


# -- errors: one reply each, one report per kind per 10 minutes --------------------------------


async def test_an_unexpected_error_in_a_loop_reaches_the_admins_once_with_a_count(
    tg: FakeTelegram,
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    async with running(settings, db, clock) as core:

        def broken(chat_id: int) -> list:
            raise RuntimeError("a bug in /list")

        monkeypatch.setattr(core.stores.chats, "subscriptions", broken)
        for _ in range(5):
            (reply,) = await say(tg, ANN, "/list")
            assert words(reply).startswith("Sorry, something went wrong on my side.")
        await wait_until(lambda: len(tg.sent(ADMIN)) == 1)
        (report,) = tg.sent(ADMIN)
        assert "error in chat 1001" in words(report) and "a bug in /list" in words(report)
        assert tg.token not in words(report)
        clock.advance(10 * 60_000)
        await say(tg, ANN, "/list")
        await wait_until(lambda: len(tg.sent(ADMIN)) == 2)
        assert "(5 times in the last 10 min)" in words(tg.sent(ADMIN)[1])
    assert caplog.text.count("a bug in /list") >= 6, "every occurrence is still logged"


async def test_a_full_disk_gives_short_answers_one_report_and_recovers(
    tg: FakeTelegram, settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(settings, db) as service:
        core = service.core
        await say(tg, ANN, "/start")
        seen = core.stores.chats.seen

        def disk_full(*args: object) -> None:
            # what every write answers on a full disk; every update starts with one
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(core.stores.chats, "seen", disk_full)
        for chat in (BOB, CAROL, BOB, ANN):
            (reply,) = await say(tg, chat, "/subscribe BTC")
            assert words(reply).startswith("Sorry, something went wrong on my side.")
        await wait_until(lambda: len(tg.sent(ADMIN)) == 1)
        assert "database or disk is full" in words(tg.sent(ADMIN)[0])
        monkeypatch.setattr(core.stores.chats, "seen", seen)  # room again
        (ok,) = await say(tg, BOB, "/subscribe BTC")
        assert "Subscribed to BTC-USDT-SWAP" in words(ok)
        await wait_until(lambda: idle(tg, service.application), what="the bot to finish")
        assert len(tg.sent(ADMIN)) == 1, "one report for the whole flood"


async def test_the_database_thread_survives_a_statement_that_failed(core: BotDeps) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await core.stores.run(core.stores.db.execute, "SELECT * FROM no_such_table")
    assert await core.stores.run(core.stores.chats.get, 12345) is None
