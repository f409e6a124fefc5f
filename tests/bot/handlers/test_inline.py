"""Inline sharing (``@bot BTC``) through the real bot, the fake Bot API and the fake OKX."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.deps import INLINE_QUERIES_PER_MINUTE
from liqmap.config import Settings
from tests.fakes.http import Fault
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import QUERY_TOO_OLD, FakeTelegram
from tests.support.bot_harness import ADMIN, ADMIN_GROUP, ANN, BOB, BOT, running, say, words

STORAGE = -1_001_999_000_001
"""The operator's storage channel for charts shared inline."""
BTC_7D = "map_okx_BTC-USDT-SWAP_7d"


async def ask(tg: FakeTelegram, user: int, text: str) -> dict:
    """The user types ``@bot text``; the bot's answer, as Telegram took it."""
    return await tg.wait_for_inline_answer(tg.user_inline_query(user, text), timeout=20)


def photos_to(tg: FakeTelegram, chat: int) -> list[dict]:
    return [c for c in tg.calls_of("sendPhoto") if c["params"]["chat_id"] == chat]


async def test_a_map_sent_once_is_offered_inline_by_its_file_id(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db):
        (sent,) = await say(tg, ANN, "/map BTC")
        for text in ("BTC", "btc 7d", "okx:BTC 7d"):
            answer = await ask(tg, BOB, text)
            (photo,) = answer["results"]
            assert photo["type"] == "photo" and photo["photo_file_id"] == sent["file_id"]
            assert photo["plain"].startswith("BTC-USDT-SWAP · okx · 7d map")
            assert "Long liquidations:" in photo["plain"] and photo["parse_mode"] == "HTML"
            share = photo["reply_markup"]["inline_keyboard"][0][0]
            assert share["url"] == f"https://t.me/{BOT}?start={BTC_7D}"
            assert answer["is_personal"] and answer["cache_time"] == 60
    assert len(tg.calls_of("sendPhoto")) == 1  # offered by file id, never uploaded again


async def test_a_new_map_is_made_within_budget_and_uploaded_once(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(replace(settings, inline_cache_chat=STORAGE), db) as core:
        first = await ask(tg, ANN, "ETH 1d")
        (upload,) = photos_to(tg, STORAGE)
        assert upload["files"]["photo"][:8] == b"\x89PNG\r\n\x1a\n"
        assert upload["params"]["disable_notification"] is True
        (photo,) = first["results"]
        assert photo["photo_file_id"] == upload["result"]["photo"][-1]["file_id"]
        assert photo["plain"].startswith("ETH-USDT-SWAP · okx · 1d map")
        assert core.maps.computed == 1

        again = await ask(tg, BOB, "ETH 1d")
        assert again["results"][0]["photo_file_id"] == photo["photo_file_id"]
        (in_chat,) = await say(tg, BOB, "/map ETH 1d")
        last = tg.calls_of("sendPhoto")[-1]
        assert not last["files"] and last["params"]["photo"] == photo["photo_file_id"]
        assert words(in_chat).startswith("ETH-USDT-SWAP · okx · 1d map")
    assert len(photos_to(tg, STORAGE)) == 1 and core.maps.computed == 1


async def test_past_the_budget_a_card_says_when_it_frees_up(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    tight = replace(settings, inline_cache_chat=STORAGE, maps_per_minute=1)
    async with running(tight, db) as core:
        assert (await ask(tg, ANN, "BTC 1d"))["results"][0]["type"] == "photo"
        busy = await ask(tg, ANN, "ETH 1d")
        (card,) = busy["results"]
        assert card["type"] == "article" and card["title"] == "Too many new maps right now"
        assert "try again in" in card["plain"] and busy["is_personal"]
        # the budget is the user's own everywhere: the same user's /map is refused too
        (refused,) = await say(tg, ANN, "/map SOL 1d")
        assert "try again in" in words(refused)
        # a map already made costs nothing, and another user has a budget of their own
        assert (await ask(tg, ANN, "BTC 1d"))["results"][0]["type"] == "photo"
        assert (await ask(tg, BOB, "ETH 1d"))["results"][0]["type"] == "photo"
        assert core.maps.computed == 2


async def test_without_a_storage_chat_a_button_opens_the_map_in_the_bot(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db):
        first = await ask(tg, ANN, "BTC")
        assert first["results"] == [] and first["is_personal"]
        button = first["button"]
        assert button["start_parameter"] == BTC_7D and "BTC-USDT-SWAP" in button["text"]
        assert tg.calls_of("sendPhoto") == []
        # pressing it sends /start with the parameter: the map arrives in the private chat,
        # and from then on it is offered inline by its file id
        (sent,) = await say(tg, ANN, f"/start {button['start_parameter']}")
        assert sent["method"] == "sendPhoto"
        (photo,) = (await ask(tg, ANN, "BTC"))["results"]
        assert photo["photo_file_id"] == sent["file_id"]


async def test_a_stale_query_is_logged_and_the_bot_goes_on(
    tg: FakeTelegram, settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.handlers.inline")
    async with running(settings, db):
        stale = tg.user_inline_query(ANN, "", expired=True)
        refused = await tg.wait_for("answerInlineQuery", ok=False, timeout=20)
        assert refused["params"]["inline_query_id"] == stale
        assert refused["description"] == QUERY_TOO_OLD
        assert tg.inline_answer(stale) is None
        assert (await ask(tg, ANN, ""))["results"][0]["type"] == "article"
    assert f"inline query {stale} of user {ANN} not answered" in caplog.text
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == []


async def test_the_allowlist_applies_to_inline_users(
    tg: FakeTelegram, settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.handlers.inline")
    async with running(replace(settings, allowed_chats=frozenset({ANN})), db):
        for _ in range(3):
            outsider = await ask(tg, BOB, "BTC")
            assert outsider["results"] == [] and outsider["is_personal"]
            assert outsider["button"] is None
        assert (await ask(tg, ANN, ""))["results"][0]["title"].startswith("Liquidation map")
    refusals = [r for r in caplog.records if f"inline queries of user {BOB}" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert tg.calls_of("sendPhoto") == [] and tg.sent(BOB) == []


async def test_queries_that_are_no_map_get_a_card(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db):
        usage = await ask(tg, ANN, "")
        (card,) = usage["results"]
        assert card["title"] == "Liquidation map: type a symbol" and not usage["is_personal"]
        assert card["plain"].startswith(f"Liquidation maps inline: @{BOT} SYMBOL [1d|7d|30d]")
        for text in ("BTC 999d", "BTC 7d 30d", "   "):
            (card,) = (await ask(tg, ANN, text))["results"]
            assert card["title"] == "Liquidation map: type a symbol", text
        (unknown,) = (await ask(tg, ANN, "BTCC"))["results"]
        assert unknown["title"] == "No map for that"
        assert unknown["description"].startswith("unknown instrument BTCC on okx")
    assert tg.calls_of("sendPhoto") == []


async def test_arbitrary_unicode_gets_a_card_or_nothing_never_an_error(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    drawn = ["\x00", "🚀 all", "<b>zq</b>", "&amp;", "\u202eBTC", "B" * 256, "all all", "ALL"]

    @hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(st.text(max_size=64))
    def draw(text: str) -> None:
        drawn.append(text)

    draw()
    async with running(settings, db):
        for text in drawn:
            answer = await ask(tg, ANN, text)
            assert len(answer["results"]) <= 1, text
            for result in answer["results"]:
                assert result["type"] == "article", text
                shown = result["plain"].lower()  # what was typed is shown, never obeyed
                assert "zq" not in shown or "<b>zq</b>" in shown, (text, shown)
    assert tg.call_count("answerInlineQuery", ok=False) == 0
    assert tg.calls_of("sendPhoto") == []
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == []


async def test_a_user_flooding_inline_queries_gets_empty_answers_others_do_not(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db):
        for _ in range(INLINE_QUERIES_PER_MINUTE):
            assert (await ask(tg, ANN, ""))["results"][0]["type"] == "article"
        flooded = await ask(tg, ANN, "")
        assert flooded["results"] == [] and flooded["is_personal"]
        assert flooded["cache_time"] >= 1
        assert (await ask(tg, BOB, ""))["results"][0]["type"] == "article"


async def test_a_venue_down_or_not_recorded_yet_gets_a_card_with_the_reason(
    tg: FakeTelegram,
    settings: Settings,
    db: Database,
    okx: FakeOkx,
    hyperliquid: FakeHyperliquid,
) -> None:
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}
    async with running(replace(settings, exchange_urls=urls, inline_cache_chat=STORAGE), db):
        waiting = await ask(tg, ANN, "hyperliquid:BTC")
        (card,) = waiting["results"]
        assert card["title"] == "No map for that"
        assert "hyperliquid publishes no open-interest history" in card["plain"]
        okx.inject(Fault(503, "down"), "/api/v5/market/", times=None)
        down = await ask(tg, ANN, "SOL 1d")
        (card,) = down["results"]
        assert card["description"].startswith("okx is unavailable right now")
        assert down["cache_time"] == 10 and not down["is_personal"]
    assert photos_to(tg, STORAGE) == []
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == []
