"""A fake Binance USD-M futures REST API: exchange info, klines, OI history and mark prices.

Strict like the real one: unknown symbols, bad intervals or periods and too-large limits
are refused with Binance's own error JSON (HTTP 400), and open-interest history is served
only for the last 30 days.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.http import FakeServer, Fault, Request
from tests.fakes.tape import Tape

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

INTERVALS = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": 7 * DAY,
}
OI_PERIODS = {
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
}
KLINES_DEFAULT_LIMIT, KLINES_MAX_LIMIT = 500, 1500
OI_DEFAULT_LIMIT, OI_MAX_LIMIT = 30, 500
OI_RETENTION_MS = 30 * DAY
PERPETUAL_DELIVERY = 4133404800000
"""What Binance puts in ``deliveryDate`` of a perpetual (2100-12-25)."""


def num(value: float) -> str:
    """A decimal string that reads back as exactly the same float (no exponent)."""
    text = repr(float(value))
    return format(value, "f") if "e" in text else text


def next_quarterly_expiry(now_ms: int) -> int:
    """08:00 UTC on the last Friday of the next March/June/September/December after now."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    year, month = now.year, now.month
    while True:
        if month % 3 == 0:
            last_day = calendar.monthrange(year, month)[1]
            day = datetime(year, month, last_day, 8, tzinfo=UTC)
            while day.weekday() != 4:
                day = day.replace(day=day.day - 1)
            expiry = int(day.timestamp() * 1000)
            if expiry > now_ms:
                return expiry
        month += 1
        if month > 12:
            year, month = year + 1, 1


def yymmdd(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%y%m%d")


@dataclass
class BinanceSymbol:
    symbol: str
    base: str
    price: float
    quote: str = "USDT"
    contract_type: str = "PERPETUAL"
    delivery_date: int = PERPETUAL_DELIVERY
    status: str = "TRADING"
    onboard_date: int = 1569398400000

    @property
    def pair(self) -> str:
        return f"{self.base}{self.quote}"

    def wire(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "pair": self.pair,
            "contractType": self.contract_type,
            "deliveryDate": self.delivery_date,
            "onboardDate": self.onboard_date,
            "status": self.status,
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": self.base,
            "quoteAsset": self.quote,
            "marginAsset": self.quote,
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["PoW"] if self.base == "BTC" else ["Layer-1"],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "261.10",
                    "maxPrice": "809484",
                    "tickSize": "0.10",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.001",
                    "maxQty": "1000",
                    "stepSize": "0.001",
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": "0.001",
                    "maxQty": "120",
                    "stepSize": "0.001",
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "permissionSets": ["GRID", "COPY"],
        }


def default_symbols(now_ms: int) -> list[BinanceSymbol]:
    """BTC and ETH USDT perpetuals and the live BTCUSDT quarterly (e.g. ``BTCUSDT_261225``)."""
    expiry = next_quarterly_expiry(now_ms)
    return [
        BinanceSymbol("BTCUSDT", "BTC", 60_000.0),
        BinanceSymbol("ETHUSDT", "ETH", 3_000.0),
        BinanceSymbol(
            f"BTCUSDT_{yymmdd(expiry)}",
            "BTC",
            60_400.0,
            contract_type="CURRENT_QUARTER",
            delivery_date=expiry,
            onboard_date=expiry - 180 * DAY,
        ),
    ]


def binance_error(code: int, msg: str, status: int = 400) -> Fault:
    """A Binance error, e.g. ``binance_error(-1003, "Too many requests; ...", 429)``."""
    body = json.dumps({"code": code, "msg": msg})
    return Fault(status=status, body=body, content_type="application/json")


RATE_LIMITED = binance_error(
    -1003,
    "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
    "Please use the websocket for live updates to avoid polling the API.",
    429,
)


@dataclass
class FakeBinance(FakeServer):
    """Serves Binance USD-M's public endpoints from one ``Tape`` per symbol."""

    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    symbols: list[BinanceSymbol] = field(default_factory=list)
    tapes: dict[str, Tape] = field(default_factory=dict)
    oi_retention_ms: int = OI_RETENTION_MS

    def __post_init__(self) -> None:
        if not self.symbols:
            self.symbols = default_symbols(self.clock())
        self.routes.update(
            {
                "/fapi/v1/ping": lambda req: (200, {}),
                "/fapi/v1/time": lambda req: (200, {"serverTime": self.clock()}),
                "/fapi/v1/exchangeInfo": self._exchange_info,
                "/fapi/v1/klines": self._klines,
                "/futures/data/openInterestHist": self._oi_history,
                "/fapi/v1/premiumIndex": self._premium_index,
                "/fapi/v1/ticker/24hr": self._ticker_24hr,
            }
        )

    @property
    def quarterly(self) -> BinanceSymbol:
        return next(s for s in self.symbols if s.contract_type != "PERPETUAL")

    def tape(self, symbol: str) -> Tape:
        """The market behind ``symbol``, created on first use."""
        if symbol not in self.tapes:
            found = self._find(symbol)
            assert found is not None, symbol
            seed = sum(map(ord, symbol)) + 7
            self.tapes[symbol] = Tape(self.clock, price=found.price, seed=seed)
        return self.tapes[symbol]

    def _find(self, symbol: str | None) -> BinanceSymbol | None:
        return next((s for s in self.symbols if s.symbol == symbol), None)

    # -- answers -------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, msg: str, status: int = 400) -> tuple[int, dict]:
        return status, {"code": code, "msg": msg}

    @classmethod
    def _invalid(cls, name: str) -> tuple[int, dict]:
        return cls._error(-1130, f"Data sent for parameter '{name}' is not valid.")

    @classmethod
    def _mandatory(cls, name: str) -> tuple[int, dict]:
        return cls._error(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )

    def _symbol(self, req: Request) -> BinanceSymbol | tuple[int, dict]:
        name = req.query.get("symbol")
        if not name:
            return self._mandatory("symbol")
        found = self._find(name)
        if found is None or found.status != "TRADING":
            return self._error(-1121, "Invalid symbol.")
        return found

    @classmethod
    def _int_params(cls, req: Request, *names: str) -> dict[str, int | None] | tuple[int, dict]:
        values: dict[str, int | None] = {}
        for name in names:
            raw = req.query.get(name)
            if raw is None or raw == "":
                values[name] = None
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                return cls._error(-1100, f"Illegal characters found in parameter '{name}'.")
        return values

    # -- endpoints -----------------------------------------------------------------------

    def _exchange_info(self, req: Request) -> tuple[int, dict]:
        return 200, {
            "timezone": "UTC",
            "serverTime": self.clock(),
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "exchangeFilters": [],
            "assets": [
                {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
            ],
            "symbols": [s.wire() for s in self.symbols],
        }

    def _klines(self, req: Request) -> tuple[int, Any]:
        found = self._symbol(req)
        if not isinstance(found, BinanceSymbol):
            return found
        interval = req.query.get("interval")
        if not interval:
            return self._mandatory("interval")
        step = INTERVALS.get(interval)
        if step is None:
            return self._error(-1120, "Invalid interval.")
        params = self._int_params(req, "limit", "startTime", "endTime")
        if not isinstance(params, dict):
            return params
        limit = params["limit"] if params["limit"] is not None else KLINES_DEFAULT_LIMIT
        if not 0 < limit <= KLINES_MAX_LIMIT:
            return self._invalid("limit")
        start, end = params["startTime"], params["endTime"]
        if start is not None and end is not None and start > end:
            return self._error(-1023, "Start time is greater than end time.")
        now = self.clock()
        last = min(end if end is not None else now, now)
        if start is None:
            start = (last // step - limit + 1) * step
        rows = self.tape(found.symbol).bars(step, start, last + 1)[:limit]
        return 200, [
            [
                ts,
                num(o),
                num(h),
                num(lo),
                num(c),
                num(v),
                ts + step - 1,
                num(v * c),
                int(v * 40) + 1,
                num(v / 2),
                num(v * c / 2),
                "0",
            ]
            for ts, o, h, lo, c, v in rows
        ]

    def _oi_history(self, req: Request) -> tuple[int, Any]:
        found = self._symbol(req)
        if not isinstance(found, BinanceSymbol):
            return found
        period = req.query.get("period")
        if not period:
            return self._mandatory("period")
        step = OI_PERIODS.get(period)
        if step is None:
            return self._invalid("period")
        params = self._int_params(req, "limit", "startTime", "endTime")
        if not isinstance(params, dict):
            return params
        limit = params["limit"] if params["limit"] is not None else OI_DEFAULT_LIMIT
        if not 0 < limit <= OI_MAX_LIMIT:
            return self._invalid("limit")
        now = self.clock()
        oldest = now - self.oi_retention_ms
        start, end = params["startTime"], params["endTime"]
        if start is not None and start < oldest:
            return self._invalid("startTime")
        if end is not None and end < oldest:
            return self._invalid("endTime")
        if start is not None and end is not None and start > end:
            return self._invalid("startTime")
        last = min(end if end is not None else now, now)
        rows = self.tape(found.symbol).open_interest(step, max(start or oldest, oldest), last + 1)
        rows = rows[:limit] if start is not None else rows[-limit:]
        return 200, [
            {
                "symbol": found.symbol,
                "sumOpenInterest": num(coins),
                "sumOpenInterestValue": num(usd),
                "CMCCirculatingSupply": "19850000.000000",
                "timestamp": ts,
            }
            for ts, usd, coins in rows
        ]

    def _selected(self, req: Request) -> list[BinanceSymbol] | tuple[int, dict]:
        if "symbol" in req.query:
            found = self._symbol(req)
            return [found] if isinstance(found, BinanceSymbol) else found
        return [s for s in self.symbols if s.status == "TRADING"]

    def _premium_index(self, req: Request) -> tuple[int, Any]:
        chosen = self._selected(req)
        if not isinstance(chosen, list):
            return chosen
        now = self.clock()
        items = []
        for s in chosen:
            mark = self.tape(s.symbol).last_price()
            perpetual = s.contract_type == "PERPETUAL"
            items.append(
                {
                    "symbol": s.symbol,
                    "markPrice": num(mark),
                    "indexPrice": num(mark * 0.9999),
                    "estimatedSettlePrice": num(mark * 0.9998),
                    "lastFundingRate": "0.00010000" if perpetual else "",
                    "interestRate": "0.00010000" if perpetual else "",
                    "nextFundingTime": (now // (8 * HOUR) + 1) * 8 * HOUR if perpetual else 0,
                    "time": now,
                }
            )
        return 200, items[0] if "symbol" in req.query else items

    def _ticker_24hr(self, req: Request) -> tuple[int, Any]:
        chosen = self._selected(req)
        if not isinstance(chosen, list):
            return chosen
        now = self.clock()
        items = []
        for s in chosen:
            tape = self.tape(s.symbol)
            day = tape.bars(DAY, now - DAY, now + 1)
            last = tape.last_price()
            first = day[0][1] if day else last
            items.append(
                {
                    "symbol": s.symbol,
                    "priceChange": num(last - first),
                    "priceChangePercent": f"{(last / first - 1) * 100:.3f}",
                    "weightedAvgPrice": num(last),
                    "lastPrice": num(last),
                    "lastQty": "0.010",
                    "openPrice": num(first),
                    "highPrice": num(max([r[2] for r in day] + [last])),
                    "lowPrice": num(min([r[3] for r in day] + [last])),
                    "volume": num(sum(r[5] for r in day)),
                    "quoteVolume": num(sum(r[5] * r[4] for r in day)),
                    "openTime": now - DAY,
                    "closeTime": now,
                    "firstId": 1,
                    "lastId": 1000,
                    "count": 1000,
                }
            )
        return 200, items[0] if "symbol" in req.query else items
