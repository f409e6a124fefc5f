"""A fake OKX v5 REST API: instruments, candles, OI history, mark prices and tickers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.fakes.http import FakeServer, Fault, Request
from tests.fakes.tape import Tape

HOUR = 3_600_000
UTC8 = 16 * HOUR
"""UTC+8 midnight is 16:00 UTC: where OKX's unsuffixed 6H/12H/1D bars and periods open."""
BARS = {
    "1m": (60_000, 0),
    "3m": (180_000, 0),
    "5m": (300_000, 0),
    "15m": (900_000, 0),
    "30m": (1_800_000, 0),
    "1H": (HOUR, 0),
    "2H": (2 * HOUR, 0),
    "4H": (4 * HOUR, 0),
    "6H": (6 * HOUR, UTC8 % (6 * HOUR)),
    "12H": (12 * HOUR, UTC8 % (12 * HOUR)),
    "1D": (24 * HOUR, UTC8),
    "6Hutc": (6 * HOUR, 0),
    "12Hutc": (12 * HOUR, 0),
    "1Dutc": (24 * HOUR, 0),
}
"""Bar sizes as (length, offset past the UTC grid). OKX docs, market candles and contract
open-interest history: "UTC+8 opening price k-line: [6H/12H/1D ...]", "UTC+0 opening price
k-line: [6Hutc/12Hutc/1Dutc ...]". ccxt asks candles for ``1Dutc`` and OI for ``1D``."""
OI_PERIODS = {
    name: BARS[name]
    for name in ("5m", "15m", "30m", "1H", "2H", "4H", "6H", "12H", "1D", "6Hutc", "12Hutc",
                 "1Dutc")
}  # fmt: skip
"""Periods of /rubik/stat/contracts/open-interest-history (OKX docs); so daily rows asked
as ``1D`` are stamped at 16:00 UTC."""
RECENT_BARS = 1440
OI_ROWS_KEPT = 1440
"""OKX docs: "This endpoint can retrieve the latest 1,440 data entries" (they also say data
goes back to early 2024; which holds is unverified, so the fake can serve either)."""
CANDLE_LIMIT = 300
"""OKX docs: at most 300 a request on both /market/candles and /market/history-candles
(ccxt asks history-candles for 300 itself)."""


@dataclass
class OkxInstrument:
    inst_id: str
    inst_type: str
    price: float
    ct_val: float
    ct_val_ccy: str
    ct_type: str
    settle: str
    exp_time: int | None = None
    state: str = "live"
    mmr: float = 0.004
    """First-tier maintenance-margin rate served by position-tiers."""

    @property
    def uly(self) -> str:
        parts = self.inst_id.split("-")
        return f"{parts[0]}-{parts[1]}"

    def wire(self) -> dict[str, str]:
        return {
            "instId": self.inst_id,
            "instType": self.inst_type,
            "uly": self.uly,
            "instFamily": self.uly,
            "baseCcy": "",
            "quoteCcy": "",
            "settleCcy": self.settle,
            "ctVal": f"{self.ct_val:g}",
            "ctMult": "1",
            "ctValCcy": self.ct_val_ccy,
            "ctType": self.ct_type,
            "lotSz": "1",
            "tickSz": "0.1",
            "minSz": "1",
            "lever": "100",
            "state": self.state,
            "listTime": "1606468572000",
            "expTime": str(self.exp_time) if self.exp_time else "",
            "alias": "",
            "category": "1",
            "optType": "",
            "stk": "",
        }


def default_instruments(now_ms: int) -> list[OkxInstrument]:
    """BTC/ETH/SOL USDT perps, the BTC inverse perp, and a live BTC-USDT dated future."""
    expiry = (now_ms // 86_400_000 + 30) * 86_400_000 + 8 * 3_600_000
    yymmdd = datetime.fromtimestamp(expiry / 1000, UTC).strftime("%y%m%d")
    return [
        OkxInstrument("BTC-USDT-SWAP", "SWAP", 60_000.0, 0.01, "BTC", "linear", "USDT"),
        OkxInstrument("ETH-USDT-SWAP", "SWAP", 3_000.0, 0.1, "ETH", "linear", "USDT"),
        OkxInstrument("SOL-USDT-SWAP", "SWAP", 150.0, 1, "SOL", "linear", "USDT", mmr=0.01),
        OkxInstrument("BTC-USD-SWAP", "SWAP", 60_000.0, 100, "USD", "inverse", "BTC"),
        OkxInstrument(
            f"BTC-USDT-{yymmdd}", "FUTURES", 60_500.0, 0.01, "BTC", "linear", "USDT", expiry
        ),
    ]


def okx_error(code: str, msg: str, status: int = 200) -> Fault:
    """An OKX error envelope, e.g. ``okx_error("50011", "Too Many Requests", 429)``."""
    body = json.dumps({"code": code, "msg": msg, "data": []})
    return Fault(status=status, body=body, content_type="application/json")


@dataclass
class FakeOkx(FakeServer):
    """Serves OKX's public endpoints from one ``Tape`` per instrument."""

    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    instruments: list[OkxInstrument] = field(default_factory=list)
    tapes: dict[str, Tape] = field(default_factory=dict)
    oi_rows_kept: int | None = OI_ROWS_KEPT
    """Open-interest history keeps only this many latest rows per period (None: all)."""

    def __post_init__(self) -> None:
        if not self.instruments:
            self.instruments = default_instruments(self.clock())
        self.routes.update(
            {
                "/api/v5/public/instruments": self._instruments,
                "/api/v5/market/candles": self._candles,
                "/api/v5/market/history-candles": self._history_candles,
                "/api/v5/rubik/stat/contracts/open-interest-history": self._oi_history,
                "/api/v5/public/open-interest": self._open_interest,
                "/api/v5/public/mark-price": self._mark_price,
                "/api/v5/market/tickers": self._tickers,
                "/api/v5/public/position-tiers": self._position_tiers,
            }
        )

    def tape(self, inst_id: str) -> Tape:
        """The market behind ``inst_id``, created on first use."""
        if inst_id not in self.tapes:
            inst = self._find(inst_id)
            assert inst is not None, inst_id
            seed = sum(map(ord, inst_id))
            self.tapes[inst_id] = Tape(self.clock, price=inst.price, seed=seed)
        return self.tapes[inst_id]

    def _find(self, inst_id: str | None) -> OkxInstrument | None:
        return next((i for i in self.instruments if i.inst_id == inst_id), None)

    @staticmethod
    def _ok(data: list) -> tuple[int, dict]:
        return 200, {"code": "0", "msg": "", "data": data}

    @staticmethod
    def _error(code: str, msg: str) -> tuple[int, dict]:
        return 200, {"code": code, "msg": msg, "data": []}

    def _instruments(self, req: Request) -> tuple[int, dict]:
        inst_type = req.query.get("instType")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return self._error("51000", "Parameter instType error")
        return self._ok([i.wire() for i in self.instruments if i.inst_type == inst_type])

    def _candles(self, req: Request) -> tuple[int, dict]:
        return self._bars(req, recent_only=True)

    def _history_candles(self, req: Request) -> tuple[int, dict]:
        return self._bars(req, recent_only=False)

    def _bars(self, req: Request, recent_only: bool) -> tuple[int, dict]:
        inst = self._find(req.query.get("instId"))
        if inst is None:
            return self._error("51001", "Instrument ID does not exist")
        bar = BARS.get(req.query.get("bar", "1m"))
        if bar is None:
            return self._error("51000", "Parameter bar error")
        step, offset = bar
        limit = int(req.query.get("limit", 100))
        if not 0 < limit <= CANDLE_LIMIT:
            return self._error("51000", "Parameter limit error")
        now = self.clock()
        after = int(req.query.get("after") or now + step)
        before = int(req.query.get("before") or -1)
        start = before + 1
        if recent_only:
            start = max(start, ((now - offset) // step - RECENT_BARS + 1) * step + offset)
        tape = self.tape(inst.inst_id)
        rows = [r for r in tape.bars(step, start, after, offset) if before < r[0] < after]
        rows = rows[::-1][:limit]
        data = [
            [
                str(ts),
                f"{o:.2f}",
                f"{h:.2f}",
                f"{lo:.2f}",
                f"{c:.2f}",
                f"{v / inst.ct_val:.0f}",
                f"{v:.4f}",
                f"{v * c:.2f}",
                "1" if ts + step <= now else "0",
            ]
            for ts, o, h, lo, c, v in rows
        ]
        return self._ok(data)

    def _oi_history(self, req: Request) -> tuple[int, dict]:
        inst = self._find(req.query.get("instId"))
        if inst is None:
            return self._error("51001", "Instrument ID does not exist")
        period = OI_PERIODS.get(req.query.get("period", "5m"))
        if period is None:
            return self._error("51000", "Parameter period error")
        step, offset = period
        limit = int(req.query.get("limit", 100))
        if not 0 < limit <= 100:
            return self._error("51000", "Parameter limit error")
        now = self.clock()
        end = int(req.query.get("end") or now + 1)
        begin = int(req.query.get("begin") or -1)
        oldest_kept = begin + 1
        if self.oi_rows_kept is not None:
            latest = (now - offset) // step * step + offset
            oldest_kept = max(oldest_kept, latest - (self.oi_rows_kept - 1) * step)
        tape = self.tape(inst.inst_id)
        rows = tape.open_interest(step, oldest_kept, end, offset)
        rows = [r for r in rows if begin < r[0] < end and r[0] <= now][::-1][:limit]
        if rows and rows[0][0] + step > now:
            # The period still running is served with its latest figure, which moves until
            # the period closes (issue 16: OKX's running period read as final; OKX's docs do
            # not say which moment a row's figure is from).
            ts, _, coins = rows[0]
            usd = tape.open_interest_now()
            rows[0] = (ts, usd, coins * usd / rows[0][1])
        data = [
            [str(ts), f"{coins / inst.ct_val:.2f}", f"{coins:.4f}", f"{usd:.2f}"]
            for ts, usd, coins in rows
        ]
        return self._ok(data)

    def _selected(self, req: Request) -> list[OkxInstrument] | None:
        inst_type = req.query.get("instType")
        inst_id = req.query.get("instId")
        chosen = [
            i
            for i in self.instruments
            if (inst_type is None or i.inst_type == inst_type) and inst_id in (None, i.inst_id)
        ]
        return chosen if inst_type or inst_id else None

    def _open_interest(self, req: Request) -> tuple[int, dict]:
        """GET /api/v5/public/open-interest (OKX docs, "Get open interest": instType required,
        instId optional; rows instType, instId, oi in contracts, oiCcy in coins, oiUsd, ts;
        ccxt's ``fetch_open_interests`` asks with ``instType=SWAP``)."""
        chosen = self._selected(req)
        if chosen is None or req.query.get("instType") is None:
            return self._error("50014", "Parameter instType can not be empty")
        now = str(self.clock())
        data = []
        for i in chosen:
            tape = self.tape(i.inst_id)
            usd, price = tape.open_interest_now(), tape.last_price()
            coins = usd / price
            contracts = usd / i.ct_val if i.ct_type == "inverse" else coins / i.ct_val
            data.append({"instType": i.inst_type, "instId": i.inst_id, "oi": f"{contracts:.2f}",
                         "oiCcy": f"{coins:.4f}", "oiUsd": f"{usd:.2f}", "ts": now})  # fmt: skip
        return self._ok(data)

    def _mark_price(self, req: Request) -> tuple[int, dict]:
        chosen = self._selected(req)
        if chosen is None:
            return self._error("50014", "Parameter instType can not be empty")
        now = str(self.clock())
        return self._ok(
            [
                {
                    "instType": i.inst_type,
                    "instId": i.inst_id,
                    "markPx": f"{self.tape(i.inst_id).last_price():.2f}",
                    "ts": now,
                }
                for i in chosen
            ]
        )

    def _tickers(self, req: Request) -> tuple[int, dict]:
        chosen = self._selected(req)
        if chosen is None:
            return self._error("50014", "Parameter instType can not be empty")
        now = str(self.clock())
        data = []
        for i in chosen:
            last = f"{self.tape(i.inst_id).last_price():.2f}"
            data.append(
                {
                    "instType": i.inst_type,
                    "instId": i.inst_id,
                    "last": last,
                    "lastSz": "1",
                    "askPx": last,
                    "askSz": "1",
                    "bidPx": last,
                    "bidSz": "1",
                    "open24h": last,
                    "high24h": last,
                    "low24h": last,
                    "volCcy24h": "0",
                    "vol24h": "0",
                    "sodUtc0": last,
                    "sodUtc8": last,
                    "ts": now,
                }
            )
        return self._ok(data)

    def _position_tiers(self, req: Request) -> tuple[int, dict]:
        inst_type, family = req.query.get("instType"), req.query.get("instFamily")
        if req.query.get("tdMode") not in ("cross", "isolated") or not inst_type or not family:
            return self._error("51000", "Parameter tdMode, instType or instFamily error")
        chosen = [i for i in self.instruments if i.inst_type == inst_type and i.uly == family]
        if not chosen:
            return self._error("51001", "Instrument ID does not exist")
        first = chosen[0]
        return self._ok([
            {"instFamily": family, "uly": family, "instId": "", "tier": str(tier),
             "mmr": f"{first.mmr * tier:g}", "imr": f"{2 * first.mmr * tier:g}",
             "maxLever": f"{125 // tier}", "minSz": str((tier - 1) * 1000),
             "maxSz": str(tier * 1000), "optMgnFactor": "0", "baseMaxLoan": "",
             "quoteMaxLoan": ""}
            for tier in (1, 2, 3)
        ])  # fmt: skip
