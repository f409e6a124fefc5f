"""Hyperliquid through the real ccxt client against the fake ``POST /info``
(tests/fakes/hyperliquid.py): its USDC perpetuals, candle pages, current open interest, its
rate limit, and ``all`` leaving it out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from liqmap.market.timeframes import DAY_MS, MINUTE_MS, floor_to
from liqmap.market.venues import HYPERLIQUID
from tests.conftest import Adapter
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import CANDLES_KEPT, RATE_LIMITED, FakeHyperliquid
from tests.fakes.okx import FakeOkx

pytestmark = pytest.mark.fixed_clock


async def test_hyperliquid_btc_is_the_usdc_perpetual_and_no_spot_market_is_listed(
    hyperliquid: FakeHyperliquid, adapter: Adapter
) -> None:
    async with adapter(hyperliquid=hyperliquid.url) as market:
        inst = await market.instrument("hyperliquid:BTC")
        book = await market.book("hyperliquid")
    assert (inst.symbol, inst.native_id, inst.settle, inst.kind) == (
        "BTC/USDC:USDC", "BTC", "USDC", "swap"
    )  # fmt: skip
    assert inst.linear and inst.max_leverage == 40
    assert sorted(i.native_id for i in book.instruments) == ["BTC", "ETH", "SOL"]
    assert hyperliquid.info_types() == ["spotMeta", "metaAndAssetCtxs"], (
        "ccxt reads currencies from spotMeta, the perpetuals from metaAndAssetCtxs; "
        "no spotMetaAndAssetCtxs, no perpDexs: fetchMarkets is limited to swap"
    )


async def test_candles_page_back_to_the_latest_5000_the_exchange_keeps(
    hyperliquid: FakeHyperliquid, adapter: Adapter, clock: Clock
) -> None:
    async with adapter(hyperliquid=hyperliquid.url) as market:
        inst = await market.instrument("hyperliquid:ETH")
        hyperliquid.reset_log()
        candles = await market.candles(inst, "5m", clock() - 30 * DAY_MS)
    step = 5 * MINUTE_MS
    last_closed = floor_to(clock(), step) - step
    assert int(candles.ts[-1]) == last_closed
    assert int(candles.ts[0]) == floor_to(clock(), step) - (CANDLES_KEPT - 1) * step
    assert len(candles) == CANDLES_KEPT - 1, "the 5000th is the bar still open"
    tape = hyperliquid.tape("ETH").bars(step, int(candles.ts[0]), last_closed + step)
    assert candles.close.tolist() == pytest.approx([round(row[4], 1) for row in tape])
    asks = [json.loads(r.body) for r in hyperliquid.seen("/info")]
    assert {a["type"] for a in asks} == {"candleSnapshot"}
    assert all(a["req"]["coin"] == "ETH" and a["req"]["interval"] == "5m" for a in asks)
    assert len(asks) == 2, "30 days is 8,640 bars: two pages of 5,000 asked"


async def test_open_interest_now_is_coins_at_the_mark_price(
    hyperliquid: FakeHyperliquid, adapter: Adapter
) -> None:
    async with adapter(hyperliquid=hyperliquid.url) as market:
        usd = await market.open_interest_now("hyperliquid")
    expected = hyperliquid.tape("BTC").open_interest_now()
    assert usd["BTC/USDC:USDC"] == pytest.approx(expected, rel=1e-4), "5 decimals of coins"
    assert set(usd) == {"BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC"}


async def test_largest_ranks_the_usdc_perpetuals_by_coins_at_the_mark_in_one_request(
    hyperliquid: FakeHyperliquid, adapter: Adapter
) -> None:
    hyperliquid.tape("SOL").add_open_interest(1e9)  # SOL now leads BTC and ETH
    async with adapter(hyperliquid=hyperliquid.url) as market:
        await market.book("hyperliquid")
        hyperliquid.reset_log()
        largest = await market.largest("hyperliquid", 2)
    assert [inst.key for inst in largest] == ["hyperliquid:SOL", "hyperliquid:BTC"]
    assert hyperliquid.info_types() == ["metaAndAssetCtxs"]


async def test_a_429_is_retried_and_the_candles_still_come(
    hyperliquid: FakeHyperliquid, adapter: Adapter, clock: Clock
) -> None:
    async with adapter(hyperliquid=hyperliquid.url) as market:
        inst = await market.instrument("hyperliquid:BTC")
        hyperliquid.inject(RATE_LIMITED, "/info", times=2)
        candles = await market.candles(inst, "1h", clock() - DAY_MS)
        assert market.errors["hyperliquid"] == 2
    assert len(candles) == 23, "a day back from 12:00:30: the hours opening 13:00 .. 11:00"
    assert hyperliquid.info_types()[-3:] == ["candleSnapshot"] * 3


def test_the_fake_answers_429_past_1200_weight_a_minute(
    hyperliquid: FakeHyperliquid, clock: Clock
) -> None:
    def post(kind: str) -> int:
        body = json.dumps({"type": kind}).encode()
        request = urllib.request.Request(f"{hyperliquid.url}/info", body, method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert [post("meta") for _ in range(60)] == [200] * 60, "60 x 20 = 1200"
    assert post("meta") == 429
    clock.advance(MINUTE_MS)
    assert post("meta") == 200


async def test_all_sums_the_three_centralized_exchanges_without_hyperliquid(
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    hyperliquid: FakeHyperliquid,
    adapter: Adapter,
) -> None:
    urls = {"okx": okx.url, "binance": binance.url, "bybit": bybit.url}
    async with adapter(**urls, hyperliquid=hyperliquid.url) as market:
        inst = await market.instrument("all:BTC")
    assert [m.exchange for m in inst.members] == ["okx", "binance", "bybit"]
    assert inst.missing == ()
    assert hyperliquid.count() == 0
    assert HYPERLIQUID.oi_steps == () and HYPERLIQUID.oi_recorded
