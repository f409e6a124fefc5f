"""A Hyperliquid map carries the real layer of the positions the scanner stored, with their
coverage of the open interest recorded; a venue that hides positions carries none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from jobs.market_sync import record_open_interest
from jobs.on_demand.maps import compute_map
from jobs.on_demand.real_layer import PositionsCache, real_layer_for, stored_positions
from liqmap.engine.model import LiquidationMap
from liqmap.market.positions import AccountRead
from liqmap.market.timeframes import MINUTE_MS
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid

pytestmark = pytest.mark.fixed_clock


async def test_the_map_carries_the_stored_positions_binned_with_their_coverage(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    addresses = hyperliquid.open_accounts(40)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        btc = await market.instrument("hyperliquid:BTC")
        for _ in range(2):
            clock.advance(30 * MINUTE_MS)
            await record_open_interest(market, stores, [btc])
            open_interest = hyperliquid.tape("BTC").open_interest_now()
        pass_id = stores.positions.begin_pass(clock())
        reads: list[AccountRead] = [await market.account(a) for a in addresses]
        for read in reads:
            stores.positions.save(read, pass_id)
        snapshot = await compute_map(market, stores, btc, "1d")
    real = snapshot.real
    assert real is not None
    held = [p for r in reads for p in r.positions if p.coin == "BTC"]
    at_risk = [
        p for p in held
        if p.liquidation is not None and real.edges[0] <= p.liquidation < real.edges[-1]
    ]  # fmt: skip
    assert at_risk and real.positions == len(at_risk)
    assert real.long_usd.sum() == pytest.approx(sum(p.value for p in at_risk if p.side == "long"))
    assert real.short_usd.sum() == pytest.approx(sum(p.value for p in at_risk if p.side == "short"))
    assert real.coverage == pytest.approx(sum(p.value for p in held) / open_interest, rel=1e-3)
    assert real.stale == 0 and real.read_ms == clock()


async def test_venues_that_hide_positions_and_unscanned_coins_carry_no_real_layer(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores
) -> None:
    async with adapter(hyperliquid=hyperliquid.url) as market:
        btc = await market.instrument("hyperliquid:BTC")
    okx = replace(btc, exchange="okx")
    some_map = _empty_map()
    assert await real_layer_for(stores, okx, some_map) is None
    assert await real_layer_for(stores, btc, some_map) is None, "nothing scanned yet"


def _empty_map() -> LiquidationMap:
    empty = np.zeros((5, 10))
    return LiquidationMap(100.0, 1, np.linspace(95.0, 105.0, 11), empty, empty)


async def test_the_cache_reads_the_positions_again_only_once_they_changed(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    addresses = hyperliquid.open_accounts(12)
    cache = PositionsCache()
    async with adapter(hyperliquid=hyperliquid.url) as market:
        btc = await market.instrument("hyperliquid:BTC")
        okx = replace(btc, exchange="okx")
        assert await cache.get(stores, btc, clock()) is None, "nothing scanned yet"
        first = stores.positions.begin_pass(clock())
        for address in addresses:
            stores.positions.save(await market.account(address), first)
        held = await cache.get(stores, btc, clock())
        assert held is not None and held == await stored_positions(stores, btc, clock())
        again = await cache.get(stores, btc, clock())
        assert again is not None and again.known is held.known, "unchanged: not read again"
        clock.advance(MINUTE_MS)
        second = stores.positions.begin_pass(clock())
        running = await cache.get(stores, btc, clock())
        assert running is not None and running.known is held.known, "a pass under way"
        stores.positions.finish_pass(second, clock(), accounts=0, skipped=0, failed=0, weight=0)
        stale = await cache.get(stores, btc, clock())
        assert stale is not None and all(k.stale for k in stale.known), "a pass missed them"
        assert await cache.get(stores, okx, clock()) is None
