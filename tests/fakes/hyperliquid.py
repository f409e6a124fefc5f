"""A fake Hyperliquid API: ``POST /info`` for the request types ccxt's ``hyperliquid`` sends to
list perpetuals, read candles and current open interest and funding.

Evidence: Hyperliquid docs, "Info endpoint" (``meta``, ``metaAndAssetCtxs``, ``spotMeta``,
``candleSnapshot``: "Only the most recent 5000 candles are available") and "Rate limits and
user limits" ("REST requests share an aggregated weight limit of 1200 per minute" per IP;
``l2Book``, ``allMids`` ... weigh 2, "All other documented info requests have weight 20",
``candleSnapshot`` "an additional rate limit weight per 60 items returned"); ccxt 4.5.x
``hyperliquid.py``: ``fetch_currencies`` posts ``spotMeta`` (at every ``load_markets``),
``fetch_swap_markets`` posts ``metaAndAssetCtxs`` and zips ``universe`` with the contexts,
``fetch_ohlcv`` posts ``candleSnapshot`` with ``req: {coin, interval, startTime, endTime}``
and parses ``t/o/h/l/c/v``. An unknown coin is answered HTTP 500 with the body ``null``
(JKorf/HyperLiquid.Net issue #16 maps exactly that answer to "symbol not found").

Accounts (``clearinghouseState``, weight 2): docs, Info endpoint, "Retrieve a user's
perpetuals account summary" gives the answer's fields (``assetPositions`` of ``{"type":
"oneWay", "position": {...}}``, ``marginSummary``, ``crossMarginSummary``,
``crossMaintenanceMarginUsed``, ``withdrawable``, ``time``); an address that never traded
has no positions. Docs, Liquidations: the maintenance margin is "half of the initial margin
at max leverage"; the liquidation price is ``price - side * margin_available / size / (1 - l
* side)`` with ``l = 1 / maintenance leverage``. Docs, Tick and lot size: a perp price has at
most ``6 - szDecimals`` decimals. The accounts are drawn (seeded) from ``LEVERAGE_MIX``, each
position's liquidation price the one its own initial margin alone gives (an isolated position,
or a cross account holding only it), so a calibration can recover the mix; a 1x long has no
liquidation price (``null``).

Leaderboard (``GET /Mainnet/leaderboard``, served on another host in reality:
``https://stats-data.hyperliquid.xyz/Mainnet/leaderboard``, what Hyperliquid's web app reads):
not documented by Hyperliquid. Its shape is as third parties record it (monjurkuet/cryptoOS,
``data-sources/hyperliquid/docs/API_LEADERBOARD.md``): ``{"leaderboardRows": [{"ethAddress":
"0x...", "accountValue": "48857952.33...", "windowPerformances": [["day", {"pnl", "roi",
"vlm"}], ...], "prize": 0, "displayName": null}, ...]}``. The fake lists its accounts (or those
of ``leaders``) with their account value.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.http import FakeServer, Fault, Request
from tests.fakes.tape import Tape

MINUTE = 60_000
HOUR = 60 * MINUTE
INTERVALS = {
    "1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "30m": 30 * MINUTE,
    "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "8h": 8 * HOUR, "12h": 12 * HOUR,
    "1d": 24 * HOUR, "3d": 72 * HOUR, "1w": 168 * HOUR,
}  # fmt: skip
"""Candle intervals of ``candleSnapshot`` (Hyperliquid docs; ccxt's ``timeframes``)."""
CANDLES_KEPT = 5000
"""Docs, Candle snapshot: "Only the most recent 5000 candles are available"."""
WEIGHT_PER_MINUTE = 1200
LIGHT_TYPES = frozenset(
    ("l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState",
     "exchangeStatus")
)  # fmt: skip
"""Info requests of weight 2; every other documented one weighs 20 (docs, Rate limits)."""
CANDLE_ITEMS_PER_WEIGHT = 60

LEADERBOARD_PATH = "/Mainnet/leaderboard"

NOT_FOUND = Fault(status=500, body="null", content_type="application/json")
"""What Hyperliquid answers for a coin it does not list (see the module's evidence)."""
RATE_LIMITED = Fault(status=429, body="null", content_type="application/json")
"""Over 1200 weight in a minute: HTTP 429 (docs, Rate limits; the body is not documented)."""


@dataclass
class HyperliquidPerp:
    name: str
    price: float
    sz_decimals: int = 5
    max_leverage: int = 40
    oi_usd: float = 3e8
    funding: float = 0.0000125

    def universe(self) -> dict[str, object]:
        return {"name": self.name, "szDecimals": self.sz_decimals,
                "maxLeverage": self.max_leverage, "marginTableId": self.max_leverage}  # fmt: skip


def default_perps() -> list[HyperliquidPerp]:
    """BTC, ETH and SOL perpetuals, priced as the other fakes' USDT perps."""
    return [
        HyperliquidPerp("BTC", 60_000.0),
        HyperliquidPerp("ETH", 3_000.0, sz_decimals=4, max_leverage=25, oi_usd=1.5e8),
        HyperliquidPerp("SOL", 150.0, sz_decimals=2, max_leverage=20, oi_usd=5e7),
    ]


LEVERAGE_MIX = ((1, 0.05), (3, 0.15), (5, 0.2), (10, 0.3), (20, 0.2), (40, 0.1))
"""The leverages the fake's accounts are drawn from, with their weights; a leverage above a
coin's ``maxLeverage`` is taken at that maximum."""
POSITION_SHARE = (1 / 300_000, 1 / 1_500)
"""A position's USD value as a share of its coin's open interest, drawn evenly: a thousand
positions of a coin hold about a third of it, so a scan's coverage stays a share, as it is on
the venue (where the scanned accounts hold part of the open interest)."""
CROSS_SHARE = 0.7
"""The share of positions held in cross margin."""


def maintenance_rate(perp: HyperliquidPerp) -> float:
    """Half the initial margin at max leverage (docs, Liquidations)."""
    return 1 / (2 * perp.max_leverage)


def liquidation_price(entry: float, leverage: float, long: bool, rate: float) -> float:
    """Where the initial margin ``entry / leverage`` per coin, less the maintenance, is lost:
    the docs' formula with ``margin_available = size * entry * (1 / leverage - rate)``."""
    side = 1 if long else -1
    return entry - side * entry * (1 / leverage - rate) / (1 - rate * side)


@dataclass(frozen=True)
class FakePosition:
    """One position of a fake account: signed size in coins, entry, leverage and mode."""

    coin: str
    szi: float
    entry: float
    leverage: int
    mode: str

    def wire(self, perp: HyperliquidPerp, mark: float) -> dict[str, object]:
        """The documented ``assetPositions`` item at mark price ``mark``."""
        decimals = max(0, 6 - perp.sz_decimals)
        size = abs(self.szi)
        initial = size * self.entry / self.leverage
        pnl = self.szi * (mark - self.entry)
        liq = liquidation_price(self.entry, self.leverage, self.szi > 0, maintenance_rate(perp))
        leverage: dict[str, object] = {"type": self.mode, "value": self.leverage}
        if self.mode == "isolated":
            leverage["rawUsd"] = f"{-self.szi * self.entry + initial:.6f}"
        margin = initial + pnl if self.mode == "isolated" else size * mark / self.leverage
        return {
            "type": "oneWay",
            "position": {
                "coin": self.coin, "szi": f"{self.szi:.{perp.sz_decimals}f}",
                "leverage": leverage, "entryPx": f"{self.entry:.{decimals}f}",
                "positionValue": f"{size * mark:.6f}", "unrealizedPnl": f"{pnl:.6f}",
                "returnOnEquity": f"{pnl / initial:.9f}",
                "liquidationPx": f"{liq:.{decimals}f}" if liq > 0 else None,
                "marginUsed": f"{margin:.6f}", "maxLeverage": perp.max_leverage,
                "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
            },
        }  # fmt: skip


@dataclass
class FakeHyperliquid(FakeServer):
    """Serves ``POST /info`` from one ``Tape`` per coin; counts the weight of the last minute
    and answers 429 past ``weight_limit``."""

    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    perps: list[HyperliquidPerp] = field(default_factory=default_perps)
    tapes: dict[str, Tape] = field(default_factory=dict)
    weight_limit: int = WEIGHT_PER_MINUTE
    accounts: dict[str, list[FakePosition]] = field(default_factory=dict)
    charged: list[tuple[int, int, str]] = field(default_factory=list)
    """Every request answered within the limit: (time, weight, type), for tests to count."""
    leaders: list[str] | None = None
    """The accounts the leaderboard lists (None: every one)."""
    _spent: deque[tuple[int, int]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.routes["/info"] = self._info
        self.routes[LEADERBOARD_PATH] = self._leaderboard

    @property
    def leaderboard_url(self) -> str:
        """What ``LIQMAP_HYPERLIQUID_LEADERBOARD_URL`` takes to reach this fake's leaderboard."""
        return self.url + LEADERBOARD_PATH

    def tape(self, coin: str) -> Tape:
        """The market behind ``coin``, created on first use."""
        if coin not in self.tapes:
            perp = self._find(coin)
            assert perp is not None, coin
            seed = sum(map(ord, coin)) + 19
            self.tapes[coin] = Tape(self.clock, price=perp.price, oi_usd=perp.oi_usd, seed=seed)
        return self.tapes[coin]

    def open_accounts(self, count: int, seed: int = 18) -> list[str]:
        """Open ``count`` accounts of one to three positions drawn from ``LEVERAGE_MIX``
        (seeded), sized by ``POSITION_SHARE``, entered near the current mark; their
        addresses, in the order opened."""
        rng = random.Random(seed)
        leverages = [lev for lev, _ in LEVERAGE_MIX]
        weights = [w for _, w in LEVERAGE_MIX]
        opened = []
        for _ in range(count):
            address = f"0x{rng.getrandbits(160):040x}"
            positions = []
            for perp in rng.sample(self.perps, rng.randint(1, min(3, len(self.perps)))):
                lev = min(rng.choices(leverages, weights)[0], perp.max_leverage)
                side = 1 if rng.random() < 0.5 else -1
                # entered near the mark now, at most half way to its liquidation price: an
                # open position is one the mark has not liquidated
                room = 1 / lev - maintenance_rate(perp)
                move = rng.uniform(-0.5, 0.5) * room
                mark = self.tape(perp.name).last_price()
                entry = round(mark * (1 + move), 6 - perp.sz_decimals)
                usd = rng.uniform(*POSITION_SHARE) * perp.oi_usd
                size = round(usd / entry, perp.sz_decimals)
                mode = "cross" if rng.random() < CROSS_SHARE else "isolated"
                positions.append(FakePosition(perp.name, side * size, entry, lev, mode))
            self.accounts[address] = positions
            opened.append(address)
        return opened

    def most_weight_in_a_minute(self, kind: str | None = None) -> int:
        """The most weight charged in any minute (of requests of ``kind``, if given)."""
        times = sorted((t, w) for t, w, k in self.charged if kind is None or k == kind)
        most = total = first = 0
        for t, w in times:  # the minute from each request's time: [t0, t0 + MINUTE)
            total += w
            while times[first][0] <= t - MINUTE:
                total -= times[first][1]
                first += 1
            most = max(most, total)
        return most

    def info_types(self) -> list[str]:
        """The ``type`` of every ``/info`` request seen, in order."""
        return [json.loads(r.body or b"{}").get("type", "") for r in self.seen("/info")]

    def _find(self, coin: object) -> HyperliquidPerp | None:
        return next((p for p in self.perps if p.name == coin), None)

    def _info(self, req: Request) -> tuple[int, object]:
        try:
            body = json.loads(req.body)
        except ValueError:  # the status and text of a body Hyperliquid cannot read are not
            # documented; a 4xx that ccxt does not retry stands for it
            return 422, "Failed to deserialize the JSON body into the target type"
        kind = body.get("type") if isinstance(body, dict) else None
        handler = {
            "meta": self._meta,
            "metaAndAssetCtxs": self._meta_and_ctxs,
            "spotMeta": self._spot_meta,
            "candleSnapshot": self._candles,
            "clearinghouseState": self._clearinghouse_state,
        }.get(str(kind))
        if handler is None:
            return 422, "Failed to deserialize the JSON body into the target type"
        status, answer = handler(body)
        weight = 2 if kind in LIGHT_TYPES else 20
        if kind == "candleSnapshot" and isinstance(answer, list):
            weight += len(answer) // CANDLE_ITEMS_PER_WEIGHT
        if not self._spend(weight):
            return RATE_LIMITED.status, None
        self.charged.append((self.clock(), weight, str(kind)))
        return status, answer

    def _spend(self, weight: int) -> bool:
        """Count ``weight`` in the last minute's budget; False (a 429) once it is spent."""
        now = self.clock()
        while self._spent and self._spent[0][0] <= now - MINUTE:
            self._spent.popleft()
        if sum(w for _, w in self._spent) + weight > self.weight_limit:
            return False
        self._spent.append((now, weight))
        return True

    def _meta(self, body: dict) -> tuple[int, object]:
        return 200, {"universe": [p.universe() for p in self.perps], "marginTables": []}

    def _meta_and_ctxs(self, body: dict) -> tuple[int, object]:
        ctxs = []
        for perp in self.perps:
            tape = self.tape(perp.name)
            mark = tape.last_price()
            ctxs.append(
                {
                    "dayNtlVlm": "123456789.0",
                    "funding": f"{perp.funding:.7f}",
                    "impactPxs": [f"{mark * 0.9999:.1f}", f"{mark * 1.0001:.1f}"],
                    "markPx": f"{mark:.1f}",
                    "midPx": f"{mark:.1f}",
                    "openInterest": f"{tape.open_interest_now() / mark:.5f}",
                    "oraclePx": f"{mark:.1f}",
                    "premium": "0.0001",
                    "prevDayPx": f"{mark:.1f}",
                }
            )
        status, meta = self._meta(body)
        return status, [meta, ctxs]

    def _spot_meta(self, body: dict) -> tuple[int, object]:
        usdc = {
            "name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True,
            "evmContract": None, "fullName": None,
        }  # fmt: skip
        return 200, {"tokens": [usdc], "universe": []}

    def _candles(self, body: dict) -> tuple[int, object]:
        req = body.get("req") or {}
        perp = self._find(req.get("coin"))
        step = INTERVALS.get(str(req.get("interval")))
        if perp is None or step is None:
            return NOT_FOUND.status, None
        now = self.clock()
        oldest = (now // step - CANDLES_KEPT + 1) * step
        start = max(int(req.get("startTime") or 0), oldest)
        end = int(req.get("endTime") or now)
        rows = self.tape(perp.name).bars(step, start, end + 1)
        return 200, [
            {
                "t": ts, "T": ts + step - 1, "s": perp.name, "i": req["interval"],
                "o": f"{o:.1f}", "c": f"{c:.1f}", "h": f"{h:.1f}", "l": f"{lo:.1f}",
                "v": f"{v:.5f}", "n": int(v * 10),
            }
            for ts, o, h, lo, c, v in rows
            if ts <= end
        ]  # fmt: skip

    def _leaderboard(self, req: Request) -> tuple[int, object]:
        rows = []
        for address in self.accounts if self.leaders is None else self.leaders:
            state = self.state(address)
            value = state["marginSummary"]["accountValue"]  # type: ignore[index]
            performance = {"pnl": "0.0", "roi": "0.0", "vlm": "0.0"}
            rows.append({
                "ethAddress": address, "accountValue": value,
                "windowPerformances": [[w, performance] for w in ("day", "week", "month",
                                                                  "allTime")],
                "prize": 0, "displayName": None,
            })  # fmt: skip
        return 200, {"leaderboardRows": rows}

    def _clearinghouse_state(self, body: dict) -> tuple[int, object]:
        return 200, self.state(str(body.get("user") or "").lower())

    def state(self, user: str) -> dict[str, object]:
        """The ``clearinghouseState`` answer of ``user`` now."""
        items, value, margin, maintenance = [], 0.0, 0.0, 0.0
        for position in self.accounts.get(user, []):
            perp = self._find(position.coin)
            assert perp is not None, position.coin
            mark = self.tape(perp.name).last_price()
            item = position.wire(perp, mark)
            items.append(item)
            notional = abs(position.szi) * mark
            value += notional
            margin += float(item["position"]["marginUsed"])  # type: ignore[index]
            maintenance += notional * maintenance_rate(perp) if position.mode == "cross" else 0
        summary = {"accountValue": f"{margin:.6f}", "totalNtlPos": f"{value:.6f}",
                   "totalRawUsd": f"{margin:.6f}", "totalMarginUsed": f"{margin:.6f}"}  # fmt: skip
        return {
            "marginSummary": summary, "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": f"{maintenance:.6f}", "withdrawable": "0.0",
            "assetPositions": items, "time": self.clock(),
        }  # fmt: skip
