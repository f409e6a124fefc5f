"""The adapter against a fake OKX: real ccxt, real wire format, paging and limits."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.errors import UnsupportedRequest
from liqmap.market_data import MarketData
from liqmap.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_to
from tests.conftest import FAST_CCXT, FAST_RETRY
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx


async def test_every_symbol_form_resolves_through_the_exchange_list(
    okx: FakeOkx, market: MarketData
) -> None:
    future = next(i.inst_id for i in okx.instruments if i.inst_type == "FUTURES")
    yymmdd = future.rsplit("-", 1)[1]
    expected = {
        "BTC": "BTC-USDT-SWAP",
        "btc": "BTC-USDT-SWAP",
        "BTC-USDT-SWAP": "BTC-USDT-SWAP",
        "BTC/USDT:USDT": "BTC-USDT-SWAP",
        "okx:eth": "ETH-USDT-SWAP",
        future: future,
        f"BTC/USDT:USDT-{yymmdd}": future,
        "BTC-USD-SWAP": "BTC-USD-SWAP",
    }
    for typed, native in expected.items():
        assert (await market.instrument(typed)).native_id == native, typed
    perp = await market.instrument("BTC")
    assert (perp.contract_size, perp.linear, perp.kind) == (0.01, True, "swap")
    inverse = await market.instrument("BTC-USD-SWAP")
    assert (inverse.contract_size, inverse.linear) == (100.0, False)
    dated = await market.instrument(future)
    assert dated.kind == "future" and dated.expiry_ms == okx.instruments[-1].exp_time


async def test_instrument_list_is_loaded_once_and_refreshed_daily(okx: FakeOkx) -> None:
    clock = Clock()
    async with MarketData(
        urls={"okx": okx.url}, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT
    ) as market:
        for symbol in ("BTC", "ETH", "BTC-USD-SWAP", "SOL"):
            await market.instrument(symbol)
        # swaps and futures only: one request each
        assert okx.count("/api/v5/public/instruments") == 2
        assert {r.query["instType"] for r in okx.seen("/api/v5/public/instruments")} == {
            "SWAP",
            "FUTURES",
        }
        clock.advance(DAY_MS + 1)
        await market.instrument("BTC")
        assert okx.count("/api/v5/public/instruments") == 4


async def test_a_failed_daily_refresh_keeps_the_old_list(okx: FakeOkx) -> None:
    from tests.fakes.http import Fault

    clock = Clock()
    async with MarketData(
        urls={"okx": okx.url}, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT
    ) as market:
        await market.instrument("BTC")
        clock.advance(DAY_MS + 1)
        okx.inject(Fault(503, "down"), "/api/v5/public/instruments", times=None)
        assert (await market.instrument("ETH")).native_id == "ETH-USDT-SWAP"
        failed = okx.count("/api/v5/public/instruments")
        await market.instrument("BTC")  # no new attempt right away
        assert okx.count("/api/v5/public/instruments") == failed


async def test_candles_page_through_recent_and_history_endpoints(
    okx: FakeOkx, market: MarketData
) -> None:
    inst = await market.instrument("BTC")
    now = market.now()
    since = floor_to(now, MINUTE_MS) - 2 * DAY_MS
    okx.reset_log()
    candles = await market.candles(inst, "1m", since)

    assert len(candles) == 2 * 24 * 60
    assert candles.ts[0] == since
    assert np.all(np.diff(candles.ts) == MINUTE_MS)
    assert candles.ts[-1] + MINUTE_MS <= now, "the still-open candle is never returned"
    # the last 1,440 bars come from /candles, older ones from history: 300 a page on both
    recent = okx.seen("/api/v5/market/candles")
    history = okx.seen("/api/v5/market/history-candles")
    assert {r.query["limit"] for r in recent} == {"300"}
    assert {r.query["limit"] for r in history} == {"300"}
    assert len(history) == 5 and len(recent) == 5
    # values are the exchange's, to the cent
    bars = okx.tape("BTC-USDT-SWAP").bars(MINUTE_MS, since, since + 3 * MINUTE_MS)
    for row, bar in zip(candles.rows()[:3], bars, strict=True):
        assert row[0] == bar[0]
        assert row[1:5] == pytest.approx([round(x, 2) for x in bar[1:5]], abs=0.006)
        assert row[5] == pytest.approx(bar[5], rel=1e-4)


async def test_candles_at_coarser_steps_and_an_empty_range(
    okx: FakeOkx, market: MarketData
) -> None:
    inst = await market.instrument("ETH")
    now = market.now()
    hourly = await market.candles(inst, "1h", floor_to(now, HOUR_MS) - 7 * DAY_MS)
    assert len(hourly) == 7 * 24
    assert set(np.diff(hourly.ts).tolist()) == {HOUR_MS}
    assert len(await market.candles(inst, "5m", now, now + HOUR_MS)) == 0


async def test_open_interest_in_usd_paged_100_rows(okx: FakeOkx, market: MarketData) -> None:
    inst = await market.instrument("BTC")
    now = market.now()
    since = floor_to(now, 300_000) - DAY_MS
    okx.reset_log()
    oi = await market.open_interest(inst, "5m", since)
    assert len(oi) == 289  # both ends of the day: the latest snapshot is published
    assert oi.ts[0] == since
    assert okx.count("/api/v5/rubik/stat/contracts/open-interest-history") == 3
    tape = okx.tape("BTC-USDT-SWAP").open_interest(300_000, since, since + 1)
    assert oi.usd[0] == pytest.approx(tape[0][1], abs=0.006)


async def test_open_interest_steps_are_stated_and_history_is_asked_for(
    okx: FakeOkx, market: MarketData
) -> None:
    inst = await market.instrument("BTC")
    now = market.now()
    okx.reset_log()
    with pytest.raises(UnsupportedRequest, match="only at 5m, 1h, 1d steps, not 1m"):
        await market.open_interest(inst, "1m", now - HOUR_MS)
    assert okx.count() == 0, "refused before asking the exchange"
    # OKX documents its 5m retention two ways, so it is asked; what it lacks is missing
    since = floor_to(now, 300_000) - 6 * DAY_MS
    five = await market.open_interest(inst, "5m", since)
    assert five.ts[0] == floor_to(now, 300_000) - 1439 * 300_000, "only the latest 1,440 rows"
    okx.oi_rows_kept = None
    assert (await market.open_interest(inst, "5m", since)).ts[0] == since
    hourly = await market.open_interest(inst, "1h", floor_to(now, HOUR_MS) - 30 * DAY_MS)
    assert len(hourly) == 30 * 24 + 1


async def test_prices_for_many_instruments_in_one_request_per_kind(
    okx: FakeOkx, market: MarketData
) -> None:
    future = next(i.inst_id for i in okx.instruments if i.inst_type == "FUTURES")
    instruments = [await market.instrument(s) for s in ("BTC", "ETH", "SOL", "BTC-USD", future)]
    okx.tape("ETH-USDT-SWAP").set_price(3210.5)
    okx.reset_log()
    prices = await market.prices(instruments)
    assert okx.count("/api/v5/public/mark-price") == 2  # SWAP and FUTURES
    assert okx.count() == 2
    assert set(prices) == {i.key for i in instruments}
    assert prices["okx:ETH-USDT-SWAP"].value == 3210.5
    assert prices["okx:ETH-USDT-SWAP"].kind == "mark"


async def test_last_price_when_the_exchange_gives_no_mark(okx: FakeOkx, market: MarketData) -> None:
    from tests.fakes.okx import okx_error

    inst = await market.instrument("SOL")
    okx.tape("SOL-USDT-SWAP").set_price(151.25)
    okx.inject(okx_error("0", ""), "/api/v5/public/mark-price")  # an empty answer
    prices = await market.prices([inst])
    assert prices[inst.key].value == 151.25
    assert prices[inst.key].kind == "last"
    assert okx.count("/api/v5/market/tickers") == 1


async def test_url_override_sends_everything_to_the_given_host(okx: FakeOkx) -> None:
    async with MarketData(
        urls={"okx": okx.url},
        retry=FAST_RETRY,
        ccxt_config=FAST_CCXT,
    ) as market:
        inst = await market.instrument("BTC")
        await market.candles(inst, "1h", market.now() - 3 * HOUR_MS)
        await market.prices([inst])
    assert okx.count("/api/v5/public/instruments") == 2
    assert okx.count("/api/v5/market/candles") == 1
    assert okx.count("/api/v5/public/mark-price") == 1


async def test_one_ccxt_instance_per_exchange_closed_on_shutdown(okx: FakeOkx) -> None:
    market = MarketData(urls={"okx": okx.url}, retry=FAST_RETRY, ccxt_config=FAST_CCXT)
    await market.instrument("BTC")
    instance = market._exchange("okx")
    await market.prices([await market.instrument("ETH")])
    assert market._exchange("okx") is instance
    assert instance.session is not None
    await market.close()
    assert instance.session is None
    assert market._exchanges == {}
