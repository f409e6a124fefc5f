"""An alert's chart is the stored map's: a Hyperliquid map's real layer is drawn on it too, and
none on a map without one."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.scheduled.delivery import Delivery
from liqmap.charts.map_chart import REAL
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLevel, bin_real
from liqmap.engine.snapshot import MapSnapshot
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import Alert
from storage.outbox import enqueue
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.support.png import colour_pixels

pytestmark = pytest.mark.fixed_clock

EDGES = np.linspace(90.0, 110.0, 201)


class Charts:
    """A sender that keeps the chart of each alert it is given."""

    def __init__(self) -> None:
        self.charts: dict[int, bytes | str | None] = {}

    async def send(
        self, chat_id: int, alert: Alert | Digest, chart: bytes | str | None, *topic: object
    ) -> None:
        self.charts[chat_id] = chart


def _snapshot(real: bool) -> MapSnapshot:
    long_by_band = np.zeros((5, 200))
    long_by_band[1, 80:90] = 1e6
    short_by_band = np.zeros((5, 200))
    short_by_band[2, 120:125] = 8e5
    liq_map = LiquidationMap(100.0, 0, EDGES, long_by_band, short_by_band)
    levels = [
        *(RealLevel("long", 97.55 + k / 10, 2e5, 0) for k in range(10)),
        *(RealLevel("short", 101.55 + k / 10, 3e5, 0) for k in range(5)),
    ]
    layer = bin_real(EDGES, levels, 0.05) if real else None
    return MapSnapshot("BTC", "hyperliquid", "7d", "5m", liq_map, [], real=layer)


async def test_the_alert_chart_draws_the_real_layer_of_its_map(
    stores: Stores, clock: Clock
) -> None:
    alert = Alert("approach", "hyperliquid:BTC", "BTC", "hyperliquid", "long", 97.0, 97.5,
                  1e7, 3.0, 100.0, None, 2.5, False, "7d")  # fmt: skip
    for chat, real in ((1, True), (2, False)):
        stores.chats.seen(chat, "private", None)
        stored = stores.snapshots.save("hyperliquid:BTC", _snapshot(real), clock())
        with stores.db.atomic():
            enqueue(stores.db, chat, "hyperliquid:BTC", alert, stored.id, clock(), 60_000)
    sender = Charts()
    report = await Delivery(stores, sender, clock).run()
    assert report.sent == 2
    with_real, without = sender.charts[1], sender.charts[2]
    assert isinstance(with_real, bytes) and isinstance(without, bytes)
    # the alert chart is 800 px wide: its outline is under 2 px, so near shades count too
    assert colour_pixels(with_real, REAL, tolerance=0.1) > 1000, "more than its legend line"
    assert colour_pixels(without, REAL, tolerance=0.1) == 0
