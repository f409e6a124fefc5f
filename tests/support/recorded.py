"""A recorder's month from the hourly file in data/: its candles and open interest in the
market cache, its liquidations as recorded events with the spans watched."""

from __future__ import annotations

from sqlite_utils import Database

from liqmap.engine.ranges import Range
from liqmap.engine.realized import Realized
from liqmap.engine.series import OpenInterest
from liqmap.exchanges.csv_source import CsvHistory
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import DAY_MS, HOUR_MS
from storage.liquidations import RealizedStore
from storage.market_cache import MarketCache
from tests.support.data import hourly

FIRST, HOURS = 1200, 400
"""The slice of the hourly file the tests record: 400 hours from its 1,200th."""
MONTH = 30 * DAY_MS
MARKET_PATHS = (
    "/api/v5/market/candles", "/api/v5/market/history-candles",
    "/api/v5/rubik/stat/contracts/open-interest-history", "/fapi/v1/klines",
    "/futures/data/openInterestHist", "/v5/market/kline", "/v5/market/open-interest",
)  # fmt: skip
"""Where the fake exchanges serve candles and open interest."""


def hourly_slice() -> CsvHistory:
    """``HOURS`` hours of the file: its candles, open interest and liquidations."""
    return hourly(FIRST, HOURS)


def hour(history: CsvHistory, index: int) -> int:
    """When candle ``index`` opens."""
    return int(history.candles.ts[index])


def end_of(history: CsvHistory) -> int:
    return hour(history, -1) + HOUR_MS


def cache_market(db: Database, inst: Instrument, history: CsvHistory, share: float = 1.0) -> None:
    """The file's candles and ``share`` of its open interest in the cache as fetched hourly
    over the 30 days before its end (the exchange had nothing earlier)."""
    end = end_of(history)
    oi = history.open_interest
    keep = oi.ts < end
    cache = MarketCache(db)
    cache.store_candles(inst, "1h", history.candles, (end - MONTH, end))
    scaled = OpenInterest(HOUR_MS, oi.ts[keep], oi.usd[keep] * share)
    cache.store_open_interest(inst, "1h", scaled, (end - MONTH, end))


def record(
    db: Database, inst: Instrument, history: CsvHistory, span: Range, share: float = 1.0
) -> None:
    """What the recorder would have stored watching ``inst`` over ``span``: each hour's
    liquidations of the file (``share`` of them) as one event per side, inside the span."""
    rows = []
    for i, ts in enumerate(history.candles.ts.tolist()):
        at = ts + 20 * 60_000
        if not span[0] <= at < span[1]:
            continue
        price = float(history.candles.close[i])
        for side, usd in (("long", history.liquidations.long_usd[i]),
                          ("short", history.liquidations.short_usd[i])):  # fmt: skip
            if usd > 0:
                amount = usd * share / price
                rows.append(Realized(inst.exchange, inst.native_id, side, price, amount,
                                     usd * share, at))  # fmt: skip
    RealizedStore(db).record(inst.exchange, [inst.native_id], rows, span)
