"""The adapter against fake Binance USD-M and Bybit v5: real ccxt, real wire formats, limits."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest

from liqmap.errors import (
    ExchangeRejected,
    ExchangeUnavailable,
    UnknownInstrument,
    UnsupportedRequest,
)
from liqmap.margins import params_for
from liqmap.market_data import MarketData, Price
from liqmap.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_to, step_ms
from liqmap.venues import BINANCE
from tests.conftest import FAST_CCXT, FAST_RETRY
from tests.fakes.binance import RATE_LIMITED, FakeBinance, binance_error
from tests.fakes.bybit import NOT_SUPPORTED_SYMBOLS, FakeBybit, bybit_error
from tests.fakes.clock import Clock
from tests.fakes.http import Fault

NOW = 1_750_001_234_567
"""2025-06-15 15:27:14.567 UTC: inside a minute, an hour and a day, so nothing is aligned."""

KLINES = "/fapi/v1/klines"
OI_HIST = "/futures/data/openInterestHist"
PREMIUM = "/fapi/v1/premiumIndex"
EXCHANGE_INFO = "/fapi/v1/exchangeInfo"
KLINE = "/v5/market/kline"
OPEN_INTEREST = "/v5/market/open-interest"
TICKERS = "/v5/market/tickers"
INSTRUMENTS = "/v5/market/instruments-info"
FIVE_MIN = 5 * MINUTE_MS


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def binance(clock: Clock) -> Iterator[FakeBinance]:
    with FakeBinance(clock=clock) as fake:
        yield fake


@pytest.fixture
def bybit(clock: Clock) -> Iterator[FakeBybit]:
    with FakeBybit(clock=clock) as fake:
        yield fake


def _adapter(name: str, url: str, clock: Clock) -> MarketData:
    return MarketData(urls={name: url}, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT)


@pytest.fixture
async def bn(binance: FakeBinance, clock: Clock) -> AsyncIterator[MarketData]:
    async with _adapter("binance", binance.url, clock) as adapter:
        yield adapter


@pytest.fixture
async def bb(bybit: FakeBybit, clock: Clock) -> AsyncIterator[MarketData]:
    async with _adapter("bybit", bybit.url, clock) as adapter:
        yield adapter


@pytest.fixture
def dns_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts anything tried to resolve; every lookup fails, so no other host can be reached."""
    looked_up: list[str] = []

    def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, f"test: no DNS for {host}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return looked_up


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- the fakes are as strict as the exchanges ------------------------------------------------


def test_fake_binance_refuses_what_binance_refuses(binance: FakeBinance) -> None:
    base = binance.url
    invalid_symbol = {"code": -1121, "msg": "Invalid symbol."}
    cases = {
        f"{KLINES}?symbol=BTCXYZ&interval=1m": (400, invalid_symbol),
        f"{KLINES}?symbol=BTCUSDT&interval=7m": (400, {"code": -1120, "msg": "Invalid interval."}),
        f"{KLINES}?symbol=BTCUSDT&interval=1m&limit=1501": (400, -1130),
        f"{OI_HIST}?symbol=BTCUSDT&period=5m&limit=501": (400, -1130),
        f"{OI_HIST}?symbol=BTCUSDT&period=1m": (400, -1130),
        f"{OI_HIST}?symbol=BTCUSDT&period=1h&startTime={NOW - 31 * DAY_MS}": (400, -1130),
        f"{PREMIUM}?symbol=NOPEUSDT": (400, invalid_symbol),
    }
    for path, (status, error) in cases.items():
        got_status, body = _get(base + path)
        assert got_status == status, path
        assert body == error if isinstance(error, dict) else body["code"] == error, path
    status, rows = _get(f"{base}{KLINES}?symbol=ETHUSDT&interval=1h")
    assert status == 200 and len(rows) == 500, "500 klines by default"
    assert rows[-1][0] == floor_to(NOW, HOUR_MS), "ending with the still-open kline"
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "oldest first"
    status, rows = _get(f"{base}{KLINES}?symbol=BTCUSDT&interval=1m&limit=1500&startTime=0")
    assert status == 200 and len(rows) == 1500
    status, rows = _get(f"{base}{OI_HIST}?symbol=BTCUSDT&period=5m")
    assert status == 200 and len(rows) == 30, "30 rows by default"
    assert rows[-1]["timestamp"] == floor_to(NOW, FIVE_MIN)


def test_fake_bybit_refuses_what_bybit_refuses(bybit: FakeBybit) -> None:
    base = bybit.url
    cases = {
        f"{KLINE}?category=linear&symbol=BTCXYZ&interval=1": NOT_SUPPORTED_SYMBOLS,
        f"{KLINE}?category=inverse&symbol=BTCUSDT&interval=1": NOT_SUPPORTED_SYMBOLS,
        f"{KLINE}?category=linear&symbol=BTCUSDT&interval=7": "Invalid period!",
        f"{KLINE}?category=linear&symbol=BTCUSDT&interval=1&limit=1001": "limit",
        f"{OPEN_INTEREST}?category=linear&symbol=BTCUSDT&intervalTime=5m": "intervalTime",
        f"{OPEN_INTEREST}?category=linear&symbol=BTCUSDT&intervalTime=5min&limit=201": "limit",
        f"{TICKERS}?category=linear&symbol=NOPEUSDT": NOT_SUPPORTED_SYMBOLS,
        f"{INSTRUMENTS}?category=futures": "Illegal category",
    }
    for path, message in cases.items():
        status, body = _get(base + path)
        assert status == 200, path
        assert body["retCode"] == 10001 and message in body["retMsg"], path
    status, body = _get(f"{base}{KLINE}?category=linear&symbol=BTCUSDT&interval=60")
    rows = body["result"]["list"]
    assert len(rows) == 200, "200 klines by default"
    assert int(rows[0][0]) == floor_to(NOW, HOUR_MS), "newest first, the open one included"
    status, body = _get(f"{base}{OPEN_INTEREST}?category=inverse&symbol=BTCUSD&intervalTime=1h")
    result = body["result"]
    assert len(result["list"]) == 50 and result["nextPageCursor"], "50 rows and a cursor"


# -- Binance ---------------------------------------------------------------------------------


async def test_binance_symbol_forms_resolve_from_one_exchange_info(
    binance: FakeBinance, bn: MarketData
) -> None:
    quarterly = binance.quarterly
    expected = {
        "binance:ETH": "ETHUSDT",
        "binance:eth": "ETHUSDT",
        "binance:BTC": "BTCUSDT",
        "binance:BTCUSDT": "BTCUSDT",
        "binance:BTC/USDT:USDT": "BTCUSDT",
        "binance:BTC-USDT": "BTCUSDT",
        f"binance:{quarterly.symbol}": quarterly.symbol,
        f"binance:BTC/USDT:USDT-{quarterly.symbol[-6:]}": quarterly.symbol,
    }
    for typed, native in expected.items():
        assert (await bn.instrument(typed)).native_id == native, typed
    eth = await bn.instrument("binance:ETH")
    assert (eth.symbol, eth.settle, eth.linear, eth.kind) == ("ETH/USDT:USDT", "USDT", True, "swap")
    assert eth.contract_size == 1.0 and eth.expiry_ms is None
    assert eth.key == "binance:ETHUSDT"
    dated = await bn.instrument(f"binance:{quarterly.symbol}")
    assert (dated.kind, dated.linear, dated.base) == ("future", True, "BTC")
    assert dated.expiry_ms == quarterly.delivery_date > NOW
    assert dated.symbol == f"BTC/USDT:USDT-{quarterly.symbol[-6:]}"
    assert binance.count(EXCHANGE_INFO) == 1
    assert binance.count() == 1, "no currencies, time or spot lists are asked for"


async def test_binance_unknown_symbol_suggests_close_ones(
    binance: FakeBinance, bn: MarketData
) -> None:
    with pytest.raises(UnknownInstrument) as caught:
        await bn.instrument("binance:ETHH")
    assert caught.value.exchange == "binance"
    assert "ETH" in caught.value.suggestions
    with pytest.raises(UnknownInstrument):
        await bn.instrument("binance:BTCUSD")  # an OKX/Bybit-style name for a coin-M market
    assert binance.count(KLINES) == 0


async def test_binance_candles_page_1000_klines_oldest_first(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    since = floor_to(NOW, MINUTE_MS) - 2 * DAY_MS
    binance.reset_log()
    candles = await bn.candles(inst, "1m", since)

    requests = binance.seen(KLINES)
    assert len(requests) == 3  # 2,880 minutes in pages of 1,000
    assert binance.count() == 3
    assert [int(r.query["startTime"]) for r in requests] == [
        since,
        since + 1000 * MINUTE_MS,
        since + 2000 * MINUTE_MS,
    ]
    assert {r.query["limit"] for r in requests} == {"1000"}
    assert {r.query["interval"] for r in requests} == {"1m"}
    assert {r.query["symbol"] for r in requests} == {"BTCUSDT"}
    assert len(candles) == 2 * 24 * 60
    assert candles.ts[0] == since
    assert np.all(np.diff(candles.ts) == MINUTE_MS), "oldest first, no gap, no duplicate"
    assert candles.ts[-1] == floor_to(NOW, MINUTE_MS) - MINUTE_MS, "no still-open candle"
    tape = binance.tape("BTCUSDT").bars(MINUTE_MS, since, floor_to(NOW, MINUTE_MS))
    assert candles.rows() == tape, "the exchange's values exactly, volume in base coins"


async def test_binance_candles_of_the_quarterly_at_a_coarse_step(
    binance: FakeBinance, bn: MarketData
) -> None:
    quarterly = binance.quarterly.symbol
    inst = await bn.instrument(f"binance:{quarterly}")
    since = floor_to(NOW, HOUR_MS) - 7 * DAY_MS - 30 * MINUTE_MS  # not on a candle open
    candles = await bn.candles(inst, "4h", since, NOW - 3 * HOUR_MS)
    first = floor_to(since, 4 * HOUR_MS) + 4 * HOUR_MS
    assert candles.ts[0] == first
    assert candles.ts[-1] + 4 * HOUR_MS <= NOW
    tape = binance.tape(quarterly).bars(4 * HOUR_MS, since, floor_to(NOW, 4 * HOUR_MS))
    assert candles.rows() == tape
    assert binance.count(KLINES) == 1
    assert binance.seen(KLINES)[0].query["symbol"] == quarterly


async def test_binance_open_interest_in_usd_500_rows_a_page(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    since = floor_to(NOW, FIVE_MIN) - 5 * DAY_MS
    binance.reset_log()
    oi = await bn.open_interest(inst, "5m", since)

    requests = binance.seen(OI_HIST)
    assert len(requests) == 3  # 1,441 snapshots in pages of 500
    assert binance.count() == 3, "the USD value comes with the rows: no candles needed"
    assert {r.query["limit"] for r in requests} == {"500"}
    assert {r.query["period"] for r in requests} == {"5m"}
    assert [int(r.query["startTime"]) for r in requests] == [
        since + page * 500 * FIVE_MIN for page in range(3)
    ]
    assert len(oi) == 5 * 288 + 1, "both ends: the latest snapshot is published"
    assert oi.ts[0] == since and oi.ts[-1] == floor_to(NOW, FIVE_MIN)
    assert np.all(np.diff(oi.ts) == FIVE_MIN)
    tape = binance.tape("BTCUSDT").open_interest(FIVE_MIN, since, NOW + 1)
    assert oi.rows() == [(ts, usd) for ts, usd, _ in tape], "sumOpenInterestValue, in USD"


async def test_binance_open_interest_inside_30_days_at_every_step(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:ETH")
    since = NOW - 30 * DAY_MS + 1
    for step in ("1h", "4h", "1d"):
        oi = await bn.open_interest(inst, step, since)
        length = step_ms(step)
        first = floor_to(since, length) + length
        assert oi.ts[0] == first, step
        assert len(oi) == (floor_to(NOW, length) - first) // length + 1, step


async def test_binance_open_interest_older_than_30_days_is_refused_before_asking(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.reset_log()
    for step in BINANCE.oi_steps:
        for since in (NOW - 31 * DAY_MS - 2 * step_ms(step), NOW - 60 * DAY_MS):
            with pytest.raises(UnsupportedRequest, match="30 days"):
                await bn.open_interest(inst, step, since)
    with pytest.raises(UnsupportedRequest, match="not 1m"):
        await bn.open_interest(inst, "1m", NOW - HOUR_MS)
    assert binance.count(OI_HIST) == 0
    assert binance.count() == 0


async def test_binance_mark_prices_of_many_perpetuals_in_one_request(
    binance: FakeBinance, bn: MarketData
) -> None:
    instruments = [await bn.instrument(s) for s in ("binance:BTC", "binance:ETH")]
    binance.tape("ETHUSDT").set_price(3210.5)
    binance.reset_log()
    prices = await bn.prices(instruments)
    assert binance.count(PREMIUM) == 1
    assert binance.count() == 1
    assert "symbol" not in binance.seen(PREMIUM)[0].query, "all marks at once"
    assert prices["binance:ETHUSDT"].value == 3210.5
    assert prices["binance:ETHUSDT"].kind == "mark"
    assert prices["binance:ETHUSDT"].ts_ms == NOW
    assert prices["binance:BTCUSDT"].value == binance.tape("BTCUSDT").last_price()


async def test_binance_last_price_when_a_mark_is_missing(
    binance: FakeBinance, bn: MarketData
) -> None:
    btc, eth = [await bn.instrument(s) for s in ("binance:BTC", "binance:ETH")]
    binance.tape("ETHUSDT").set_price(3333.25)
    marks_without_eth = [
        {"symbol": "BTCUSDT", "markPrice": "60001.5", "indexPrice": "60000.0", "time": NOW}
    ]
    binance.inject(Fault(200, json.dumps(marks_without_eth), "application/json"), PREMIUM)
    binance.reset_log()
    prices = await bn.prices([btc, eth])
    assert prices[btc.key] == Price(60001.5, "mark", NOW, other=60000.0), "the index beside it"
    assert prices[eth.key].value == 3333.25 and prices[eth.key].kind == "last"
    assert binance.count(PREMIUM) == binance.count("/fapi/v1/ticker/24hr") == 1


async def test_binance_a_429_is_retried(binance: FakeBinance, bn: MarketData) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.inject(RATE_LIMITED, KLINES, times=1)
    candles = await bn.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert len(candles) == 5
    assert binance.count(KLINES) == 2


async def test_binance_invalid_symbol_at_the_exchange_is_not_retried(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.inject(binance_error(-1121, "Invalid symbol."), KLINES, times=None)
    with pytest.raises(UnknownInstrument, match="unknown instrument BTCUSDT on binance"):
        await bn.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert binance.count(KLINES) == 1


async def test_binance_a_bad_parameter_is_rejected_not_retried(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.inject(
        binance_error(-1130, "Data sent for parameter 'startTime' is not valid."),
        OI_HIST,
        times=None,
    )
    with pytest.raises(ExchangeRejected, match="startTime"):
        await bn.open_interest(inst, "1h", NOW - DAY_MS)
    assert binance.count(OI_HIST) == 1


async def test_binance_url_override_needs_no_other_host(
    binance: FakeBinance, clock: Clock, dns_lookups: list[str]
) -> None:
    async with _adapter("binance", binance.url, clock) as market:
        inst = await market.instrument("binance:BTC")
        assert len(await market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 3 * HOUR_MS)) == 3
        assert len(await market.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - DAY_MS)) == 25
        assert inst.key in await market.prices([inst])
        api = market._exchange("binance").urls["api"]
    assert dns_lookups == []
    assert binance.count(EXCHANGE_INFO) == 1
    assert binance.count(KLINES) == binance.count(OI_HIST) == binance.count(PREMIUM) == 1
    assert all(v.startswith(binance.url) for k, v in api.items() if k.startswith("fapi"))
    assert not any("fapi.binance.com" in v for v in api.values() if isinstance(v, str))


# -- Bybit -----------------------------------------------------------------------------------


async def test_bybit_symbol_forms_resolve_linear_and_inverse(
    bybit: FakeBybit, bb: MarketData
) -> None:
    quarterly = bybit.quarterly
    expected = {
        "bybit:BTC": "BTCUSDT",
        "bybit:btc": "BTCUSDT",
        "bybit:ETH": "ETHUSDT",
        "bybit:BTCUSDT": "BTCUSDT",
        "bybit:BTC/USDT:USDT": "BTCUSDT",
        "bybit:BTCUSD": "BTCUSD",
        "bybit:BTC/USD:BTC": "BTCUSD",
        "bybit:BTC-USD": "BTCUSD",
        f"bybit:{quarterly.symbol}": quarterly.symbol,
    }
    for typed, native in expected.items():
        assert (await bb.instrument(typed)).native_id == native, typed
    btc = await bb.instrument("bybit:BTC")
    assert (btc.symbol, btc.linear, btc.kind, btc.contract_size) == (
        "BTC/USDT:USDT",
        True,
        "swap",
        1.0,
    )
    inverse = await bb.instrument("bybit:BTCUSD")
    assert (inverse.symbol, inverse.settle, inverse.linear, inverse.kind) == (
        "BTC/USD:BTC",
        "BTC",
        False,
        "swap",
    )
    assert inverse.contract_size == 1.0  # one contract is one dollar
    dated = await bb.instrument(f"bybit:{quarterly.symbol}")
    assert (dated.kind, dated.linear, dated.expiry_ms) == ("future", False, quarterly.delivery_time)
    requests = bybit.seen(INSTRUMENTS)
    assert bybit.count() == len(requests) == 4, "linear and inverse, each with pre-launch"
    assert sorted((r.query["category"], r.query.get("status", "")) for r in requests) == [
        ("inverse", ""),
        ("inverse", "PreLaunch"),
        ("linear", ""),
        ("linear", "PreLaunch"),
    ]


async def test_bybit_instrument_list_follows_cursors(bybit: FakeBybit, clock: Clock) -> None:
    bybit.instruments_page = 1
    async with _adapter("bybit", bybit.url, clock) as market:
        book = await market.book("bybit")
    assert {i.native_id for i in book.instruments} == {i.symbol for i in bybit.instruments}
    cursors = [r.query["cursor"] for r in bybit.seen(INSTRUMENTS) if "cursor" in r.query]
    assert len(cursors) == 2, "linear: 2 pages, inverse: 2 pages, one cursor each"


async def test_bybit_unknown_symbol_suggests_close_ones(bb: MarketData) -> None:
    with pytest.raises(UnknownInstrument) as caught:
        await bb.instrument("bybit:BTCC")
    assert caught.value.exchange == "bybit"
    assert "BTC" in caught.value.suggestions


async def test_bybit_candles_page_1000_klines_sent_newest_first(
    bybit: FakeBybit, bb: MarketData
) -> None:
    inst = await bb.instrument("bybit:BTC")
    since = floor_to(NOW, MINUTE_MS) - 2 * DAY_MS
    bybit.reset_log()
    candles = await bb.candles(inst, "1m", since)

    requests = bybit.seen(KLINE)
    assert len(requests) == 3 and bybit.count() == 3
    assert [int(r.query["start"]) for r in requests] == [
        since,
        since + 1000 * MINUTE_MS,
        since + 2000 * MINUTE_MS,
    ]
    assert all("end" in r.query for r in requests), "without end Bybit answers the latest rows"
    assert {(r.query["category"], r.query["interval"], r.query["limit"]) for r in requests} == {
        ("linear", "1", "1000")
    }
    assert len(candles) == 2 * 24 * 60
    assert candles.ts[0] == since
    assert np.all(np.diff(candles.ts) == MINUTE_MS), "oldest first, no gap, no duplicate"
    assert candles.ts[-1] == floor_to(NOW, MINUTE_MS) - MINUTE_MS, "no still-open candle"
    tape = bybit.tape("BTCUSDT").bars(MINUTE_MS, since, floor_to(NOW, MINUTE_MS))
    assert candles.rows() == tape, "the exchange's values exactly, volume in base coins"


async def test_bybit_inverse_candles_have_volume_in_coins(bybit: FakeBybit, bb: MarketData) -> None:
    inst = await bb.instrument("bybit:BTCUSD")
    since = floor_to(NOW, HOUR_MS) - 3 * DAY_MS
    candles = await bb.candles(inst, "1h", since)
    assert len(candles) == 72
    assert bybit.seen(KLINE)[0].query["category"] == "inverse"
    assert bybit.seen(KLINE)[0].query["interval"] == "60"
    assert candles.rows() == bybit.tape("BTCUSD").bars(HOUR_MS, since, floor_to(NOW, HOUR_MS))


async def test_bybit_linear_open_interest_valued_at_candle_opens(
    bybit: FakeBybit, bb: MarketData
) -> None:
    inst = await bb.instrument("bybit:BTC")
    since = floor_to(NOW, FIVE_MIN) - DAY_MS
    bybit.reset_log()
    oi = await bb.open_interest(inst, "5m", since)

    oi_requests = bybit.seen(OPEN_INTEREST)
    assert len(oi_requests) == 2  # 289 snapshots in pages of 200
    assert {(r.query["intervalTime"], r.query["limit"]) for r in oi_requests} == {("5min", "200")}
    assert [int(r.query["startTime"]) for r in oi_requests] == [since, since + 200 * FIVE_MIN]
    kline_requests = bybit.seen(KLINE)
    assert len(kline_requests) == 1, "the 5m candles price the 5m snapshots"
    assert kline_requests[0].query["interval"] == "5"
    assert len(oi) == 289
    assert oi.ts[0] == since and oi.ts[-1] == floor_to(NOW, FIVE_MIN)
    tape = bybit.tape("BTCUSDT").open_interest(FIVE_MIN, since, NOW + 1)
    assert oi.ts.tolist() == [ts for ts, _, _ in tape]
    assert oi.usd.tolist() == pytest.approx([usd for _, usd, _ in tape], rel=1e-9)


async def test_bybit_inverse_open_interest_is_in_usd_already(
    bybit: FakeBybit, bb: MarketData
) -> None:
    inst = await bb.instrument("bybit:BTCUSD")
    since = floor_to(NOW, HOUR_MS) - 20 * DAY_MS
    bybit.reset_log()
    oi = await bb.open_interest(inst, "1h", since, floor_to(NOW, HOUR_MS))
    assert bybit.count(OPEN_INTEREST) == 3  # 480 snapshots in pages of 200
    assert bybit.count(KLINE) == 0, "no candles needed to value it"
    assert {r.query["category"] for r in bybit.seen(OPEN_INTEREST)} == {"inverse"}
    assert len(oi) == 480
    tape = bybit.tape("BTCUSD").open_interest(HOUR_MS, since, floor_to(NOW, HOUR_MS))
    assert oi.ts.tolist() == [ts for ts, _, _ in tape]
    assert oi.usd.tolist() == pytest.approx([usd for _, usd, _ in tape], abs=1e-6)


@pytest.mark.parametrize("single_field", [True, False], ids=["single-field", "halved"])
@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTCUSD"])
async def test_bybit_open_interest_counts_one_side(
    bybit: FakeBybit, clock: Clock, single_field: bool, symbol: str
) -> None:
    bybit.single_open_interest = single_field
    async with _adapter("bybit", bybit.url, clock) as adapter:
        inst = await adapter.instrument(f"bybit:{symbol}")
        since = floor_to(NOW, HOUR_MS) - 2 * DAY_MS
        oi = await adapter.open_interest(inst, "1h", since, floor_to(NOW, HOUR_MS))
    category = "linear" if symbol.endswith("USDT") else "inverse"
    query = f"category={category}&symbol={symbol}&intervalTime=1h&limit=1"
    raw = _get(f"{bybit.url}{OPEN_INTEREST}?{query}")[1]["result"]["list"][0]
    assert ("singleOpenInterest" in raw) is single_field
    tape = bybit.tape(symbol).open_interest(HOUR_MS, since, floor_to(NOW, HOUR_MS))
    assert len(oi) == 48
    assert oi.usd.tolist() == pytest.approx([usd for _, usd, _ in tape], rel=1e-9)


async def test_bybit_prices_one_request_per_category(bybit: FakeBybit, bb: MarketData) -> None:
    instruments = [await bb.instrument(s) for s in ("bybit:BTC", "bybit:ETH", "bybit:BTCUSD")]
    bybit.tape("BTCUSD").set_price(61_234.5)
    bybit.reset_log()
    prices = await bb.prices(instruments)
    assert bybit.count(TICKERS) == 2 and bybit.count() == 2
    assert sorted(r.query["category"] for r in bybit.seen(TICKERS)) == ["inverse", "linear"]
    assert set(prices) == {i.key for i in instruments}
    assert prices["bybit:BTCUSD"].value == 61_234.5
    assert prices["bybit:BTCUSD"].kind == "mark"
    assert prices["bybit:ETHUSDT"].value == bybit.tape("ETHUSDT").last_price()


@pytest.mark.parametrize("status", [200, 403])
async def test_bybit_too_many_visits_is_retried(
    bybit: FakeBybit, bb: MarketData, status: int
) -> None:
    inst = await bb.instrument("bybit:BTC")
    bybit.inject(bybit_error(10006, "Too many visits!", status), KLINE, times=1)
    candles = await bb.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert len(candles) == 5
    assert bybit.count(KLINE) == 2


async def test_bybit_symbol_unknown_at_the_exchange_is_not_retried(
    bybit: FakeBybit, bb: MarketData
) -> None:
    inst = await bb.instrument("bybit:ETH")
    bybit.inject(bybit_error(10001, NOT_SUPPORTED_SYMBOLS), KLINE, times=None)
    with pytest.raises(UnknownInstrument, match="unknown instrument ETHUSDT on bybit"):
        await bb.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert bybit.count(KLINE) == 1


async def test_bybit_a_params_error_is_rejected_not_retried(
    bybit: FakeBybit, bb: MarketData
) -> None:
    inst = await bb.instrument("bybit:ETH")
    bybit.inject(bybit_error(10001, "params error: symbol invalid"), KLINE, times=None)
    with pytest.raises(ExchangeRejected, match="symbol invalid"):
        await bb.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert bybit.count(KLINE) == 1


async def test_bybit_url_override_needs_no_other_host(
    bybit: FakeBybit, clock: Clock, dns_lookups: list[str]
) -> None:
    async with _adapter("bybit", bybit.url, clock) as market:
        inst = await market.instrument("bybit:BTC")
        assert len(await market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 3 * HOUR_MS)) == 3
        assert len(await market.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - DAY_MS)) == 25
        assert inst.key in await market.prices([inst])
        api = market._exchange("bybit").urls["api"]
    assert dns_lookups == []
    assert bybit.count(INSTRUMENTS) == 4
    assert bybit.count(OPEN_INTEREST) == bybit.count(TICKERS) == 1
    assert bybit.count(KLINE) == 2, "the candles, then the ones valuing the OI"
    assert all(v.startswith(bybit.url) for v in api.values() if isinstance(v, str))


# -- cases the adapter once got wrong -----------------------------------------------------------


async def test_binance_a_30_day_window_of_open_interest(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    oi = await bn.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - 30 * DAY_MS)
    assert oi.ts[0] >= NOW - 30 * DAY_MS
    assert len(oi) >= 30 * 24


async def test_binance_prices_of_perpetuals_and_a_quarterly(
    binance: FakeBinance, bn: MarketData
) -> None:
    names = ("binance:BTC", "binance:ETH", f"binance:{binance.quarterly.symbol}")
    instruments = [await bn.instrument(s) for s in names]
    prices = await bn.prices(instruments)
    assert set(prices) == {i.key for i in instruments}


async def test_bybit_prices_of_the_inverse_perpetual_and_quarterly(
    bybit: FakeBybit, bb: MarketData
) -> None:
    names = ("bybit:BTC", "bybit:BTCUSD", f"bybit:{bybit.quarterly.symbol}")
    instruments = [await bb.instrument(s) for s in names]
    prices = await bb.prices(instruments)
    assert set(prices) == {i.key for i in instruments}


async def test_binance_a_429_storm_is_reported_as_a_rate_limit(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.inject(RATE_LIMITED, KLINES, times=None)
    with pytest.raises(ExchangeUnavailable) as caught:
        await bn.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert binance.count(KLINES) == FAST_RETRY.attempts
    assert str(caught.value) == "binance: rate limited"


async def test_bybit_margin_tiers_are_fractions(bybit: FakeBybit, bb: MarketData) -> None:
    inst = await bb.instrument("bybit:BTC")
    assert await bb.maintenance_rate(inst) == pytest.approx(0.005)
    assert bybit.count("/v5/market/risk-limit") == 1
    assert params_for(inst, await bb.maintenance_rate(inst)).margin.maintenance == 0.005


async def test_an_implausible_margin_rate_falls_back_to_the_default(
    bybit: FakeBybit, bb: MarketData
) -> None:
    bybit.maintenance_rate = 0.5  # 50%: no exchange's first tier asks that
    inst = await bb.instrument("bybit:BTC")
    assert await bb.maintenance_rate(inst) is None
    assert params_for(inst, None).margin.maintenance == 0.004


async def test_binance_margin_tiers_need_a_key_so_none_are_asked(
    binance: FakeBinance, bn: MarketData
) -> None:
    inst = await bn.instrument("binance:BTC")
    binance.reset_log()
    assert await bn.maintenance_rate(inst) is None
    assert binance.count() == 0
