"""Recording Hyperliquid's open interest into a database file as a refresh of ``liqmap run``
does, for command-line tests that need a map (Hyperliquid publishes no OI history)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jobs.market_sync import record_open_interest
from liqmap.exchanges.market_data import MarketData
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.support.fast import FAST_CCXT, FAST_RETRY


def record_btc_open_interest(url: str, db_path: Path, clock: Clock) -> int:
    """One refresh's recording of hyperliquid:BTC's current open interest into ``db_path``;
    how many snapshots were stored."""

    async def go() -> int:
        stores = Stores(open_database(db_path), clock)
        try:
            market = MarketData(
                {"hyperliquid": url}, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT
            )
            async with market:
                inst = await market.instrument("hyperliquid:BTC")
                return await record_open_interest(market, stores, [inst])
        finally:
            stores.close()

    return asyncio.run(go())
