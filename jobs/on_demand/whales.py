"""``/whales`` on demand: the stored positions of a coin against its current price.

The price is fetched through the request gate in the asking chat's turn, once for everyone
who asks within ``PRICE_FRESH_MS``, so many chats asking at once cost one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from jobs.on_demand.memo import Memo
from jobs.on_demand.real_layer import PositionsCache
from liqmap.errors import ExchangeUnavailable
from liqmap.exchanges.market_data import MarketData
from liqmap.market.instruments import Instrument
from liqmap.signals.whales import WhaleBoard, whale_board
from storage.stores import Stores

PRICE_FRESH_MS = 10_000
"""A price fetched for ``/whales`` serves every chat asking within this time."""


class WhaleService:
    """The whales board of an instrument whose venue publishes positions."""

    def __init__(self, market: MarketData, stores: Stores, clock: Callable[[], int]) -> None:
        self.market = market
        self.stores = stores
        self.clock = clock
        self._prices: Memo[str, float] = Memo(PRICE_FRESH_MS, clock, keep=256)
        self._positions = PositionsCache()

    async def board(self, inst: Instrument) -> WhaleBoard | None:
        """The board of ``inst``'s coin at the current price; None when nothing is stored."""
        held = await self._positions.get(self.stores, inst, self.clock())
        if held is None:
            return None
        price = await self._prices.get(inst.key, lambda: self._price(inst))
        return await asyncio.to_thread(
            whale_board, inst.native_id, held.known, price, held.open_interest_usd
        )

    async def _price(self, inst: Instrument) -> float:
        found = await self.market.prices([inst])
        if inst.key not in found:
            raise ExchangeUnavailable(inst.exchange, f"no price for {inst.native_id}")
        return found[inst.key].value
