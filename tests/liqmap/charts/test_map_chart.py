"""The chart is produced and sane: a PNG of the right size, small enough for Telegram."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import market
from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.engine.clusters import find_clusters
from liqmap.engine.model import LiquidationMap, build_map
from tests.support.clusters import cluster
from tests.support.maps import hand_map
from tests.support.png import colour_pixels, png_size

LABELS = ChartLabels("BTC-USDT-SWAP", "okx", "7d")


def test_a_map_with_clusters_renders_a_phone_sized_png() -> None:
    candles, oi = market(minutes=7 * 288, step_ms=300_000, seed=3)
    liq_map = build_map(candles, oi)
    clusters = find_clusters(liq_map)
    assert clusters, "the synthetic market has clusters to draw"
    png = render_png(liq_map, clusters, LABELS)
    assert png_size(png) == (1280, 720)
    assert 20_000 < len(png) < 300_000


def test_the_chart_is_not_blank() -> None:
    candles, oi = market(minutes=2000, seed=5)
    liq_map = build_map(candles, oi)
    png = render_png(liq_map, find_clusters(liq_map), LABELS)
    blank = render_png(
        LiquidationMap(liq_map.price, liq_map.as_of_ms, liq_map.edges,
                       np.zeros_like(liq_map.long_by_band), np.zeros_like(liq_map.short_by_band)),
        [], LABELS,
    )  # fmt: skip
    assert len(png) > 2 * len(blank), "bars, curves and labels add detail"


@pytest.mark.parametrize("price", [0.000123, 1.5, 250_000.0])
def test_any_price_scale_renders(price: float) -> None:
    candles, oi = market(minutes=1500, seed=9, price=price)
    liq_map = build_map(candles, oi)
    png = render_png(liq_map, find_clusters(liq_map), ChartLabels("PEPE", "bybit", "1d"))
    assert png_size(png) == (1280, 720)


def test_an_empty_map_still_renders_with_a_note() -> None:
    empty = LiquidationMap(0.0, 0, np.zeros(1), np.zeros((5, 0)), np.zeros((5, 0)))
    png = render_png(empty, [], LABELS)
    assert png_size(png) == (1280, 720)


def test_recorded_liquidations_are_drawn_by_side_under_the_map() -> None:
    from liqmap.charts.map_chart import REALIZED_LONG, REALIZED_SHORT
    from liqmap.engine.realized import Realized, RealizedView

    candles, oi = market(minutes=7 * 288, step_ms=300_000, seed=3)
    liq_map = build_map(candles, oi)
    labels = ChartLabels("BTC-USDT-SWAP", "okx", "7d")
    end = int(candles.ts[-1])
    longs = tuple(
        Realized("okx", "BTC-USDT-SWAP", "long", liq_map.price * (1 - k / 200), 1.0, 5e5, end)
        for k in range(1, 4)
    )
    short = Realized("okx", "BTC-USDT-SWAP", "short", liq_map.price * 1.01, 2.0, 9e5, end)
    plain = render_png(liq_map, [], labels)
    only_longs = render_png(liq_map, [], labels, realized=RealizedView(longs, 0, end, 1.0, ()))
    both = render_png(
        liq_map, [], labels, realized=RealizedView((*longs, short), 0, end, 0.5, ("binance",))
    )
    assert png_size(both) == (1280, 720)
    assert colour_pixels(plain, REALIZED_LONG) == colour_pixels(plain, REALIZED_SHORT) == 0
    assert colour_pixels(only_longs, REALIZED_LONG) > 50
    assert colour_pixels(only_longs, REALIZED_SHORT) == 0
    assert colour_pixels(both, REALIZED_SHORT) > 50


def test_two_clusters_a_side_list_two_dollar_amounts_without_mathtext() -> None:
    """Issue 16: two ``$`` in one footer line were read as mathtext and the chart crashed."""
    liq_map = hand_map({230: 4e5, 231: 4e5, 200: 9e5, 201: 9e5}, {270: 5e5, 271: 5e5})
    clusters = [
        cluster("long", 98.0, 98.2, 8e5, 1.8),
        cluster("long", 95.0, 95.2, 1.8e6, 4.8),
        cluster("short", 102.0, 102.2, 1e6, 2.0),
    ]
    png = render_png(liq_map, clusters, ChartLabels("$BTC$ ^_\\", "$x$", "7d", (("a$b$", 1.0),)))
    assert png_size(png) == (1280, 720)
