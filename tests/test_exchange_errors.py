"""Exchange failures: what is retried, what is not, and the clear error left when all fails."""

from __future__ import annotations

import json
import logging

import pytest

from liqmap.errors import ExchangeUnavailable, UnknownInstrument
from liqmap.market_data import Backoff, MarketData
from liqmap.timeframes import HOUR_MS, floor_to
from tests.conftest import FAST_BACKOFF, FAST_CCXT
from tests.fakes.http import Fault, free_port
from tests.fakes.okx import FakeOkx, okx_error

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
    assert okx.count(CANDLES) == FAST_BACKOFF.attempts


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

    backoff = Backoff(attempts=5, first_delay=0.5, factor=2.0, max_delay=3.0)
    async with MarketData(
        urls={"okx": okx.url}, backoff=backoff, sleep=record, ccxt_config=FAST_CCXT
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
    async with MarketData(urls={"okx": url}, backoff=FAST_BACKOFF, ccxt_config=FAST_CCXT) as m:
        with caplog.at_level(logging.WARNING), pytest.raises(ExchangeUnavailable) as caught:
            await m.instrument("BTC")
    assert str(caught.value) == "okx: not reachable"
    assert caught.value.exchange == "okx"
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == FAST_BACKOFF.attempts - 1


async def test_a_slow_exchange_times_out_and_is_retried(okx: FakeOkx) -> None:
    async with MarketData(
        urls={"okx": okx.url}, backoff=FAST_BACKOFF, ccxt_config={"rateLimit": 1, "timeout": 200}
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
