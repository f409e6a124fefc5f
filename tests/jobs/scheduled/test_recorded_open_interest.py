"""Refreshes record Hyperliquid's current open interest for the instruments chats watch (it
publishes no OI history); the map follows once two snapshots stand in the window."""

from __future__ import annotations

import pytest

from jobs.on_demand.maps import MapService
from jobs.scheduled.chat_guard import ChatGuard
from jobs.scheduled.refresh import Refresh
from liqmap.market.timeframes import MINUTE_MS
from liqmap.signals.proximity import ALERT_WINDOW
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid

pytestmark = pytest.mark.fixed_clock

ANN = 1001
KEY = "hyperliquid:BTC"


async def test_refreshes_record_open_interest_and_the_map_follows_the_second(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    stores.chats.seen(ANN, "private", None)
    stores.chats.subscribe(ANN, KEY, None)

    async def no_wait(seconds: float) -> None:
        pass

    async with adapter(hyperliquid=hyperliquid.url) as market:
        maps = MapService(market, stores, 300_000, clock)
        refresh = Refresh(market, stores, maps, clock, 300_000, ChatGuard(), no_wait)
        assert (await refresh.run()).computed == 0, "one snapshot is not a map"
        assert stores.snapshots.latest(KEY, ALERT_WINDOW) is None
        clock.advance(30 * MINUTE_MS)
        assert (await refresh.run()).computed == 1
    stored = stores.snapshots.latest(KEY, ALERT_WINDOW)
    assert stored is not None
    assert stored.snapshot.notes == ("built from 0.5 h of recorded open interest (2 snapshots)",)
    assert hyperliquid.info_types().count("metaAndAssetCtxs") >= 2, "one a refresh, at least"
