"""Exchange failures: what is retried, what is not, and the clear error left when all fails."""

from __future__ import annotations

import json
import logging

import pytest

from liqmap.errors import ExchangeUnavailable, UnknownInstrument
from liqmap.exchanges.market_data import MarketData
from liqmap.market.timeframes import HOUR_MS, MINUTE_MS, floor_to
from liqmap.policies.retry import RetryPolicy
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.bybit import IP_BAN, FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.http import Fault, free_port
from tests.fakes.okx import FakeOkx, okx_error
from tests.support.fast import FAST_CCXT, FAST_RETRY

CANDLES = "/api/v5/market/candles"


async def _btc_hourly(market: MarketData):
    inst = await market.instrument("BTC")
    return await market.candles(inst, "1h", floor_to(market.now(), HOUR_MS) - 5 * HOUR_MS)


@pytest.mark.parametrize(
    "fault",
    [
        okx_error("50011", "Too Many Requests", status=429),
        okx_error("50011", "Too Many Requests", status=200),
        Fault(429, "Too Many Requests"),
        Fault(500, "<html>Internal Server Error</html>", "text/html"),
        Fault(503, "Service Unavailable"),
        okx_error("50001", "Service temporarily unavailable"),
        Fault(200, '{"code":"0","msg":"","data":[["17', "application/json"),
        Fault(200, "<html>maintenance</html>", "text/html"),
        Fault(200, "", "application/json"),
        Fault(disconnect=True),
    ],
    ids=[
        "429-50011", "200-50011", "429-plain", "500", "503", "50001-maintenance",
        "truncated-json", "html-200", "empty-200", "disconnect",
    ],
)  # fmt: skip
async def test_transient_failures_are_retried(
    okx: FakeOkx, market: MarketData, fault: Fault
) -> None:
    await market.instrument("BTC")
    okx.inject(fault, CANDLES, times=2)
    candles = await _btc_hourly(market)
    assert len(candles) == 5
    assert okx.count(CANDLES) == 3


async def test_malformed_rows_are_retried_then_reported(okx: FakeOkx, market: MarketData) -> None:
    ts = floor_to(market.now(), HOUR_MS) - 2 * HOUR_MS
    low_above_high = [str(ts), "100", "99", "101", "100", "5", "5", "5", "1"]
    bad_row = json.dumps({"code": "0", "msg": "", "data": [low_above_high]})
    okx.inject(Fault(200, bad_row, "application/json"), CANDLES, times=None)
    with pytest.raises(ExchangeUnavailable, match="okx: malformed response"):
        await _btc_hourly(market)
    assert okx.count(CANDLES) == FAST_RETRY.attempts


async def test_unknown_instrument_at_the_exchange_is_not_retried(
    okx: FakeOkx, market: MarketData
) -> None:
    await market.instrument("BTC")
    okx.inject(okx_error("51001", "Instrument ID does not exist"), CANDLES)
    with pytest.raises(UnknownInstrument, match="unknown instrument BTC-USDT-SWAP on okx"):
        await _btc_hourly(market)
    assert okx.count(CANDLES) == 1


async def test_a_429_storm_backs_off_growing_then_gives_up(okx: FakeOkx) -> None:
    slept: list[float] = []

    async def record(delay: float) -> None:
        slept.append(delay)

    policy = RetryPolicy(attempts=5, first_delay=0.5, factor=2.0, max_delay=3.0)
    async with MarketData(
        urls={"okx": okx.url}, retry=policy, sleep=record, ccxt_config=FAST_CCXT
    ) as market:
        await market.instrument("BTC")
        okx.inject(okx_error("50011", "Too Many Requests", 429), CANDLES, times=None)
        with pytest.raises(ExchangeUnavailable) as caught:
            await _btc_hourly(market)
    assert str(caught.value) == "okx: rate limited"
    assert slept == [0.5, 1.0, 2.0, 3.0]
    assert okx.count(CANDLES) == 5


async def test_exchange_down_gives_a_short_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with MarketData(urls={"okx": url}, retry=FAST_RETRY, ccxt_config=FAST_CCXT) as m:
        with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
            await m.instrument("BTC")
    assert str(caught.value) == "okx: not reachable"
    assert caught.value.exchange == "okx"
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == FAST_RETRY.attempts - 1


async def test_a_slow_exchange_times_out_and_is_retried(okx: FakeOkx) -> None:
    async with MarketData(
        urls={"okx": okx.url}, retry=FAST_RETRY, ccxt_config={"rateLimit": 1, "timeout": 200}
    ) as market:
        await market.instrument("BTC")
        okx.inject(Fault(200, "{}", "application/json", delay=0.6), CANDLES, times=1)
        assert len(await _btc_hourly(market)) == 5
        okx.inject(Fault(200, "{}", "application/json", delay=0.6), CANDLES, times=None)
        with pytest.raises(ExchangeUnavailable, match="okx: timed out"):
            await _btc_hourly(market)


async def test_a_bad_request_is_not_retried(okx: FakeOkx, market: MarketData) -> None:
    from liqmap.errors import ExchangeRejected

    await market.instrument("BTC")
    okx.inject(okx_error("51000", "Parameter bar error"), CANDLES)
    with pytest.raises(ExchangeRejected, match="Parameter bar error"):
        await _btc_hourly(market)
    assert okx.count(CANDLES) == 1


@pytest.mark.parametrize("bug", [TypeError, KeyError, AttributeError])
async def test_a_bug_in_our_own_parsing_is_not_retried_nor_blamed_on_the_exchange(
    okx: FakeOkx,
    market: MarketData,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    bug: type[Exception],
) -> None:
    from liqmap.exchanges import market_data

    await market.instrument("BTC")

    def broken(raw: object) -> list:
        raise bug("our mistake")

    monkeypatch.setattr(market_data, "_candle_rows", broken)
    with caplog.at_level(logging.WARNING), pytest.raises(bug, match="our mistake"):
        await _btc_hourly(market)
    assert okx.count(CANDLES) == 1
    assert "malformed" not in caplog.text and "retrying" not in caplog.text
    assert list(market.incidents) == []


OI_PATH = "/api/v5/rubik/stat/contracts/open-interest-history"


async def test_absurd_open_interest_is_rejected_as_implausible(
    okx: FakeOkx, market: MarketData, caplog: pytest.LogCaptureFixture
) -> None:
    inst = await market.instrument("BTC")
    since = floor_to(market.now(), HOUR_MS) - 3 * HOUR_MS
    rows = [[str(since + i * HOUR_MS), "1e305", "1e303", "1e307"] for i in range(3)]
    body = json.dumps({"code": "0", "msg": "", "data": rows[::-1]})
    okx.inject(Fault(200, body, "application/json"), OI_PATH, times=None)
    with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
        await market.open_interest(inst, "1h", since)
    assert str(caught.value) == "okx: implausible data"
    assert "open interest of 1e+307 USD is beyond any market" in caplog.text
    assert okx.count(OI_PATH) == FAST_RETRY.attempts, "retried: a glitch may pass"
    assert market.incidents[-1].detail == "fetch_open_interest_history: implausible data"


async def test_a_page_many_times_larger_than_asked_for_is_rejected(
    okx: FakeOkx, market: MarketData, caplog: pytest.LogCaptureFixture
) -> None:
    await market.instrument("BTC")
    start = floor_to(market.now(), HOUR_MS) - 5 * HOUR_MS
    flood = [[str(start + i), "100", "101", "99", "100", "1", "1", "1", "1"] for i in range(5000)]
    body = json.dumps({"code": "0", "msg": "", "data": flood[::-1]})
    okx.inject(Fault(200, body, "application/json"), CANDLES, times=None)
    with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
        await _btc_hourly(market)
    assert str(caught.value) == "okx: implausible data"
    assert "asked for at most 300 rows, got 5,000" in caplog.text


async def test_implausible_open_interest_never_reaches_the_map(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    from jobs.on_demand.maps import compute_map
    from storage.market_cache import OPEN_INTEREST

    inst = await market.instrument("BTC")
    rows = [[str(floor_to(market.now(), HOUR_MS) - i * HOUR_MS), "1", "1", "1e307"]
            for i in range(24)]  # fmt: skip
    body = json.dumps({"code": "0", "msg": "", "data": rows})
    okx.inject(Fault(200, body, "application/json"), OI_PATH, times=None)
    with pytest.raises(ExchangeUnavailable, match="implausible data"):
        await compute_map(market, stores, inst, "1d", "1h")
    assert stores.cache.covered(inst, OPEN_INTEREST, "1h") == []


async def test_a_price_beyond_any_market_is_rejected_as_implausible(
    okx: FakeOkx, market: MarketData, caplog: pytest.LogCaptureFixture
) -> None:
    await market.instrument("BTC")
    ts = floor_to(market.now(), HOUR_MS) - 2 * HOUR_MS
    row = [str(ts), "1e12", "1e12", "1e12", "1e12", "5", "5", "5", "1"]
    body = json.dumps({"code": "0", "msg": "", "data": [row]})
    okx.inject(Fault(200, body, "application/json"), CANDLES, times=None)
    with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
        await _btc_hourly(market)
    assert str(caught.value) == "okx: implausible data"
    assert "candle price 1e+12 is beyond any market" in caplog.text


@pytest.mark.fixed_clock
async def test_a_bybit_ip_ban_stops_every_bybit_call_for_ten_minutes(
    bybit: FakeBybit, adapter: Adapter, clock: Clock
) -> None:
    """Bybit's HTTP 403 is an IP ban ("wait for at least 10 minutes"): not retried, and no
    call to Bybit at all until the ten minutes are over (the clock stands at 12:00:30)."""
    banned = r"IP banned by Bybit \(HTTP 403\), not called again until 12:10 UTC"
    async with adapter(bybit=bybit.url) as market:
        inst = await market.instrument("bybit:BTCUSDT")
        since = floor_to(market.now(), HOUR_MS) - 5 * HOUR_MS
        bybit.inject(IP_BAN, "/v5/market/kline", times=None)
        with pytest.raises(ExchangeUnavailable, match=f"^bybit: {banned}$"):
            await market.candles(inst, "1h", since)
        assert bybit.count("/v5/market/kline") == 1, "not retried"

        bybit.clear_faults()
        bybit.reset_log()
        clock.advance(9 * MINUTE_MS)
        with pytest.raises(ExchangeUnavailable, match=banned):
            await market.prices([inst])
        assert bybit.count() == 0
        assert list(market.bans()) == ["bybit"]

        clock.advance(MINUTE_MS)
        assert len(await market.candles(inst, "1h", since)) == 5
        assert market.bans() == {}
