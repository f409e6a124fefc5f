"""``/heatmap`` as users meet it: a chart built from the market cache, one exchange or all."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlite_utils import Database

from liqmap.config import Settings
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, BOB, running, say, words
from tests.support.png import png_size

pytestmark = pytest.mark.fixed_clock


async def test_heatmap_answers_with_a_chart_and_sends_it_again_by_its_file_id(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(settings, db, clock):
        (photo,) = await say(tg, ANN, "/heatmap BTC 1d")
        assert photo["method"] == "sendPhoto"
        assert png_size(photo["photo"]) == (1280, 720)
        caption = words(photo)
        assert caption.startswith("BTC-USDT-SWAP · okx · 1d liquidation heatmap")
        assert re.search(r"Hottest band now: [\d,.]+–[\d,.]+ · \$[\d.]+[KMB]? · ", caption)
        assert "Price " in caption and "Data to " in caption
        assert "upload_photo" in tg.chat_actions(ANN)
        candles = okx.count("/api/v5/market/candles") + okx.count("/api/v5/market/history-candles")
        assert candles > 0, "built from the market cache, synced on the first request"

        (again,) = await say(tg, BOB, "/heatmap btc-usdt-swap 1d")
        last = tg.calls_of("sendPhoto")[-1]
        assert not last["files"] and last["params"]["photo"] == photo["file_id"]
        assert words(again) == caption
        assert "upload_photo" not in tg.chat_actions(BOB)

        clock.advance(10 * 60_000)  # past the freshness: made again from the cache
        (later,) = await say(tg, BOB, "/heatmap BTC 1d")
        assert tg.calls_of("sendPhoto")[-1]["files"], "a new chart is uploaded"
        assert words(later) != caption


async def test_heatmap_all_sums_the_exchanges_and_names_one_that_is_down(
    tg: FakeTelegram, every_exchange: Settings, db: Database, clock: Clock, bybit: FakeBybit
) -> None:
    async with running(every_exchange, db, clock):
        (photo,) = await say(tg, ANN, "/heatmap BTC 1d all")
        caption = words(photo)
        assert caption.startswith("BTC · okx+binance+bybit · 1d liquidation heatmap")
        assert re.search(r"Summed over okx \d+% · binance \d+% · bybit \d+%", caption)
        assert png_size(photo["photo"]) == (1280, 720)

        bybit.inject(Fault(disconnect=True), "/", times=None)
        clock.advance(10 * 60_000)
        (partial,) = await say(tg, ANN, "/heatmap all BTC 1d")
        caption = words(partial)
        assert caption.startswith("BTC · okx+binance · 1d liquidation heatmap")
        assert "bybit left out: " in caption


async def test_bad_heatmap_requests_get_a_short_answer_and_new_ones_cost_budget(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(replace(settings, maps_per_minute=2), db, clock):
        (usage,) = await say(tg, ANN, "/heatmap")
        assert words(usage).startswith("Usage: /heatmap SYMBOL [1d|7d|30d] [all]")
        (twice,) = await say(tg, ANN, "/heatmap BTC 1d 7d")
        assert words(twice).startswith("Usage: /heatmap")
        (unknown,) = await say(tg, ANN, "/heatmap NOPE")
        assert "NOPE" in words(unknown) and unknown["method"] == "sendMessage"
        await say(tg, ANN, "/heatmap BTC 1d")
        await say(tg, ANN, "/heatmap ETH 1d")
        (refused,) = await say(tg, ANN, "/heatmap SOL 1d")
        assert words(refused).startswith("That is a lot of new maps at once; try again in")
        (kept,) = await say(tg, ANN, "/heatmap BTC 1d")
        assert kept["method"] == "sendPhoto", "a heatmap made moments ago costs nothing"
        fetched = {r.query.get("instId") for path in ("candles", "history-candles")
                   for r in okx.seen(f"/api/v5/market/{path}")}  # fmt: skip
        assert fetched == {"BTC-USDT-SWAP", "ETH-USDT-SWAP"}, "the refused one fetched nothing"


async def test_an_exchange_error_serves_the_last_heatmap_with_a_warning(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(settings, db, clock):
        await say(tg, ANN, "/heatmap ETH 1d")
        okx.inject(Fault(status=503), "/api/v5/market/", times=None)
        clock.advance(10 * 60_000)
        (stale,) = await say(tg, ANN, "/heatmap ETH 1d")
        assert stale["method"] == "sendPhoto"
        assert "⚠️ data for ETH-USDT-SWAP is unavailable right now" in words(stale)
        assert "this heatmap was made 10 min ago" in words(stale)
        (none,) = await say(tg, ANN, "/heatmap SOL 1d")
        assert none["method"] == "sendMessage" and "unavailable" in words(none)
