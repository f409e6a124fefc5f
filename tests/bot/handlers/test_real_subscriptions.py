"""``/subscribe hyperliquid:BTC real``: a subscription that alerts on real clusters too, shown
by ``/list``, switched by its button, gone with ``/unsubscribe``; refused in one line, by
command or by button, for an instrument whose venue hides its positions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ANN,
    BOT,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    press,
    running,
    say,
    words,
)

pytestmark = pytest.mark.fixed_clock
KEY, OKX_BTC = "hyperliquid:BTC", "okx:BTC-USDT-SWAP"


@pytest.fixture
async def core(
    settings: Settings, hyperliquid: FakeHyperliquid, db: Database, clock: Clock
) -> AsyncIterator[BotDeps]:
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}
    async with running(replace(settings, exchange_urls=urls), db, clock) as deps:
        yield deps


def datas(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b.get("callback_data", "") for row in rows for b in row]


async def test_real_alerts_are_asked_for_listed_changed_and_dropped(
    tg: FakeTelegram, core: BotDeps
) -> None:
    real = core.stores.real_alerts
    (on,) = await say(tg, ANN, "/subscribe hyperliquid:BTC real")
    assert words(on).startswith("🔔 Subscribed to BTC on hyperliquid")
    assert "🐋 Also when price comes near a cluster of real positions' liquidation" in words(on)
    assert real.watching(ANN, KEY)
    (again,) = await say(tg, ANN, "/subscribe hyperliquid:BTC")
    assert "building alerts off, real-cluster alerts on." in words(again)
    (listing,) = await say(tg, ANN, "/list")
    assert "• hyperliquid:BTC — within 1% · no map yet · 🐋 real clusters too" in words(listing)
    (off,) = await say(tg, ANN, "/subscribe hyperliquid:BTC real off")
    assert words(off) == (
        "Updated BTC on hyperliquid: alerts within 1% (the chat's default) (unchanged); "
        "building alerts off (unchanged); real-cluster alerts on → off."
    )
    assert not real.watching(ANN, KEY)
    await say(tg, ANN, "/subscribe hyperliquid:BTC 0.5 real building")
    assert real.watching(ANN, KEY)
    (gone,) = await say(tg, ANN, "/unsubscribe hyperliquid:BTC")
    assert words(gone) == "Stopped alerts for hyperliquid:BTC."
    assert real.watched(ANN) == set() and real.watches(KEY) == {}


async def test_real_alerts_on_a_venue_that_hides_positions_are_one_line_and_change_nothing(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (refused,) = await say(tg, ANN, "/subscribe BTC 0.5 real")
    assert words(refused) == (
        "Real-cluster alerts need public positions, and only hyperliquid publishes them, not "
        "okx: e.g. /subscribe hyperliquid:BTC real"
    )
    assert core.stores.chats.subscriptions(ANN) == [], "nothing subscribed"
    (summed,) = await say(tg, ANN, "/subscribe BTC all real")
    assert "not a sum of exchanges" in words(summed) and "\n" not in words(summed)
    await say(tg, ANN, "/subscribe BTC")
    (kept,) = await say(tg, ANN, "/subscribe BTC 2 real")
    assert words(kept).startswith("Real-cluster alerts need public positions")
    (sub,) = core.stores.chats.subscriptions(ANN)
    assert sub.distance_pct is None, "the distance asked beside it was not applied either"


async def test_the_list_button_switches_real_alerts_and_a_forged_press_does_nothing(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, ANN, "/subscribe hyperliquid:BTC")
    await say(tg, ANN, "/subscribe BTC")
    (listing,) = await say(tg, ANN, "/list")
    view = f"sub|v||{KEY}"
    assert view in datas(listing)
    mark = tg.mark()
    tg.user_clicks(ANN, listing["message_id"], view)
    await tg.wait_for("editMessageText", since=mark)
    detail = tg.message(ANN, listing["message_id"])
    assert f"sub|r|on|{KEY}" in datas(detail)
    mark = tg.mark()
    tg.user_clicks(ANN, listing["message_id"], f"sub|r|on|{KEY}")
    await tg.wait_for("editMessageText", since=mark)
    answer = await tg.wait_for("answerCallbackQuery", since=mark)
    redrawn = tg.message(ANN, listing["message_id"])
    assert f"sub|r|off|{KEY}" in datas(redrawn) and "🐋 real clusters too" in redrawn["text"]
    assert answer["params"]["text"] == "Real-cluster alerts for hyperliquid:BTC on."
    assert core.stores.real_alerts.watching(ANN, KEY)

    # the okx subscription's controls offer no such button; a forged press does nothing
    mark = tg.mark()
    tg.user_clicks(ANN, listing["message_id"], "sub|l||")
    await tg.wait_for("editMessageText", since=mark)
    mark = tg.mark()
    tg.user_clicks(ANN, listing["message_id"], f"sub|v||{OKX_BTC}")
    await tg.wait_for("editMessageText", since=mark)
    okx_detail = tg.message(ANN, listing["message_id"])
    assert not [d for d in datas(okx_detail) if d.startswith("sub|r|")]
    forged = await press(tg, ANN, listing["message_id"], f"sub|r|on|{OKX_BTC}")
    assert forged["params"]["text"] == "This button no longer works; send /list again."
    assert core.stores.real_alerts.watched(ANN) == {KEY}


async def test_in_a_group_only_administrators_turn_real_alerts_on(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (member,) = await say(tg, GROUP, f"/subscribe@{BOT} hyperliquid:BTC real", user_id=MEMBER)
    assert words(member) == "Only group administrators can change subscriptions and settings here."
    assert not core.stores.real_alerts.watching(GROUP, KEY)
    await say(tg, GROUP, f"/subscribe@{BOT} hyperliquid:BTC real", user_id=GROUP_OWNER)
    assert core.stores.real_alerts.watching(GROUP, KEY)
