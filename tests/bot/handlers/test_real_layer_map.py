"""``/map hyperliquid:BTC`` with scanned positions: the photo draws the real layer and its
caption gives how many real positions liquidate on the map, their USD, the share of the open
interest scanned, how old the reads are and how many are stale; served again from the store,
the map keeps it. An OKX map has neither."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from jobs.market_sync import record_open_interest
from liqmap.charts.map_chart import REAL
from liqmap.config import Settings
from liqmap.formats import usd
from liqmap.market.timeframes import MINUTE_MS
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, BOB, running, say, words
from tests.support.png import colour_pixels

pytestmark = pytest.mark.fixed_clock


@pytest.fixture
async def on_hyperliquid(
    settings: Settings, hyperliquid: FakeHyperliquid, db: Database, clock: Clock
) -> AsyncIterator[BotDeps]:
    urls = {**settings.exchange_urls, "hyperliquid": hyperliquid.url}
    async with running(replace(settings, exchange_urls=urls), db, clock) as services:
        yield services


async def _scan(deps: BotDeps, addresses: list[str], clock: Clock) -> None:
    """One scan pass over ``addresses``, stored and finished as the scanner does it."""
    stores = deps.stores
    pass_id = await stores.run(stores.positions.begin_pass, clock())
    for address in addresses:
        read = await deps.market.account(address)
        await stores.run(stores.positions.save, read, pass_id)
    await stores.run(stores.positions.finish_pass, pass_id, clock(), len(addresses), 0, 0, 0.0)


async def test_the_hyperliquid_map_draws_the_real_layer_and_its_caption_gives_coverage_and_age(
    tg: FakeTelegram, on_hyperliquid: BotDeps, hyperliquid: FakeHyperliquid, clock: Clock
) -> None:
    deps = on_hyperliquid
    addresses = hyperliquid.open_accounts(50)
    btc = await deps.market.instrument("hyperliquid:BTC")
    for _ in range(2):
        clock.advance(30 * MINUTE_MS)
        await record_open_interest(deps.market, deps.stores, [btc])
    open_interest = hyperliquid.tape("BTC").open_interest_now()
    await _scan(deps, addresses, clock)
    clock.advance(MINUTE_MS)
    await _scan(deps, addresses[:25], clock)
    clock.advance(3 * MINUTE_MS)

    (photo,) = await say(tg, ANN, "/map hyperliquid:BTC 1d")
    assert photo["method"] == "sendPhoto"
    stored = await deps.stores.run(deps.stores.snapshots.latest, "hyperliquid:BTC", "1d")
    assert stored is not None
    edges = stored.snapshot.liq_map.edges
    known = await deps.stores.run(deps.stores.positions.positions, "BTC")
    inside = [
        k for k in known
        if k.position.liquidation is not None and edges[0] <= k.position.liquidation < edges[-1]
    ]  # fmt: skip
    stale = sum(1 for k in inside if k.stale)
    assert inside and 0 < stale < len(inside)
    coverage = sum(k.position.value for k in known) / open_interest
    total = sum(k.position.value for k in inside)
    lines = words(photo).splitlines()
    assert (
        f"🟣 Real: {len(inside)} positions liquidate on this map, {usd(total)}; "
        f"scanned {coverage:.1%} of open interest"
    ) in lines
    assert (
        f"Real positions read 4 min ago at the oldest, {stale} stale (not in the latest scan pass)"
    ) in lines
    assert any(line.startswith("🟣 Densest real: longs ") for line in lines)
    assert colour_pixels(photo["photo"], REAL) > 100, "the chart draws the real layer"

    clock.advance(MINUTE_MS)
    (again,) = await say(tg, BOB, "/map hyperliquid:BTC 1d")
    assert deps.maps.computed == 1, "served from the store"
    last = tg.calls_of("sendPhoto")[-1]
    assert not last["files"] and last["params"]["photo"] == photo["file_id"]
    real_again = [line for line in words(again).splitlines() if "Real" in line]
    assert real_again == [
        line.replace("4 min ago", "5 min ago") for line in lines if "Real" in line
    ]


async def test_an_okx_map_has_no_real_layer_drawn_or_written(
    tg: FakeTelegram, on_hyperliquid: BotDeps
) -> None:
    (photo,) = await say(tg, ANN, "/map BTC 1d")
    assert photo["method"] == "sendPhoto"
    assert "🟣" not in words(photo) and "Real" not in words(photo)
    assert colour_pixels(photo["photo"], REAL) == 0
