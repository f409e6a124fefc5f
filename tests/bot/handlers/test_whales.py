"""``/whales`` in the bot: the largest real Hyperliquid positions liquidating near price, read
from the fake's accounts and stored as the scanner stores them; with their coverage of the open
interest, how old the reads are, stale marks, and one short line for what it cannot answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.deps import BotDeps
from jobs.market_sync import record_open_interest
from jobs.on_demand.whales import PRICE_FRESH_MS
from liqmap.config import Settings
from liqmap.market.positions import AccountRead, Position
from liqmap.market.timeframes import MINUTE_MS
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ADMIN_GROUP, ANN, BOB, running, say, words

pytestmark = pytest.mark.fixed_clock

Bot = Callable[..., AbstractAsyncContextManager[BotDeps]]


@pytest.fixture
def bot(settings: Settings, hyperliquid: FakeHyperliquid, db: Database, clock: Clock) -> Bot:
    """The bot reaching the fake Hyperliquid, with ``changes`` to its settings."""
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}

    def start(**changes: object) -> AbstractAsyncContextManager[BotDeps]:
        return running(replace(settings, exchange_urls=urls, **changes), db, clock)

    return start


@pytest.fixture
async def scanned(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores
) -> AsyncIterator[list[AccountRead]]:
    """Forty of the fake's accounts read in one pass and stored, and BTC's open interest
    recorded: what the scanner leaves for ``/whales``."""
    addresses = hyperliquid.open_accounts(40)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        btc = await market.instrument("hyperliquid:BTC")
        await record_open_interest(market, stores, [btc])
        pass_id = stores.positions.begin_pass(market.now())
        reads = [await market.account(a) for a in addresses]
        for read in reads:
            stores.positions.save(read, pass_id)
    yield reads


def near_price(reads: list[AccountRead], price: float) -> list[Position]:
    """BTC positions liquidating within 10% of price on their own side, largest first."""
    held = [p for r in reads for p in r.positions if p.coin == "BTC" and p.liquidation]
    near = [
        p for p in held
        if (p.liquidation < price if p.side == "long" else p.liquidation > price)
        and abs(p.liquidation / price - 1) <= 0.10
    ]  # fmt: skip
    return sorted(near, key=lambda p: -p.value)


async def test_whales_lists_the_largest_positions_near_price_with_coverage_and_age(
    tg: FakeTelegram, bot: Bot, hyperliquid: FakeHyperliquid, scanned: list[AccountRead]
) -> None:
    price = hyperliquid.tape("BTC").last_price()
    expected = near_price(scanned, price)
    assert len(expected) > 10, "enough of the fake's accounts for a full board"
    async with bot():
        (reply,) = await say(tg, ANN, "/whales BTC")
    lines = words(reply).splitlines()
    assert lines[0].startswith("🐋 BTC (hyperliquid) · price ")
    assert lines[1] == "The largest real positions liquidating within 10% of price:"
    rows = lines[2:12]
    assert [row.split(" · ")[-1] for row in rows] == [
        f"{p.address[:6]}…{p.address[-4:]}" for p in expected[:10]
    ], "largest first, addresses shortened"
    first = expected[0]
    side = "🟢 LONG" if first.side == "long" else "🔴 SHORT"
    assert rows[0].startswith(f"1. {side} ")
    assert f"{first.leverage:g}× {first.mode}" in rows[0]
    distance = abs(first.liquidation / price - 1) * 100
    assert f"({distance:.1f}% {'below' if first.side == 'long' else 'above'})" in rows[0]
    assert not any("stale" in row for row in rows)
    assert lines[12].startswith(f"Not listed: {len(expected) - 10} smaller within 10%")
    held = sum(p.value for r in scanned for p in r.positions if p.coin == "BTC")
    coverage = held / hyperliquid.tape("BTC").open_interest_now()
    assert f"{coverage:.1%} of the" in lines[-2] and lines[-2].startswith("Coverage: ")
    assert lines[-1] == "Read just now."
    assert len(reply["text"]) <= 4096


async def test_chats_asking_within_seconds_share_one_price_request(
    tg: FakeTelegram,
    bot: Bot,
    hyperliquid: FakeHyperliquid,
    clock: Clock,
    scanned: list[AccountRead],
) -> None:
    async with bot():
        await say(tg, ANN, "/whales BTC")
        asked = len(hyperliquid.info_types())
        await say(tg, BOB, "/whales BTC")
        assert len(hyperliquid.info_types()) == asked, "the price of 10 s ago served Bob"
        clock.advance(PRICE_FRESH_MS)
        await say(tg, BOB, "/whales hyperliquid:BTC")
        assert len(hyperliquid.info_types()) > asked, "then it is fetched again"


async def test_a_later_pass_marks_the_positions_it_missed_stale_and_says_how_old(
    tg: FakeTelegram,
    bot: Bot,
    hyperliquid: FakeHyperliquid,
    adapter: Adapter,
    stores: Stores,
    clock: Clock,
    scanned: list[AccountRead],
) -> None:
    clock.advance(30 * MINUTE_MS)
    again = scanned[: len(scanned) // 2]
    async with adapter(hyperliquid=hyperliquid.url) as market:
        pass_id = stores.positions.begin_pass(clock())
        for read in again:
            stores.positions.save(await market.account(read.address), pass_id)
        stores.positions.finish_pass(pass_id, clock(), len(again), 0, 0, 2.0 * len(again))
    missed = {r.address for r in scanned[len(scanned) // 2 :] for p in r.positions
              if p.coin == "BTC"}  # fmt: skip
    async with bot():
        (reply,) = await say(tg, ANN, "/whales hyperliquid:BTC")
    lines = words(reply).splitlines()
    rows = [line for line in lines if line[:1].isdigit()]
    for row in rows:
        shown = row.replace(" · ⚠️ stale", "").split(" · ")[-1]
        stale = any(shown == f"{a[:6]}…{a[-4:]}" for a in missed)
        assert row.endswith("⚠️ stale") == stale, row
    assert any(row.endswith("⚠️ stale") for row in rows)
    assert lines[-1].startswith(f"Read just now (oldest 30 min ago); ⚠️ {len(missed)} stale")


async def test_the_owner_can_hide_the_addresses(
    tg: FakeTelegram, bot: Bot, scanned: list[AccountRead]
) -> None:
    async with bot(whale_addresses="hidden"):
        (reply,) = await say(tg, ANN, "/whales BTC")
    text = words(reply)
    assert "0x" not in text and "…" not in text
    assert "1. " in text and "× " in text, "the rows are there, without their accounts"


async def test_what_whales_cannot_answer_gets_one_short_line(tg: FakeTelegram, bot: Bot) -> None:
    async with bot():
        (none,) = await say(tg, ANN, "/whales BTC")
        (unknown,) = await say(tg, ANN, "/whales FOO")
        (elsewhere,) = await say(tg, ANN, "/whales okx:BTC")
        (empty,) = await say(tg, ANN, "/whales")
        (huge,) = await say(tg, ANN, "/whales " + "B" * 5000)
    assert words(none) == (
        "No positions scanned for BTC yet: the scanner reads the accounts of watched "
        "hyperliquid instruments; /subscribe hyperliquid:BTC starts it."
    )
    assert words(unknown).startswith("unknown instrument FOO on hyperliquid")
    assert words(elsewhere).startswith(
        "positions are public only on hyperliquid, not okx. Usage: /whales COIN"
    )
    assert words(empty).startswith("Usage: /whales COIN")
    for reply in (none, unknown, elsewhere, empty, huge):
        assert "\n" not in words(reply) and len(words(reply)) < 400
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == []


async def test_whales_answers_arbitrary_arguments_briefly(tg: FakeTelegram, bot: Bot) -> None:
    drawn: list[str] = []

    @hypothesis_settings(max_examples=12, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=3))
    def draw(args: list[str]) -> None:
        text = " ".join(args).strip()
        if text and "\n" not in text:
            drawn.append(f"/whales {text}")

    draw()
    async with bot():
        for text in drawn:
            (reply,) = await say(tg, ANN, text)
            answer = words(reply)
            assert not answer.startswith("Sorry, something went wrong"), text
            assert "\n" not in answer and len(answer) < 600, (text, answer)
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == []
