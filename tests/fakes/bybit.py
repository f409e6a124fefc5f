"""A fake Bybit v5 REST API: instruments, klines, open-interest history and tickers.

Every answer is Bybit's envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``
with HTTP 200, errors included. Lists come newest first, as Bybit sends them; a range
wider than ``limit`` is answered from its newest end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.binance import DAY, HOUR, MINUTE, next_quarterly_expiry, num
from tests.fakes.http import FakeServer, Fault, Request
from tests.fakes.tape import Tape

INTERVALS = {
    "1": MINUTE,
    "3": 3 * MINUTE,
    "5": 5 * MINUTE,
    "15": 15 * MINUTE,
    "30": 30 * MINUTE,
    "60": HOUR,
    "120": 2 * HOUR,
    "240": 4 * HOUR,
    "360": 6 * HOUR,
    "720": 12 * HOUR,
    "D": DAY,
    "W": 7 * DAY,
}
OI_INTERVALS = {
    "5min": 5 * MINUTE,
    "15min": 15 * MINUTE,
    "30min": 30 * MINUTE,
    "1h": HOUR,
    "4h": 4 * HOUR,
    "1d": DAY,
}
CATEGORIES = ("spot", "linear", "inverse", "option")
KLINE_DEFAULT_LIMIT, KLINE_MAX_LIMIT = 200, 1000
OI_DEFAULT_LIMIT, OI_MAX_LIMIT = 50, 200
INSTRUMENTS_DEFAULT_LIMIT, INSTRUMENTS_MAX_LIMIT = 500, 1000
MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass
class BybitInstrument:
    symbol: str
    category: str
    contract_type: str
    base: str
    quote: str
    settle: str
    price: float
    delivery_time: int = 0
    status: str = "Trading"
    launch_time: int = 1585526400000
    min_order_qty: str | None = None
    """``lotSizeFilter.minOrderQty`` (and ``qtyStep``) when not the default: "1" USD contract
    inverse, "0.001" linear. An inverse contract stays 1 USD whatever the minimum order is."""

    @property
    def inverse(self) -> bool:
        return self.category == "inverse"

    def wire(self) -> dict[str, Any]:
        inverse = self.inverse
        min_qty = self.min_order_qty or ("1" if inverse else "0.001")
        return {
            "symbol": self.symbol,
            "contractType": self.contract_type,
            "status": self.status,
            "baseCoin": self.base,
            "quoteCoin": self.quote,
            "launchTime": str(self.launch_time),
            "deliveryTime": str(self.delivery_time),
            "deliveryFeeRate": "0.0005" if self.delivery_time else "",
            "priceScale": "2",
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": "0.50", "maxPrice": "1999999.00", "tickSize": "0.50"},
            "lotSizeFilter": {
                "maxOrderQty": "100000000" if inverse else "1190.000",
                "maxMktOrderQty": "20000000" if inverse else "500.000",
                "minOrderQty": min_qty,
                "qtyStep": min_qty,
                "postOnlyMaxOrderQty": "100000000" if inverse else "1190.000",
                "minNotionalValue": "1" if inverse else "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 0 if self.delivery_time else 480,
            "settleCoin": self.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "displayName": "",
        }


def default_instruments(now_ms: int) -> list[BybitInstrument]:
    """BTC/ETH USDT perps, the BTCUSD inverse perp and the live BTCUSD inverse quarterly."""
    expiry = next_quarterly_expiry(now_ms)
    when = datetime.fromtimestamp(expiry / 1000, UTC)
    quarterly = f"BTCUSD{MONTH_CODES[when.month - 1]}{when:%y}"
    return [
        BybitInstrument("BTCUSDT", "linear", "LinearPerpetual", "BTC", "USDT", "USDT", 60_000.0),
        BybitInstrument("ETHUSDT", "linear", "LinearPerpetual", "ETH", "USDT", "USDT", 3_000.0),
        BybitInstrument("BTCUSD", "inverse", "InversePerpetual", "BTC", "USD", "BTC", 60_000.0),
        BybitInstrument(
            quarterly,
            "inverse",
            "InverseFutures",
            "BTC",
            "USD",
            "BTC",
            60_300.0,
            delivery_time=expiry,
            launch_time=expiry - 180 * DAY,
        ),
    ]


def bybit_error(code: int, msg: str, status: int = 200) -> Fault:
    """A Bybit error envelope, e.g. ``bybit_error(10006, "Too many visits!")``."""
    body = json.dumps(
        {
            "retCode": code,
            "retMsg": msg,
            "result": {},
            "retExtInfo": {},
            "time": int(time.time() * 1000),
        }
    )
    return Fault(status=status, body=body, content_type="application/json")


IP_BAN = Fault(status=403, body="access too frequent", content_type="text/plain")
"""What Bybit answers an IP over its limit: HTTP 403 "access too frequent", not the JSON
envelope (v5 docs, Rate Limit Rules: "If you encounter the error "403, access too frequent",
... terminate all HTTP sessions and wait for at least 10 minutes"). ccxt's bybit maps HTTP
403 to RateLimitExceeded (``httpExceptions``); the body is not JSON, so ``handle_errors``
leaves it to that map."""

NOT_SUPPORTED_SYMBOLS = "Not supported symbols"
"""What Bybit's market endpoints say about a symbol they do not list (ccxt: BadSymbol)."""


@dataclass
class FakeBybit(FakeServer):
    """Serves Bybit v5's public market endpoints from one ``Tape`` per symbol."""

    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    instruments: list[BybitInstrument] = field(default_factory=list)
    tapes: dict[str, Tape] = field(default_factory=dict)
    instruments_page: int | None = None
    """Serve at most this many instruments a page whatever ``limit`` says (tests cursors)."""
    single_open_interest: bool = True
    """Open-interest rows carry ``singleOpenInterest`` (Bybit added it in 2026)."""
    maintenance_rate: float = 0.005
    """First-tier maintenance-margin rate the risk-limit endpoint serves (a fraction)."""

    def __post_init__(self) -> None:
        if not self.instruments:
            self.instruments = default_instruments(self.clock())
        self.routes.update(
            {
                "/v5/market/time": self._time,
                "/v5/market/instruments-info": self._instruments,
                "/v5/market/kline": self._kline,
                "/v5/market/open-interest": self._open_interest,
                "/v5/market/tickers": self._tickers,
                "/v5/market/risk-limit": self._risk_limit,
            }
        )

    def tape(self, symbol: str) -> Tape:
        """The market behind ``symbol``, created on first use."""
        if symbol not in self.tapes:
            found = next((i for i in self.instruments if i.symbol == symbol), None)
            assert found is not None, symbol
            seed = sum(map(ord, symbol)) + 13
            self.tapes[symbol] = Tape(self.clock, price=found.price, seed=seed)
        return self.tapes[symbol]

    def find(self, category: str | None, symbol: str | None) -> BybitInstrument | None:
        return next(
            (i for i in self.instruments if i.symbol == symbol and i.category == category), None
        )

    @property
    def quarterly(self) -> BybitInstrument:
        return next(i for i in self.instruments if i.delivery_time)

    # -- answers -------------------------------------------------------------------------

    def _ok(self, result: dict[str, Any]) -> tuple[int, dict]:
        return 200, {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": self.clock(),
        }

    def _error(self, code: int, msg: str) -> tuple[int, dict]:
        return 200, {
            "retCode": code,
            "retMsg": msg,
            "result": {},
            "retExtInfo": {},
            "time": self.clock(),
        }

    def _params_error(self, msg: str) -> tuple[int, dict]:
        return self._error(10001, msg)

    def _ints(self, req: Request, *names: str) -> dict[str, int | None] | tuple[int, dict]:
        values: dict[str, int | None] = {}
        for name in names:
            raw = req.query.get(name)
            if raw is None or raw == "":
                values[name] = None
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                return self._params_error(f"params error: {name} invalid")
        return values

    def _limit(self, req: Request, default: int, maximum: int) -> int | tuple[int, dict]:
        raw = req.query.get("limit")
        try:
            limit = int(raw) if raw else default
        except ValueError:
            return self._params_error("params error: limit invalid")
        if not 0 < limit <= maximum:
            return self._params_error(f"params error: limit must be in [1, {maximum}]")
        return limit

    def _instrument(
        self, req: Request, category_required: bool = True
    ) -> BybitInstrument | tuple[int, dict]:
        category = req.query.get("category") or (None if category_required else "linear")
        if category is None:
            return self._params_error("params error: category is required")
        if category not in CATEGORIES:
            return self._params_error("Illegal category")
        symbol = req.query.get("symbol")
        if not symbol:
            return self._params_error("params error: symbol is required")
        found = self.find(category, symbol)
        if found is None or found.status != "Trading":
            return self._params_error(NOT_SUPPORTED_SYMBOLS)
        return found

    @staticmethod
    def _cursor(value: int) -> str:
        return f"cursor={value}"

    @staticmethod
    def _from_cursor(text: str) -> int | None:
        name, _, value = text.partition("=")
        if name != "cursor" or not value.lstrip("-").isdigit():
            return None
        return int(value)

    # -- endpoints -----------------------------------------------------------------------

    def _time(self, req: Request) -> tuple[int, dict]:
        now = self.clock()
        return self._ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    def _instruments(self, req: Request) -> tuple[int, dict]:
        category = req.query.get("category")
        if not category:
            return self._params_error("params error: category is required")
        if category not in CATEGORIES:
            return self._params_error("Illegal category")
        limit = self._limit(req, INSTRUMENTS_DEFAULT_LIMIT, INSTRUMENTS_MAX_LIMIT)
        if not isinstance(limit, int):
            return limit
        if self.instruments_page is not None:
            limit = min(limit, self.instruments_page)
        status = req.query.get("status")
        symbol = req.query.get("symbol")
        chosen = [
            i
            for i in self.instruments
            if i.category == category
            and (status is None or i.status == status)
            and (symbol is None or i.symbol == symbol)
        ]
        offset = 0
        if req.query.get("cursor"):
            found = self._from_cursor(req.query["cursor"])
            if found is None:
                return self._params_error("params error: cursor invalid")
            offset = found
        page = chosen[offset : offset + limit]
        more = offset + limit < len(chosen)
        return self._ok(
            {
                "category": category,
                "list": [i.wire() for i in page],
                "nextPageCursor": self._cursor(offset + limit) if more else "",
            }
        )

    def _kline(self, req: Request) -> tuple[int, dict]:
        found = self._instrument(req, category_required=False)
        if not isinstance(found, BybitInstrument):
            return found
        step = INTERVALS.get(req.query.get("interval", ""))
        if step is None:
            return self._params_error("Invalid period!")
        limit = self._limit(req, KLINE_DEFAULT_LIMIT, KLINE_MAX_LIMIT)
        if not isinstance(limit, int):
            return limit
        params = self._ints(req, "start", "end")
        if not isinstance(params, dict):
            return params
        now = self.clock()
        start = params["start"]
        if start is not None and params["end"] is not None and start > params["end"]:
            return self._params_error("params error: start must be less than end")
        end = min(params["end"] if params["end"] is not None else now, now)
        first = (end // step - limit + 1) * step
        if start is not None:
            first = max(first, start // step * step)  # the candle containing start
        rows = self.tape(found.symbol).bars(step, first, end + 1)[::-1][:limit]
        inverse = found.inverse
        return self._ok(
            {
                "symbol": found.symbol,
                "category": found.category,
                "list": [
                    [
                        str(ts),
                        num(o),
                        num(h),
                        num(lo),
                        num(c),
                        # inverse: volume in USD contracts, turnover in coins; linear: the reverse
                        num(v * c) if inverse else num(v),
                        num(v) if inverse else num(v * c),
                    ]
                    for ts, o, h, lo, c, v in rows
                ],
            }
        )

    def _open_interest(self, req: Request) -> tuple[int, dict]:
        found = self._instrument(req)
        if not isinstance(found, BybitInstrument):
            return found
        interval = req.query.get("intervalTime")
        if not interval:
            return self._params_error("params error: intervalTime is required")
        step = OI_INTERVALS.get(interval)
        if step is None:
            return self._params_error("params error: intervalTime invalid")
        limit = self._limit(req, OI_DEFAULT_LIMIT, OI_MAX_LIMIT)
        if not isinstance(limit, int):
            return limit
        params = self._ints(req, "startTime", "endTime")
        if not isinstance(params, dict):
            return params
        now = self.clock()
        start, end = params["startTime"], params["endTime"]
        if end is None:
            start = None  # a lone startTime is ignored: the list walks back from now
        elif start is not None and start > end:
            return self._params_error("params error: startTime must be less than endTime")
        end = min(end if end is not None else now, now)
        if req.query.get("cursor"):
            cursor = self._from_cursor(req.query["cursor"])
            if cursor is None:
                return self._params_error("params error: cursor invalid")
            end = min(end, cursor)
        first = start if start is not None else 0
        rows = self.tape(found.symbol).open_interest(step, first, end + 1)[::-1]
        page, rest = rows[:limit], rows[limit:]
        return self._ok(
            {
                "symbol": found.symbol,
                "category": found.category,
                "list": [
                    self._oi_row(ts, usd if found.inverse else coins) for ts, usd, coins in page
                ],
                "nextPageCursor": self._cursor(page[-1][0] - 1) if rest else "",
            }
        )

    def _oi_row(self, ts: int, one_side: float) -> dict[str, str]:
        """One open-interest row: linear in base coins, inverse in USD (a contract is $1).

        ``openInterest`` is "the sum of both sides" (Bybit v5 docs, Get Open Interest, since
        2023-11); ``singleOpenInterest`` carries one side, e.g. a captured answer
        ``{"openInterest": "52664.64200000", "singleOpenInterest": "26332.321"}`` and ccxt
        issue #30014 (54,656.193 vs 27,328.097). Answers from before the field existed lack it.
        """
        row = {"openInterest": f"{2 * one_side:.8f}", "timestamp": str(ts)}
        if self.single_open_interest:
            row["singleOpenInterest"] = f"{one_side:.8f}"
        return row

    def _tickers(self, req: Request) -> tuple[int, dict]:
        category = req.query.get("category")
        if not category:
            return self._params_error("params error: category is required")
        if category not in CATEGORIES:
            return self._params_error("Illegal category")
        symbol = req.query.get("symbol")
        if symbol:
            found = self.find(category, symbol)
            if found is None:
                return self._params_error(NOT_SUPPORTED_SYMBOLS)
            chosen = [found]
        else:
            chosen = [i for i in self.instruments if i.category == category]
        now = self.clock()
        items = []
        for i in chosen:
            tape = self.tape(i.symbol)
            last = tape.last_price()
            day = tape.bars(HOUR, now - DAY, now + 1)
            first = day[0][1] if day else last
            oi = tape.open_interest(MINUTE, now // MINUTE * MINUTE, now + 1)
            oi_usd, oi_coins = (oi[-1][1], oi[-1][2]) if oi else (0.0, 0.0)
            items.append(
                {
                    "symbol": i.symbol,
                    "lastPrice": num(last),
                    "indexPrice": num(last * 0.9999),
                    "markPrice": num(last),
                    "prevPrice24h": num(first),
                    "price24hPcnt": f"{last / first - 1:.6f}",
                    "highPrice24h": num(max([r[2] for r in day] + [last])),
                    "lowPrice24h": num(min([r[3] for r in day] + [last])),
                    "prevPrice1h": num(first),
                    # both sides, as Bybit counts open interest (see _oi_row): the size in
                    # coins (USD contracts for inverse) and its value in the settle coin
                    "openInterest": f"{2 * (oi_usd if i.inverse else oi_coins):.4f}",
                    "openInterestValue": f"{2 * (oi_coins if i.inverse else oi_usd):.2f}",
                    "turnover24h": num(sum(r[5] * r[4] for r in day)),
                    "volume24h": num(sum(r[5] for r in day)),
                    "fundingRate": "" if i.delivery_time else "0.0001",
                    "nextFundingTime": "0"
                    if i.delivery_time
                    else str((now // (8 * HOUR) + 1) * 8 * HOUR),
                    "predictedDeliveryPrice": "",
                    "basisRate": "",
                    "deliveryFeeRate": "0.0005" if i.delivery_time else "",
                    "deliveryTime": str(i.delivery_time),
                    "ask1Size": "1",
                    "bid1Price": num(last - 0.5),
                    "ask1Price": num(last + 0.5),
                    "bid1Size": "1",
                    "basis": "",
                }
            )
        return self._ok({"category": category, "list": items})

    def _risk_limit(self, req: Request) -> tuple[int, dict]:
        """Risk-limit tiers. Rates are fractions in real answers: BTCUSDT tier 1 is
        ``"maintenanceMargin": "0.005"``, ``"initialMargin": "0.01"``, with ``mmDeduction``
        (captured answers; ccxt's own comment still shows an older percent form)."""
        found = self.find(req.query.get("category"), req.query.get("symbol"))
        if found is None:
            return self._error(10001, NOT_SUPPORTED_SYMBOLS)
        rows = [
            {"id": tier, "symbol": found.symbol, "riskLimitValue": str(2_000_000 * tier),
             "maintenanceMargin": f"{self.maintenance_rate * tier:g}",
             "initialMargin": f"{0.01 * tier:g}", "isLowestRisk": int(tier == 1),
             "maxLeverage": f"{100 / tier:.2f}", "mmDeduction": "" if tier == 1 else
             f"{2_000_000 * (tier - 1) * self.maintenance_rate:g}"}
            for tier in (1, 2, 3)
        ]  # fmt: skip
        return self._ok({"category": found.category, "list": rows})
