"""Maps on demand: fresh ones reused, stale ones recomputed once, the last one when down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from jobs.on_demand.maps import MIN_RECOMPUTE_MS, MapService
from liqmap.errors import ExchangeUnavailable
from liqmap.exchanges.market_data import MarketData
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.support.fast import FAST_CCXT, FAST_RETRY

pytestmark = pytest.mark.fixed_clock
FRESH_MS = 300_000
CANDLES = "/api/v5/market/"


@pytest.fixture
async def service(okx: FakeOkx, clock: Clock, stores: Stores) -> AsyncIterator[MapService]:
    async with MarketData(
        urls={"okx": okx.url}, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT
    ) as market:
        yield MapService(market, stores, FRESH_MS, clock)


async def test_a_fresh_map_is_served_from_the_store(
    service: MapService, okx: FakeOkx, clock: Clock
) -> None:
    inst = await service.market.instrument("BTC")
    first = await service.get(inst, "1d")
    assert first.error is None and first.stored.snapshot.label == "BTC-USDT-SWAP"
    okx.reset_log()
    clock.advance(FRESH_MS - 1)
    again = await service.get(inst, "1d")
    assert again.stored.id == first.stored.id
    assert okx.count() == 0
    clock.advance(2)
    newer = await service.get(inst, "1d")
    assert newer.stored.id != first.stored.id
    assert okx.count(CANDLES) >= 1


async def test_concurrent_requests_compute_once(service: MapService, okx: FakeOkx) -> None:
    inst = await service.market.instrument("ETH")
    okx.reset_log()
    answers = await asyncio.gather(*(service.get(inst, "7d") for _ in range(5)))
    assert len({a.stored.id for a in answers}) == 1
    assert okx.count("/api/v5/public/position-tiers") == 1
    assert service.stores.db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1


async def test_refresh_recomputes_unless_seconds_old(
    service: MapService, okx: FakeOkx, clock: Clock
) -> None:
    inst = await service.market.instrument("BTC")
    first = await service.get(inst, "1d")
    clock.advance(MIN_RECOMPUTE_MS - 1)
    assert (await service.get(inst, "1d", refresh=True)).stored.id == first.stored.id
    clock.advance(2)
    assert (await service.get(inst, "1d", refresh=True)).stored.id != first.stored.id


async def test_when_the_exchange_is_down_the_last_map_comes_with_the_error(
    service: MapService, okx: FakeOkx, clock: Clock
) -> None:
    inst = await service.market.instrument("BTC")
    first = await service.get(inst, "1d")
    clock.advance(FRESH_MS + 120_000)
    okx.inject(Fault(503, "down"), CANDLES, times=None)
    answer = await service.get(inst, "1d")
    assert answer.stored.id == first.stored.id
    assert isinstance(answer.error, ExchangeUnavailable)
    assert str(answer.error) == "okx: not reachable"
    other = await service.market.instrument("SOL")
    with pytest.raises(ExchangeUnavailable):
        await service.get(other, "1d")
