"""``/stop`` as users meet it: a chart with the stop marked, or a short usage answer."""

from __future__ import annotations

import re

import pytest
from sqlite_utils import Database

from liqmap.config import Settings
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, running, say, words
from tests.support.png import png_size

pytestmark = pytest.mark.fixed_clock


def number(text: str) -> float:
    return float(text.replace(",", ""))


async def test_a_stop_inside_a_cluster_gets_a_chart_and_a_level_beyond_it(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(settings, db, clock):
        (chart,) = await say(tg, ANN, "/map BTC")
        caption = words(chart)
        price = number(re.search(r"Price ([\d,.]+)", caption)[1])
        low, high = re.search(r"Long liquidations: ([\d,.]+)–([\d,.]+)", caption).groups()
        stop = round((number(low) + number(high)) / 2)

        (photo,) = await say(tg, ANN, f"/stop btc LONG {stop:,}")
        assert photo["method"] == "sendPhoto"
        assert png_size(photo["photo"]) == (1280, 720)
        text = words(photo)
        assert text.startswith("BTC-USDT-SWAP · okx · 7d map")
        assert f"Long stop {stop:,}" in text and f"price {price:,.0f}" in text
        assert f"Inside a dense cluster of long liquidations: {low}–{high}" in text
        suggested = re.search(r"Consider ([\d,.]+) \((-[\d.]+)%\), just beyond it", text)
        assert number(suggested[1]) < number(low)
        assert re.search(r"~\$[\d.]+[KMB]? of liquidations from price to there, \$[\d.]+[KMB]? "
                         r"of them past your stop", text)  # fmt: skip

        (clear,) = await say(tg, ANN, f"/stop BTC long {price * 0.999:.0f}")
        assert clear["method"] == "sendPhoto"
        assert "✅ Clear of the dense clusters of long liquidations" in words(clear)


async def test_bad_stops_get_a_short_usage_answer(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with running(settings, db, clock):
        for bad in ("/stop", "/stop BTC long", "/stop BTC sideways 60000", "/stop BTC long abc",
                    "/stop BTC long nan", "/stop BTC long -5", "/stop BTC long 1e999"):  # fmt: skip
            (usage,) = await say(tg, ANN, bad)
            assert (
                words(usage) == "Usage: /stop SYMBOL long|short PRICE — e.g. /stop BTC long 61500"
            )
        (chart,) = await say(tg, ANN, "/map BTC")
        price = number(re.search(r"Price ([\d,.]+)", words(chart))[1])
        (above,) = await say(tg, ANN, f"/stop BTC long {price * 1.01:.0f}")
        assert words(above).startswith(f"A long's stop goes below the price ({price:,.0f}).")
        assert "Usage: /stop" in words(above)
        (below,) = await say(tg, ANN, f"/stop BTC short {price * 0.99:.0f}")
        assert words(below).startswith("A short's stop goes above the price")
        (far,) = await say(tg, ANN, "/stop BTC long 1")
        assert "farther from the price" in words(far) and "Usage: /stop" in words(far)
