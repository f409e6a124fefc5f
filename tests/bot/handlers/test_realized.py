"""Recorded liquidations as users meet them: drawn on /map and /heatmap charts."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from liqmap.charts.heatmap_chart import REALIZED_MARKERS
from liqmap.charts.map_chart import REALIZED_LONG, REALIZED_SHORT
from liqmap.config import Settings
from liqmap.engine.realized import Realized
from storage.liquidations import RealizedStore
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, running, say, words
from tests.support.png import colour_pixels

pytestmark = pytest.mark.fixed_clock

HOUR = 3_600_000


def record_around(db: Database, price: float, now: int) -> None:
    """Half a day watched on OKX BTC, with a few long and short liquidations in it."""
    inst = "BTC-USDT-SWAP"
    rows = [
        Realized("okx", inst, "long", price * (1 - k / 300), 2.0, 2 * price, now - k * HOUR)
        for k in range(1, 5)
    ] + [Realized("okx", inst, "short", price * 1.004, 1.0, price, now - HOUR)]
    RealizedStore(db).record("okx", [inst], rows, (now - 12 * HOUR, now))


async def test_map_and_heatmap_show_the_recorded_liquidations_of_their_window(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(settings, db, clock):
        (bare,) = await say(tg, ANN, "/map BTC 1d")
        assert colour_pixels(bare["photo"], REALIZED_LONG) == 0, "nothing recorded yet"
        record_around(db, okx.tape("BTC-USDT-SWAP").last_price(), clock())
        clock.advance(10 * 60_000)
        (photo,) = await say(tg, ANN, "/map BTC 1d")
        assert colour_pixels(photo["photo"], REALIZED_LONG) > 50
        assert colour_pixels(photo["photo"], REALIZED_SHORT) > 20
        assert "BTC-USDT-SWAP · okx · 1d" in words(photo)

        (heat,) = await say(tg, ANN, "/heatmap BTC 1d")
        colours = {side: colour for side, _, colour in REALIZED_MARKERS}
        assert colour_pixels(heat["photo"], colours["long"]) > 50
