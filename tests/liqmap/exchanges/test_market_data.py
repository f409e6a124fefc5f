"""The adapter against fake OKX, Binance and Bybit: real ccxt, real wire formats, limits.

What every exchange does is checked once per exchange through the ``exchange`` fixture and its
table (tests/support/exchanges.py); what only one exchange does follows, grouped by exchange.
"""

from __future__ import annotations

import json
import logging
import math
import re
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest

from liqmap.errors import (
    ExchangeRejected,
    ExchangeUnavailable,
    UnknownInstrument,
    UnsupportedRequest,
)
from liqmap.market.margins import params_for
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_to, step_ms
from liqmap.market.venues import BINANCE
from tests.conftest import NOON
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import NOT_SUPPORTED_SYMBOLS, FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.support.exchanges import Exchange
from tests.support.fast import FAST_RETRY

pytestmark = pytest.mark.fixed_clock

NOW = NOON
FIVE_MIN = 5 * MINUTE_MS
DEFAULT_MAINTENANCE = 0.004
"""The maintenance rate assumed for BTC where the exchange publishes none (margins.py)."""


def only(*names: str) -> pytest.MarkDecorator:
    """Run a test on these exchanges only."""
    return pytest.mark.parametrize("exchange", names, indirect=True)


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def on_grid(ts: int, length: int, offset: int = 0) -> int:
    """``ts`` moved up to the next stamp of a grid of ``length`` ms, ``offset`` past UTC's."""
    return -(-(ts - offset) // length) * length + offset


# -- instruments -------------------------------------------------------------------------------


async def test_every_symbol_form_resolves_from_one_instrument_list(exchange: Exchange) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    for typed, native in spec.forms(fake).items():
        assert (await market.instrument(typed)).native_id == native, typed
    for typed, facts in spec.facts(fake).items():
        inst = await market.instrument(typed)
        assert {name: getattr(inst, name) for name in facts} == facts, typed
    dated = await exchange.instrument(spec.dated(fake))
    assert dated.kind == "future" and dated.expiry_ms is not None and dated.expiry_ms > NOW
    keys, queries = spec.instrument_queries
    requests = fake.seen(spec.instruments_path)
    assert sorted(tuple(r.query.get(key, "") for key in keys) for r in requests) == list(queries)
    assert fake.count() == len(requests), "no currencies, time or spot lists are asked for"


async def test_the_instrument_list_is_refreshed_daily(exchange: Exchange, clock: Clock) -> None:
    spec, fake = exchange.spec, exchange.fake
    await exchange.instrument(spec.btc)
    await exchange.instrument(spec.eth)
    loaded = fake.count(spec.instruments_path)
    assert loaded == len(spec.instrument_queries[1])
    clock.advance(DAY_MS + 1)
    await exchange.instrument(spec.btc)
    assert fake.count(spec.instruments_path) == 2 * loaded


async def test_a_failed_daily_refresh_keeps_the_old_list(exchange: Exchange, clock: Clock) -> None:
    spec, fake = exchange.spec, exchange.fake
    await exchange.instrument(spec.btc)
    clock.advance(DAY_MS + 1)
    fake.inject(Fault(503, "down"), spec.instruments_path, times=None)
    assert (await exchange.instrument(spec.eth)).native_id == spec.eth
    failed = fake.count(spec.instruments_path)
    await exchange.instrument(spec.btc)  # no new attempt right away
    assert fake.count(spec.instruments_path) == failed


async def test_an_unknown_symbol_suggests_close_ones_and_asks_nothing_more(
    exchange: Exchange,
) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    typed, suggestion = spec.misspelt
    with pytest.raises(UnknownInstrument) as caught:
        await market.instrument(typed)
    assert caught.value.exchange == spec.name
    assert suggestion in caught.value.suggestions
    with pytest.raises(UnknownInstrument):
        await market.instrument(spec.not_listed)
    assert fake.count() == fake.count(spec.instruments_path), "no market data asked for"


# -- candles -----------------------------------------------------------------------------------


async def test_candles_page_oldest_first_with_exactly_the_exchanges_values(
    exchange: Exchange,
) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    since = floor_to(NOW, MINUTE_MS) - 2 * DAY_MS
    fake.reset_log()
    candles = await market.candles(inst, "1m", since)

    requests = exchange.candle_requests()
    pages = math.ceil(2 * 24 * 60 / spec.candle_page)
    assert len(requests) == fake.count() == pages
    assert [spec.candle_start(r.query) for r in requests] == [
        since + page * spec.candle_page * MINUTE_MS for page in range(pages)
    ]
    assert all(r.query.items() >= spec.candle_query.items() for r in requests)
    assert all(spec.candle_end in r.query for r in requests), "without an end: the latest rows"
    assert len(candles) == 2 * 24 * 60
    assert candles.ts[0] == since
    assert np.all(np.diff(candles.ts) == MINUTE_MS), "oldest first, no gap, no duplicate"
    assert candles.ts[-1] == floor_to(NOW, MINUTE_MS) - MINUTE_MS, "no still-open candle"
    tape = exchange.tape(spec.btc).bars(MINUTE_MS, since, floor_to(NOW, MINUTE_MS))
    assert candles.rows() == [spec.wire_bar(bar) for bar in tape], "volume in base coins"


async def test_candles_of_the_dated_future_at_a_coarse_step(exchange: Exchange) -> None:
    spec, market = exchange.spec, exchange.market
    dated = spec.dated(exchange.fake)
    inst = await exchange.instrument(dated)
    since = floor_to(NOW, HOUR_MS) - 7 * DAY_MS - 30 * MINUTE_MS  # not on a candle open
    until = NOW - 3 * HOUR_MS  # inside the last closed candle: it still comes whole
    candles = await market.candles(inst, "4h", since, until)
    assert candles.ts[0] == floor_to(since, 4 * HOUR_MS) + 4 * HOUR_MS
    assert candles.ts[-1] < until < candles.ts[-1] + 4 * HOUR_MS <= NOW
    tape = exchange.tape(dated).bars(4 * HOUR_MS, since, floor_to(NOW, 4 * HOUR_MS))
    assert candles.rows() == [spec.wire_bar(bar) for bar in tape]
    requests = exchange.candle_requests()
    assert len(requests) == 1
    assert requests[0].query[spec.symbol_param] == dated


async def test_hourly_candles_of_a_week_and_an_empty_range(exchange: Exchange) -> None:
    inst = await exchange.instrument(exchange.spec.eth)
    market = exchange.market
    hourly = await market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 7 * DAY_MS)
    assert len(hourly) == 7 * 24
    assert set(np.diff(hourly.ts).tolist()) == {HOUR_MS}
    assert len(await market.candles(inst, "5m", NOW, NOW + HOUR_MS)) == 0


# -- open interest -----------------------------------------------------------------------------


async def test_open_interest_in_usd_paged_at_the_exchanges_page_size(exchange: Exchange) -> None:
    """USD given by OKX and Binance; Bybit linear counted in coins, valued at candle opens."""
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    since = floor_to(NOW, FIVE_MIN) - spec.oi_days * DAY_MS
    fake.reset_log()
    oi = await market.open_interest(inst, "5m", since)

    rows = spec.oi_days * 288 + 1  # both ends: the latest snapshot is published
    pages = math.ceil(rows / spec.oi_page)
    requests = fake.seen(spec.oi_path)
    assert len(requests) == pages
    assert [spec.oi_start(r.query) for r in requests] == [
        since + page * spec.oi_page * FIVE_MIN for page in range(pages)
    ]
    assert all(r.query.items() >= spec.oi_query.items() for r in requests)
    valuing = exchange.candle_requests()
    assert [r.query["interval"] for r in valuing] == ([spec.valued_at] if spec.valued_at else [])
    assert fake.count() == pages + len(valuing)
    assert len(oi) == rows
    assert oi.ts[0] == since and oi.ts[-1] == floor_to(NOW, FIVE_MIN)
    assert np.all(np.diff(oi.ts) == FIVE_MIN)
    tape = exchange.tape(spec.btc).open_interest(FIVE_MIN, since, NOW + 1)
    assert oi.ts.tolist() == [ts for ts, _, _ in tape]
    wired = [spec.wire_number(usd) for _, usd, _ in tape]
    assert oi.usd.tolist() == pytest.approx(wired, rel=spec.oi_usd_rel, abs=0)


async def test_a_step_the_exchange_does_not_keep_is_refused_before_asking(
    exchange: Exchange,
) -> None:
    spec, fake = exchange.spec, exchange.fake
    inst = await exchange.instrument(spec.btc)
    fake.reset_log()
    steps = ", ".join(spec.oi_steps)
    with pytest.raises(UnsupportedRequest, match=f"only at {steps} steps, not 1m"):
        await exchange.market.open_interest(inst, "1m", NOW - HOUR_MS)
    assert fake.count() == 0


async def test_open_interest_at_every_step_it_keeps_lies_on_its_grid(exchange: Exchange) -> None:
    spec = exchange.spec
    inst = await exchange.instrument(spec.eth)
    since = NOW - 2 * DAY_MS + 1
    for step in spec.oi_steps:
        length = step_ms(step)
        offset = spec.daily_oi_offset if step == "1d" else 0
        oi = await exchange.market.open_interest(inst, step, since)
        first, last = on_grid(since, length, offset), on_grid(NOW - length + 1, length, offset)
        assert (oi.ts[0], oi.ts[-1]) == (first, last), step
        assert len(oi) == (last - first) // length + 1, step


async def test_daily_candles_open_at_midnight_utc_and_daily_oi_is_stamped_as_the_exchange_does(
    exchange: Exchange,
) -> None:
    """OKX stamps its 1D open interest at 16:00 UTC (UTC+8 midnight); candles come 1Dutc."""
    spec, market = exchange.spec, exchange.market
    inst = await exchange.instrument(spec.btc)
    since = NOW - 5 * DAY_MS
    candles = await market.candles(inst, "1d", since)
    oi = await market.open_interest(inst, "1d", since)
    assert len(candles) == 4 and len(oi) == 5
    assert {ts % DAY_MS for ts in candles.ts.tolist()} == {0}
    assert {ts % DAY_MS for ts in oi.ts.tolist()} == {spec.daily_oi_offset}


# -- prices ------------------------------------------------------------------------------------


async def test_prices_come_in_one_request_per_exchange_and_contract_kind(
    exchange: Exchange,
) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    instruments = [await market.instrument(typed) for typed in spec.priced(fake)]
    exchange.tape(spec.eth).set_price(3210.5)
    fake.reset_log()
    prices = await market.prices(instruments)
    requests = fake.seen(spec.price_path)
    assert len(requests) == fake.count() == len(spec.price_scopes)
    assert sorted(r.query.get(spec.price_scope, "") for r in requests) == list(spec.price_scopes)
    assert set(prices) == {i.key for i in instruments}
    eth = prices[spec.typed(spec.eth)]
    assert (eth.value, eth.kind) == (3210.5, "mark")
    assert eth.ts_ms == (NOW if spec.price_stamped else None)
    for inst in instruments:
        last = spec.wire_number(exchange.tape(inst.native_id).last_price())
        assert (prices[inst.key].value, prices[inst.key].kind) == (last, "mark"), inst


async def test_every_instrument_listed_gets_a_price(exchange: Exchange) -> None:
    book = await exchange.market.book(exchange.name)
    prices = await exchange.market.prices(book.instruments)
    assert set(prices) == {i.key for i in book.instruments}
    assert {i.kind for i in book.instruments} == {"swap", "future"}


async def test_the_last_price_where_a_mark_is_missing(exchange: Exchange) -> None:
    spec, fake = exchange.spec, exchange.fake
    btc, eth = [await exchange.instrument(native) for native in (spec.btc, spec.eth)]
    exchange.tape(spec.eth).set_price(3333.25)
    marks, btc_price = spec.marks_without_eth(NOW)
    fake.inject(marks, spec.price_path)
    fake.reset_log()
    prices = await exchange.market.prices([btc, eth])
    assert prices[btc.key] == btc_price, "the index beside it, where the exchange sends one"
    assert (prices[eth.key].value, prices[eth.key].kind) == (3333.25, "last")
    assert [r.path for r in fake.seen()] == list(spec.price_paths_without_a_mark)


# -- failures ----------------------------------------------------------------------------------


async def test_a_rate_limit_answer_is_retried(exchange: Exchange) -> None:
    spec, fake = exchange.spec, exchange.fake
    inst = await exchange.instrument(spec.btc)
    for fault in spec.rate_limited:
        fake.inject(fault, spec.candle_paths[0], times=1)
        fake.reset_log()
        candles = await exchange.market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
        assert len(candles) == 5, fault
        assert len(exchange.candle_requests()) == 2, fault


async def test_a_rate_limit_storm_is_reported_as_a_rate_limit(exchange: Exchange) -> None:
    spec, fake = exchange.spec, exchange.fake
    inst = await exchange.instrument(spec.btc)
    fake.inject(spec.rate_limited[0], spec.candle_paths[0], times=None)
    with pytest.raises(ExchangeUnavailable) as caught:
        await exchange.market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert len(exchange.candle_requests()) == FAST_RETRY.attempts
    assert str(caught.value) == f"{spec.name}: rate limited"


async def test_a_symbol_unknown_at_the_exchange_is_not_retried(exchange: Exchange) -> None:
    spec, fake = exchange.spec, exchange.fake
    inst = await exchange.instrument(spec.btc)
    fake.inject(spec.unknown_at_exchange, spec.candle_paths[0], times=None)
    with pytest.raises(UnknownInstrument, match=f"unknown instrument {spec.btc} on {spec.name}"):
        await exchange.market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert len(exchange.candle_requests()) == 1


async def test_a_bad_parameter_is_rejected_not_retried(exchange: Exchange) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    text = spec.bad_parameter_text.format(spec.symbol_param)
    fake.inject(spec.bad_parameter(text), spec.candle_paths[0], times=None)
    with pytest.raises(ExchangeRejected, match=re.escape(text)):
        await market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 5 * HOUR_MS)
    assert len(exchange.candle_requests()) == 1
    text = spec.bad_parameter_text.format(spec.oi_start_param)
    fake.inject(spec.bad_parameter(text), spec.oi_path, times=None)
    with pytest.raises(ExchangeRejected, match=re.escape(text)):
        await market.open_interest(inst, "1h", NOW - DAY_MS)
    assert fake.count(spec.oi_path) == 1


async def test_an_answer_many_times_larger_than_asked_for_is_implausible(
    exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    start = floor_to(NOW, HOUR_MS) - 5 * HOUR_MS
    flood = [(start - i * HOUR_MS, 100.0, 101.0, 99.0, 100.0, 1.0) for i in range(5000)][::-1]
    fake.inject(spec.kline_answer(flood, NOW), spec.candle_paths[0], times=None)
    with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
        await market.candles(inst, "1h", start)
    assert str(caught.value) == f"{spec.name}: implausible data"
    assert f"asked for at most {spec.candle_page:,} rows, got 5,000" in caplog.text
    assert len(exchange.candle_requests()) == FAST_RETRY.attempts, "retried: a glitch may pass"
    assert market.incidents[-1].detail == "fetch_ohlcv: implausible data"


# -- the adapter itself ------------------------------------------------------------------------


async def test_the_url_override_sends_everything_to_the_given_host(
    exchange: Exchange, dns_lookups: list[str]
) -> None:
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    assert len(await market.candles(inst, "1h", floor_to(NOW, HOUR_MS) - 3 * HOUR_MS)) == 3
    assert len(await market.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - DAY_MS)) == 25
    assert inst.key in await market.prices([inst])
    api = {k: v for k, v in market.client(spec.name).urls["api"].items() if isinstance(v, str)}
    assert dns_lookups == []
    assert fake.count(spec.instruments_path) == len(spec.instrument_queries[1])
    assert fake.count(spec.oi_path) == fake.count(spec.price_path) == 1
    valuing = 1 if spec.valued_at else 0
    assert len(exchange.candle_requests()) == 1 + valuing, "the candles, then those valuing OI"
    overridden = [url for key, url in api.items() if key.startswith(spec.api_keys)]
    assert overridden and all(url.startswith(fake.url) for url in overridden)
    assert not any(spec.rest_host in url for url in api.values())


async def test_one_ccxt_instance_per_exchange_closed_on_shutdown(exchange: Exchange) -> None:
    market = exchange.market
    await exchange.instrument(exchange.spec.btc)
    instance = market.client(exchange.name)
    await market.prices([await exchange.instrument(exchange.spec.eth)])
    assert market.client(exchange.name) is instance
    assert instance.session is not None
    await market.close()
    assert instance.session is None
    assert market.clients == {}


async def test_the_first_margin_tier_comes_from_public_tiers_once_a_day(
    exchange: Exchange,
) -> None:
    """OKX position-tiers, Bybit risk-limit (fractions); Binance's need a key: none asked."""
    spec, fake, market = exchange.spec, exchange.fake, exchange.market
    inst = await exchange.instrument(spec.btc)
    fake.reset_log()
    rate = await market.maintenance_rate(inst)
    assert rate == spec.first_tier_rate
    assert await market.maintenance_rate(inst) == rate
    tier_requests = fake.seen(spec.tiers_path) if spec.tiers_path else []
    assert len(tier_requests) == fake.count() == (1 if spec.tiers_path else 0)
    maintenance = spec.first_tier_rate or DEFAULT_MAINTENANCE
    assert params_for(inst, rate).margin.maintenance == maintenance


@only("okx", "bybit")
async def test_an_implausible_margin_rate_falls_back_to_the_default(exchange: Exchange) -> None:
    spec = exchange.spec
    assert spec.set_first_tier_rate is not None
    spec.set_first_tier_rate(exchange.fake, 0.5)  # 50%: no exchange's first tier asks that
    inst = await exchange.instrument(spec.btc)
    assert await exchange.market.maintenance_rate(inst) is None
    assert params_for(inst, None).margin.maintenance == DEFAULT_MAINTENANCE


# -- OKX ---------------------------------------------------------------------------------------


@only("okx")
async def test_okx_candles_come_recent_then_from_history_300_a_page(exchange: Exchange) -> None:
    okx, market = exchange.fake, exchange.market
    inst = await market.instrument("BTC")
    since = floor_to(NOW, MINUTE_MS) - 2 * DAY_MS
    okx.reset_log()
    await market.candles(inst, "1m", since)
    # the last 1,440 bars come from /candles, older ones from history: 300 a page on both
    recent = okx.seen("/api/v5/market/candles")
    history = okx.seen("/api/v5/market/history-candles")
    assert {r.query["limit"] for r in recent} == {"300"}
    assert {r.query["limit"] for r in history} == {"300"}
    assert len(history) == 5 and len(recent) == 5
    oldest_recent = min(int(r.query["before"]) for r in recent) + 1
    assert oldest_recent >= NOW - 1440 * MINUTE_MS
    assert all(int(r.query["after"]) <= oldest_recent for r in history)


@only("okx")
async def test_okx_5m_open_interest_retention_is_read_both_ways(exchange: Exchange) -> None:
    """OKX documents its 5m retention two ways, so it is asked; what it lacks is missing."""
    okx, market = exchange.fake, exchange.market
    inst = await market.instrument("BTC")
    since = floor_to(NOW, FIVE_MIN) - 6 * DAY_MS
    five = await market.open_interest(inst, "5m", since)
    assert five.ts[0] == floor_to(NOW, FIVE_MIN) - 1439 * FIVE_MIN, "only the latest 1,440 rows"
    okx.oi_rows_kept = None
    assert (await market.open_interest(inst, "5m", since)).ts[0] == since
    hourly = await market.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - 30 * DAY_MS)
    assert len(hourly) == 30 * 24 + 1


# -- Binance -----------------------------------------------------------------------------------

KLINES = "/fapi/v1/klines"
OI_HIST = "/futures/data/openInterestHist"
PREMIUM = "/fapi/v1/premiumIndex"


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
        got_status, body = get_json(base + path)
        assert got_status == status, path
        assert body == error if isinstance(error, dict) else body["code"] == error, path
    status, rows = get_json(f"{base}{KLINES}?symbol=ETHUSDT&interval=1h")
    assert status == 200 and len(rows) == 500, "500 klines by default"
    assert rows[-1][0] == floor_to(NOW, HOUR_MS), "ending with the still-open kline"
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "oldest first"
    status, rows = get_json(f"{base}{KLINES}?symbol=BTCUSDT&interval=1m&limit=1500&startTime=0")
    assert status == 200 and len(rows) == 1500
    status, rows = get_json(f"{base}{OI_HIST}?symbol=BTCUSDT&period=5m")
    assert status == 200 and len(rows) == 30, "30 rows by default"
    assert rows[-1]["timestamp"] == floor_to(NOW, FIVE_MIN)


@only("binance")
async def test_binance_open_interest_inside_30_days_at_every_step(exchange: Exchange) -> None:
    inst = await exchange.instrument("ETHUSDT")
    since = NOW - 30 * DAY_MS + 1
    for step in ("1h", "4h", "1d"):
        oi = await exchange.market.open_interest(inst, step, since)
        length = step_ms(step)
        first = floor_to(since, length) + length
        assert oi.ts[0] == first, step
        assert len(oi) == (floor_to(NOW, length) - first) // length + 1, step


@only("binance")
async def test_binance_open_interest_older_than_30_days_is_refused_before_asking(
    exchange: Exchange,
) -> None:
    binance, market = exchange.fake, exchange.market
    inst = await exchange.instrument("BTCUSDT")
    binance.reset_log()
    for step in BINANCE.oi_steps:
        for since in (NOW - 31 * DAY_MS - 2 * step_ms(step), NOW - 60 * DAY_MS):
            with pytest.raises(UnsupportedRequest, match="30 days"):
                await market.open_interest(inst, step, since)
    with pytest.raises(UnsupportedRequest, match="not 1m"):
        await market.open_interest(inst, "1m", NOW - HOUR_MS)
    assert binance.count(OI_HIST) == 0
    assert binance.count() == 0


@only("binance")
async def test_binance_a_30_day_window_of_open_interest(exchange: Exchange) -> None:
    inst = await exchange.instrument("BTCUSDT")
    oi = await exchange.market.open_interest(inst, "1h", floor_to(NOW, HOUR_MS) - 30 * DAY_MS)
    assert oi.ts[0] >= NOW - 30 * DAY_MS
    assert len(oi) >= 30 * 24


# -- Bybit -------------------------------------------------------------------------------------

KLINE = "/v5/market/kline"
OPEN_INTEREST = "/v5/market/open-interest"
TICKERS = "/v5/market/tickers"
INSTRUMENTS = "/v5/market/instruments-info"


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
        status, body = get_json(base + path)
        assert status == 200, path
        assert body["retCode"] == 10001 and message in body["retMsg"], path
    status, body = get_json(f"{base}{KLINE}?category=linear&symbol=BTCUSDT&interval=60")
    rows = body["result"]["list"]
    assert len(rows) == 200, "200 klines by default"
    assert int(rows[0][0]) == floor_to(NOW, HOUR_MS), "newest first, the open one included"
    status, body = get_json(f"{base}{OPEN_INTEREST}?category=inverse&symbol=BTCUSD&intervalTime=1h")
    result = body["result"]
    assert len(result["list"]) == 50 and result["nextPageCursor"], "50 rows and a cursor"


@only("bybit")
async def test_bybit_instrument_list_follows_cursors(exchange: Exchange) -> None:
    bybit = exchange.fake
    bybit.instruments_page = 1
    book = await exchange.market.book("bybit")
    assert {i.native_id for i in book.instruments} == {i.symbol for i in bybit.instruments}
    cursors = [r.query["cursor"] for r in bybit.seen(INSTRUMENTS) if "cursor" in r.query]
    assert len(cursors) == 2, "linear: 2 pages, inverse: 2 pages, one cursor each"


@only("bybit")
async def test_bybit_inverse_candles_have_volume_in_coins(exchange: Exchange) -> None:
    bybit = exchange.fake
    inst = await exchange.instrument("BTCUSD")
    since = floor_to(NOW, HOUR_MS) - 3 * DAY_MS
    candles = await exchange.market.candles(inst, "1h", since)
    assert len(candles) == 72
    assert bybit.seen(KLINE)[0].query["category"] == "inverse"
    assert bybit.seen(KLINE)[0].query["interval"] == "60"
    assert candles.rows() == bybit.tape("BTCUSD").bars(HOUR_MS, since, floor_to(NOW, HOUR_MS))


@only("bybit")
async def test_bybit_inverse_open_interest_is_in_usd_already(exchange: Exchange) -> None:
    bybit = exchange.fake
    inst = await exchange.instrument("BTCUSD")
    since = floor_to(NOW, HOUR_MS) - 20 * DAY_MS
    bybit.reset_log()
    oi = await exchange.market.open_interest(inst, "1h", since, floor_to(NOW, HOUR_MS))
    assert bybit.count(OPEN_INTEREST) == 3  # 480 snapshots in pages of 200
    assert bybit.count(KLINE) == 0, "no candles needed to value it"
    assert {r.query["category"] for r in bybit.seen(OPEN_INTEREST)} == {"inverse"}
    assert len(oi) == 480
    tape = bybit.tape("BTCUSD").open_interest(HOUR_MS, since, floor_to(NOW, HOUR_MS))
    assert oi.ts.tolist() == [ts for ts, _, _ in tape]
    assert oi.usd.tolist() == pytest.approx([usd for _, usd, _ in tape], abs=1e-6)


@only("bybit")
@pytest.mark.parametrize("single_field", [True, False], ids=["single-field", "halved"])
@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTCUSD"])
async def test_bybit_open_interest_counts_one_side(
    exchange: Exchange, single_field: bool, symbol: str
) -> None:
    """Bybit's ``openInterest`` is both sides; one side is ``singleOpenInterest`` where the
    answer has it, else half (tests/fakes/bybit.py)."""
    bybit = exchange.fake
    bybit.single_open_interest = single_field
    inst = await exchange.instrument(symbol)
    since = floor_to(NOW, HOUR_MS) - 2 * DAY_MS
    oi = await exchange.market.open_interest(inst, "1h", since, floor_to(NOW, HOUR_MS))
    category = "linear" if symbol.endswith("USDT") else "inverse"
    query = f"category={category}&symbol={symbol}&intervalTime=1h&limit=1"
    raw = get_json(f"{bybit.url}{OPEN_INTEREST}?{query}")[1]["result"]["list"][0]
    assert ("singleOpenInterest" in raw) is single_field
    tape = bybit.tape(symbol).open_interest(HOUR_MS, since, floor_to(NOW, HOUR_MS))
    assert len(oi) == 48
    assert oi.usd.tolist() == pytest.approx([usd for _, usd, _ in tape], rel=1e-9)


@only("bybit")
@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTCUSD"])
async def test_the_fake_bybit_tickers_count_open_interest_on_both_sides_as_its_history_does(
    exchange: Exchange, symbol: str
) -> None:
    """The tickers' ``openInterest`` is the figure the open-interest endpoint publishes: both
    sides. Serving one side there would let code that read it as Bybit documents pass."""
    bybit = exchange.fake
    category = "linear" if symbol.endswith("USDT") else "inverse"
    ticker = get_json(f"{bybit.url}{TICKERS}?category={category}&symbol={symbol}")[1]
    query = f"category={category}&symbol={symbol}&intervalTime=5min&limit=1"
    history = get_json(f"{bybit.url}{OPEN_INTEREST}?{query}")[1]["result"]["list"][0]
    item = ticker["result"]["list"][0]
    assert float(item["openInterest"]) == pytest.approx(float(history["openInterest"]), rel=1e-6)
    assert float(history["singleOpenInterest"]) == pytest.approx(
        float(item["openInterest"]) / 2, rel=1e-6
    )
