"""Hyperliquid in the bot: ``/map hyperliquid:BTC`` says in one line that its open interest is
still being recorded, and the instrument can be followed so that refreshes record it; ``/top``
with Hyperliquid the default exchange ranks its largest perpetuals and says in one line which
have no map yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, running, say, words


@pytest.fixture
async def on_hyperliquid(
    settings: Settings, hyperliquid: FakeHyperliquid, db: Database
) -> AsyncIterator[BotDeps]:
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}
    async with running(replace(settings, exchange_urls=urls), db) as services:
        yield services


async def test_a_hyperliquid_map_waits_for_recorded_open_interest_and_can_be_followed(
    tg: FakeTelegram, on_hyperliquid: BotDeps
) -> None:
    (answer,) = await say(tg, ANN, "/map hyperliquid:BTC")
    assert answer["method"] == "sendMessage"
    text = words(answer)
    assert "hyperliquid publishes no open-interest history" in text
    assert "0 snapshot(s) of BTC so far; a map needs at least 2" in text
    (followed,) = await say(tg, ANN, "/subscribe hyperliquid:BTC")
    assert "BTC" in words(followed) and "hyperliquid" in words(followed)
    watched = await on_hyperliquid.stores.run(on_hyperliquid.stores.chats.watched_instruments)
    assert watched == ["hyperliquid:BTC"]


@pytest.fixture
async def hyperliquid_default(
    settings: Settings, hyperliquid: FakeHyperliquid, db: Database
) -> AsyncIterator[BotDeps]:
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}
    changed = replace(settings, exchange_urls=urls, default_exchange="hyperliquid")
    async with running(changed, db) as services:
        yield services


async def test_top_on_hyperliquid_ranks_its_largest_perpetuals_and_says_in_one_line_why_no_map(
    tg: FakeTelegram, hyperliquid_default: BotDeps, hyperliquid: FakeHyperliquid
) -> None:
    (reply,) = await say(tg, ANN, "/top 2")
    assert words(reply).splitlines() == [
        "Nearest dense clusters · the largest hyperliquid perpetuals by open interest "
        "(no watchlist yet), most urgent first",
        "No dense cluster on these maps.",
        "Not screened: hyperliquid:BTC, hyperliquid:ETH (hyperliquid publishes no "
        "open-interest history; liqmap records it at each refresh of a watched instrument, "
        "and a map needs 2 snapshots)",
    ]
    asked = hyperliquid.info_types()
    assert asked.count("metaAndAssetCtxs") == 2, "the markets once, the ranking in one request"


async def test_accuracy_of_hyperliquid_btc_is_one_line_saying_why_there_is_none(
    tg: FakeTelegram, on_hyperliquid: BotDeps
) -> None:
    (answer,) = await say(tg, ANN, "/accuracy hyperliquid:BTC")
    assert answer["method"] == "sendMessage"
    assert words(answer) == (
        "No live accuracy for BTC on hyperliquid: liqmap records liquidations on okx, binance "
        "and bybit only, not on hyperliquid."
    )
    assert len(on_hyperliquid.budgets.policy) == 0, "no map budget charged for it"


async def test_top_with_an_exchange_name_says_in_one_line_that_it_takes_none(
    tg: FakeTelegram, on_hyperliquid: BotDeps
) -> None:
    (reply,) = await say(tg, ANN, "/top hyperliquid")
    assert words(reply) == (
        "/top takes no exchange: it screens this chat's watchlist, or without one the default "
        "exchange's largest perpetuals; /subscribe hyperliquid:BTC puts one in the watchlist. "
        "Usage: /top [N] — the N (1–10) most urgent clusters, e.g. /top, /top 10"
    )
