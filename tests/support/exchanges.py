"""One row per exchange of what the shared adapter tests need to know: its fake, paths, page
sizes, query parameters, wire rounding and error answers. Tests take a row through the
``exchange`` fixture (tests/conftest.py), so one test body checks OKX, Binance and Bybit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from liqmap.exchanges.market_data import MarketData, Price
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import HOUR_MS
from tests.fakes.binance import RATE_LIMITED, FakeBinance, binance_error
from tests.fakes.bybit import NOT_SUPPORTED_SYMBOLS, FakeBybit, bybit_error
from tests.fakes.http import Fault, Request
from tests.fakes.okx import FakeOkx, okx_error
from tests.fakes.tape import Tape

Fake = FakeOkx | FakeBinance | FakeBybit
Bar = tuple[int, float, float, float, float, float]
Query = Mapping[str, str]


def answer(body: object) -> Fault:
    """A well-formed JSON answer with HTTP 200, served instead of the fake's own."""
    return Fault(200, json.dumps(body), "application/json")


def _from(name: str) -> Callable[[Query], int]:
    """A page start given inclusively in query parameter ``name``."""
    return lambda query: int(query[name])


def _after(name: str) -> Callable[[Query], int]:
    """A page start given exclusively (OKX's ``before`` and ``begin``)."""
    return lambda query: int(query[name]) + 1


def _exact(bar: Bar) -> Bar:
    return bar


def _okx_bar(bar: Bar) -> Bar:
    """OKX writes prices to the cent and the volume in coins to four places (tests/fakes/okx.py)."""
    ts, o, h, low, c, v = bar
    return ts, round(o, 2), round(h, 2), round(low, 2), round(c, 2), round(v, 4)


# -- answers the fakes do not give on their own -----------------------------------------------


def _okx_klines(rows: list[Bar], now: int) -> Fault:
    """Newest first: ts, OHLC, volume in contracts, in coins, in USDT, confirmed."""
    data = [[str(ts), *map(str, (o, h, lo, c, v, v, v * c)), "1"] for ts, o, h, lo, c, v in rows]
    return answer({"code": "0", "msg": "", "data": data[::-1]})


def _binance_klines(rows: list[Bar], now: int) -> Fault:
    """Oldest first: open time, OHLC, volume, close time, quote volume, trades, taker figures."""
    return answer(
        [
            [ts, *map(str, (o, h, lo, c, v)), ts + HOUR_MS - 1, str(v * c), 1, "0", "0", "0"]
            for ts, o, h, lo, c, v in rows
        ]
    )


def _bybit_envelope(result: dict[str, Any], now: int) -> Fault:
    return answer({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now})


def _bybit_klines(rows: list[Bar], now: int) -> Fault:
    """Newest first: start, OHLC, volume, turnover."""
    data = [[str(ts), *map(str, (o, h, lo, c, v, v * c))] for ts, o, h, lo, c, v in rows]
    return _bybit_envelope({"category": "linear", "symbol": "BTCUSDT", "list": data[::-1]}, now)


MARK, INDEX = 60_001.5, 60_000.0
"""The BTC mark (and index, where the exchange sends one) in a mark answer without ETH."""


def _okx_marks_without_eth(now: int) -> tuple[Fault, Price]:
    mark = {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": f"{MARK}", "ts": str(now)}
    return answer({"code": "0", "msg": "", "data": [mark]}), Price(MARK, "mark", now)


def _binance_marks_without_eth(now: int) -> tuple[Fault, Price]:
    mark = {"symbol": "BTCUSDT", "markPrice": f"{MARK}", "indexPrice": f"{INDEX}", "time": now}
    return answer([mark]), Price(MARK, "mark", now, other=INDEX)


def _bybit_marks_without_eth(now: int) -> tuple[Fault, Price]:
    """Bybit's tickers carry mark and last together: ETH's row has a last trade, no mark."""
    btc = {
        "symbol": "BTCUSDT",
        "lastPrice": "60001.0",
        "markPrice": f"{MARK}",
        "indexPrice": f"{INDEX}",
    }
    eth = {"symbol": "ETHUSDT", "lastPrice": "3333.25", "markPrice": "", "indexPrice": ""}
    fault = _bybit_envelope({"category": "linear", "list": [btc, eth]}, now)
    return fault, Price(MARK, "mark", None, other=INDEX)


def _set_okx_btc_rate(fake: FakeOkx, rate: float) -> None:
    next(i for i in fake.instruments if i.inst_id == "BTC-USDT-SWAP").mmr = rate


def _set_bybit_rate(fake: FakeBybit, rate: float) -> None:
    fake.maintenance_rate = rate


def _okx_future(fake: FakeOkx) -> str:
    return next(i.inst_id for i in fake.instruments if i.inst_type == "FUTURES")


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeSpec:
    """What a shared adapter test needs to know about one exchange."""

    name: str
    fake: type[Fake]
    btc: str
    """Native id of the BTC USDT perpetual; ``eth`` likewise."""
    eth: str
    dated: Callable[[Any], str]
    """Native id of the dated future the fake lists."""
    forms: Callable[[Any], dict[str, str]]
    """Symbol forms a trader may type, and the native id each resolves to."""
    facts: Callable[[Any], dict[str, dict[str, object]]]
    """Symbol typed, and attributes of the instrument it resolves to."""
    misspelt: tuple[str, str]
    """A near miss, and the close match suggested for it."""
    not_listed: str
    """A plausible name that the exchange does not list here."""
    instruments_path: str
    instrument_queries: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]
    """Query keys, and their sorted values over the requests loading the instrument list."""
    candle_paths: tuple[str, ...]
    candle_page: int
    candle_query: dict[str, str]
    """What every request for BTC 1m candles carries."""
    candle_start: Callable[[Query], int]
    candle_end: str
    """The parameter bounding a page's end: without it the latest rows come."""
    wire_bar: Callable[[Bar], Bar]
    """A tape bar as the exchange writes it."""
    kline_answer: Callable[[list[Bar], int], Fault]
    """An answer of these bars (at ``now``) on the candles path."""
    oi_path: str
    oi_page: int
    oi_query: dict[str, str]
    """What every request for BTC 5m open interest carries."""
    oi_start: Callable[[Query], int]
    oi_start_param: str
    oi_days: int
    """Days of 5m open interest that take the exchange a few pages."""
    wire_number: Callable[[float], float]
    """A price or USD figure as the exchange writes it."""
    oi_usd_rel: float
    """Relative error of the USD figure (0: the exchange's own figure, exactly)."""
    valued_at: str | None
    """Native interval of the candles valuing 5m open interest given in coins (Bybit linear)."""
    oi_steps: tuple[str, ...]
    daily_oi_offset: int
    """Where daily open-interest rows are stamped past 00:00 UTC."""
    price_path: str
    priced: Callable[[Any], tuple[str, ...]]
    """Instruments (typed) whose prices come in one request per exchange and contract kind."""
    price_scope: str
    price_scopes: tuple[str, ...]
    """Sorted values of ``price_scope`` over those requests ("" where not sent)."""
    price_stamped: bool
    """Prices carry the exchange's time."""
    marks_without_eth: Callable[[int], tuple[Fault, Price]]
    """A mark answer with BTC's mark and none for ETH, and the price it gives BTC."""
    price_paths_without_a_mark: tuple[str, ...]
    """Requests made for BTC and ETH when the mark answer lacks ETH."""
    rate_limited: tuple[Fault, ...]
    unknown_at_exchange: Fault
    bad_parameter: Callable[[str], Fault]
    """The exchange's answer refusing a request with this text."""
    bad_parameter_text: str
    """What it says of a bad parameter ``{}``."""
    symbol_param: str
    rest_host: str
    """Where ccxt sends requests by default (the URL override replaces it)."""
    api_keys: str
    """Prefix of the ccxt API URL keys the override covers."""
    tiers_path: str | None
    """Public margin tiers (None: they need an API key)."""
    first_tier_rate: float | None
    set_first_tier_rate: Callable[[Any, float], None] | None

    def typed(self, native: str) -> str:
        return f"{self.name}:{native}"


OKX = ExchangeSpec(
    name="okx",
    fake=FakeOkx,
    btc="BTC-USDT-SWAP",
    eth="ETH-USDT-SWAP",
    dated=_okx_future,
    forms=lambda fake: {
        "BTC": "BTC-USDT-SWAP",
        "btc": "BTC-USDT-SWAP",
        "BTC-USDT-SWAP": "BTC-USDT-SWAP",
        "BTC/USDT:USDT": "BTC-USDT-SWAP",
        "okx:eth": "ETH-USDT-SWAP",
        _okx_future(fake): _okx_future(fake),
        f"BTC/USDT:USDT-{_okx_future(fake).rsplit('-', 1)[1]}": _okx_future(fake),
        "BTC-USD-SWAP": "BTC-USD-SWAP",
    },
    facts=lambda fake: {
        "BTC": {"contract_size": 0.01, "linear": True, "kind": "swap"},
        "BTC-USD-SWAP": {"contract_size": 100.0, "linear": False},
        _okx_future(fake): {"kind": "future", "expiry_ms": fake.instruments[-1].exp_time},
    },
    misspelt=("okx:ETHH", "ETH"),
    not_listed="okx:BTC-USDC-SWAP",
    instruments_path="/api/v5/public/instruments",
    instrument_queries=(("instType",), (("FUTURES",), ("SWAP",))),
    candle_paths=("/api/v5/market/candles", "/api/v5/market/history-candles"),
    candle_page=300,
    candle_query={"instId": "BTC-USDT-SWAP", "bar": "1m", "limit": "300"},
    candle_start=_after("before"),
    candle_end="after",
    wire_bar=_okx_bar,
    kline_answer=_okx_klines,
    oi_path="/api/v5/rubik/stat/contracts/open-interest-history",
    oi_page=100,
    oi_query={"instId": "BTC-USDT-SWAP", "period": "5m", "limit": "100"},
    oi_start=_after("begin"),
    oi_start_param="begin",
    oi_days=1,
    wire_number=lambda number: round(number, 2),  # to the cent
    oi_usd_rel=0.0,
    valued_at=None,
    oi_steps=("5m", "1h", "1d"),
    daily_oi_offset=16 * HOUR_MS,
    price_path="/api/v5/public/mark-price",
    priced=lambda fake: ("BTC", "ETH", "SOL", "BTC-USD", _okx_future(fake)),
    price_scope="instType",
    price_scopes=("FUTURES", "SWAP"),
    price_stamped=True,
    marks_without_eth=_okx_marks_without_eth,
    price_paths_without_a_mark=("/api/v5/public/mark-price", "/api/v5/market/tickers"),
    rate_limited=(okx_error("50011", "Too Many Requests", 429),),
    unknown_at_exchange=okx_error("51001", "Instrument ID does not exist"),
    bad_parameter=lambda text: okx_error("51000", text),
    bad_parameter_text="Parameter {} error",
    symbol_param="instId",
    rest_host="{hostname}",
    api_keys="",
    tiers_path="/api/v5/public/position-tiers",
    first_tier_rate=0.004,
    set_first_tier_rate=_set_okx_btc_rate,
)

BINANCE = ExchangeSpec(
    name="binance",
    fake=FakeBinance,
    btc="BTCUSDT",
    eth="ETHUSDT",
    dated=lambda fake: fake.quarterly.symbol,
    forms=lambda fake: {
        "binance:ETH": "ETHUSDT",
        "binance:eth": "ETHUSDT",
        "binance:BTC": "BTCUSDT",
        "binance:BTCUSDT": "BTCUSDT",
        "binance:BTC/USDT:USDT": "BTCUSDT",
        "binance:BTC-USDT": "BTCUSDT",
        f"binance:{fake.quarterly.symbol}": fake.quarterly.symbol,
        f"binance:BTC/USDT:USDT-{fake.quarterly.symbol[-6:]}": fake.quarterly.symbol,
    },
    facts=lambda fake: {
        "binance:ETH": {
            "symbol": "ETH/USDT:USDT",
            "settle": "USDT",
            "linear": True,
            "kind": "swap",
            "contract_size": 1.0,
            "expiry_ms": None,
            "key": "binance:ETHUSDT",
        },
        f"binance:{fake.quarterly.symbol}": {
            "kind": "future",
            "linear": True,
            "base": "BTC",
            "expiry_ms": fake.quarterly.delivery_date,
            "symbol": f"BTC/USDT:USDT-{fake.quarterly.symbol[-6:]}",
        },
    },
    misspelt=("binance:ETHH", "ETH"),
    not_listed="binance:BTCUSD",  # an OKX/Bybit-style name for a coin-M market
    instruments_path="/fapi/v1/exchangeInfo",
    instrument_queries=((), ((),)),
    candle_paths=("/fapi/v1/klines",),
    candle_page=1000,
    candle_query={"symbol": "BTCUSDT", "interval": "1m", "limit": "1000"},
    candle_start=_from("startTime"),
    candle_end="endTime",
    wire_bar=_exact,
    kline_answer=_binance_klines,
    oi_path="/futures/data/openInterestHist",
    oi_page=500,
    oi_query={"symbol": "BTCUSDT", "period": "5m", "limit": "500"},
    oi_start=_from("startTime"),
    oi_start_param="startTime",
    oi_days=5,
    wire_number=float,
    oi_usd_rel=0.0,
    valued_at=None,
    oi_steps=("5m", "15m", "30m", "1h", "4h", "1d"),
    daily_oi_offset=0,
    price_path="/fapi/v1/premiumIndex",
    priced=lambda fake: ("binance:BTC", "binance:ETH"),
    price_scope="symbol",
    price_scopes=("",),  # no symbol: all marks at once
    price_stamped=True,
    marks_without_eth=_binance_marks_without_eth,
    price_paths_without_a_mark=("/fapi/v1/premiumIndex", "/fapi/v1/ticker/24hr"),
    rate_limited=(RATE_LIMITED,),
    unknown_at_exchange=binance_error(-1121, "Invalid symbol."),
    bad_parameter=lambda text: binance_error(-1130, text),
    bad_parameter_text="Data sent for parameter '{}' is not valid.",
    symbol_param="symbol",
    rest_host="fapi.binance.com",
    api_keys="fapi",
    tiers_path=None,
    first_tier_rate=None,
    set_first_tier_rate=None,
)

BYBIT = ExchangeSpec(
    name="bybit",
    fake=FakeBybit,
    btc="BTCUSDT",
    eth="ETHUSDT",
    dated=lambda fake: fake.quarterly.symbol,
    forms=lambda fake: {
        "bybit:BTC": "BTCUSDT",
        "bybit:btc": "BTCUSDT",
        "bybit:ETH": "ETHUSDT",
        "bybit:BTCUSDT": "BTCUSDT",
        "bybit:BTC/USDT:USDT": "BTCUSDT",
        "bybit:BTCUSD": "BTCUSD",
        "bybit:BTC/USD:BTC": "BTCUSD",
        "bybit:BTC-USD": "BTCUSD",
        f"bybit:{fake.quarterly.symbol}": fake.quarterly.symbol,
    },
    facts=lambda fake: {
        "bybit:BTC": {
            "symbol": "BTC/USDT:USDT",
            "linear": True,
            "kind": "swap",
            "contract_size": 1.0,
        },
        "bybit:BTCUSD": {
            "symbol": "BTC/USD:BTC",
            "settle": "BTC",
            "linear": False,
            "kind": "swap",
            "contract_size": 1.0,  # one contract is one dollar
        },
        f"bybit:{fake.quarterly.symbol}": {
            "kind": "future",
            "linear": False,
            "expiry_ms": fake.quarterly.delivery_time,
        },
    },
    misspelt=("bybit:BTCC", "BTC"),
    not_listed="bybit:ETHUSD",
    instruments_path="/v5/market/instruments-info",
    instrument_queries=(
        ("category", "status"),
        (("inverse", ""), ("inverse", "PreLaunch"), ("linear", ""), ("linear", "PreLaunch")),
    ),
    candle_paths=("/v5/market/kline",),
    candle_page=1000,
    candle_query={"category": "linear", "symbol": "BTCUSDT", "interval": "1", "limit": "1000"},
    candle_start=_from("start"),
    candle_end="end",
    wire_bar=_exact,
    kline_answer=_bybit_klines,
    oi_path="/v5/market/open-interest",
    oi_page=200,
    oi_query={"category": "linear", "symbol": "BTCUSDT", "intervalTime": "5min", "limit": "200"},
    oi_start=_from("startTime"),
    oi_start_param="startTime",
    oi_days=1,
    wire_number=float,
    oi_usd_rel=1e-9,  # coins times the candle open
    valued_at="5",
    oi_steps=("5m", "15m", "30m", "1h", "4h", "1d"),
    daily_oi_offset=0,
    price_path="/v5/market/tickers",
    priced=lambda fake: ("bybit:BTC", "bybit:ETH", "bybit:BTCUSD"),
    price_scope="category",
    price_scopes=("inverse", "linear"),
    price_stamped=False,
    marks_without_eth=_bybit_marks_without_eth,
    price_paths_without_a_mark=("/v5/market/tickers",),
    # an HTTP 403 is an IP ban, not a rate limit to retry (test_exchange_errors.py)
    rate_limited=(bybit_error(10006, "Too many visits!", 200),),
    unknown_at_exchange=bybit_error(10001, NOT_SUPPORTED_SYMBOLS),
    bad_parameter=lambda text: bybit_error(10001, text),
    bad_parameter_text="params error: {} invalid",
    symbol_param="symbol",
    rest_host="{hostname}",
    api_keys="",
    tiers_path="/v5/market/risk-limit",
    first_tier_rate=0.005,
    set_first_tier_rate=_set_bybit_rate,
)

EXCHANGES: dict[str, ExchangeSpec] = {spec.name: spec for spec in (OKX, BINANCE, BYBIT)}


@dataclass
class Exchange:
    """One exchange under test: its row, its fake and an adapter reaching only that fake."""

    spec: ExchangeSpec
    fake: Any
    market: MarketData

    @property
    def name(self) -> str:
        return self.spec.name

    async def instrument(self, native: str) -> Instrument:
        return await self.market.instrument(self.spec.typed(native))

    def tape(self, native: str) -> Tape:
        return self.fake.tape(native)

    def candle_requests(self) -> list[Request]:
        return [r for r in self.fake.seen() if r.path in self.spec.candle_paths]
