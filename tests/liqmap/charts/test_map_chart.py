"""The chart is produced and sane: a PNG of the right size, small enough for Telegram."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from benchmarks.synthetic import market
from liqmap.charts.map_chart import (
    CLUSTER_NOTE,
    LONG_SHADES,
    PANEL,
    SHORT_SHADES,
    ChartLabels,
    draw_map,
    render_png,
)
from liqmap.engine.clusters import Cluster, find_clusters
from liqmap.engine.model import LiquidationMap, build_map
from liqmap.engine.realized import Realized, RealizedView
from tests.support.clusters import cluster
from tests.support.colours import distance
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


def test_the_leverage_shades_of_each_side_read_apart() -> None:
    for shades in (LONG_SHADES, SHORT_SHADES):
        assert min(distance(a, b) for a, b in itertools.combinations(shades, 2)) >= 25
        assert min(distance(shade, PANEL) for shade in shades) >= 25, "seen on the panel"


def _week() -> tuple[LiquidationMap, list[Cluster]]:
    candles, oi = market(minutes=7 * 288, step_ms=300_000, seed=3)
    liq_map = build_map(candles, oi)
    return liq_map, find_clusters(liq_map)


def test_the_legend_shows_both_sides_of_every_band() -> None:
    liq_map, clusters = _week()
    legend = draw_map(liq_map, clusters, LABELS).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(liq_map.bands)
    drawn = {to_hex(patch.get_facecolor()) for patch in legend.findobj(Rectangle)}
    assert drawn >= {*LONG_SHADES, *SHORT_SHADES}


@pytest.mark.parametrize(("minutes", "step_ms"), [(1440, 60_000), (30 * 96, 900_000)])
def test_the_legend_keeps_off_the_cumulative_curves(minutes: int, step_ms: int) -> None:
    candles, oi = market(minutes=minutes, step_ms=step_ms, seed=7)
    liq_map = build_map(candles, oi)
    figure = draw_map(liq_map, find_clusters(liq_map), LABELS)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = figure.axes[0].get_legend().get_window_extent(renderer)
    curves = [line.get_window_extent(renderer) for line in figure.axes[1].get_lines()]
    assert curves and not any(legend.overlaps(curve) for curve in curves)


def _with_realized() -> tuple[LiquidationMap, RealizedView]:
    candles, oi = market(minutes=7 * 288, step_ms=300_000, seed=3)
    liq_map = build_map(candles, oi)
    end = int(candles.ts[-1])
    rows = tuple(
        Realized("okx", "X", side, liq_map.price * (1 + sign * k / 600), 1.0, 1e5 * k, end)
        for k in range(1, 120)
        for side, sign in (("long", -1), ("short", 1))
    )
    return liq_map, RealizedView(rows, 0, end, 0.93, ("binance",))


def test_the_price_label_and_the_realized_caption_stand_apart() -> None:
    liq_map, realized = _with_realized()
    figure = draw_map(liq_map, [], LABELS, realized=realized)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    (caption,) = [t for t in figure.texts if t.get_text().startswith("realized liquidations")]
    label = figure.axes[-1].xaxis.label
    assert label.get_text() == "price"
    assert not label.get_window_extent(renderer).overlaps(caption.get_window_extent(renderer))


def test_realized_markers_stand_apart() -> None:
    liq_map, realized = _with_realized()
    figure = draw_map(liq_map, [], LABELS, realized=realized)
    for scatter in figure.axes[-1].collections:
        x = scatter.get_offset_transform().transform(scatter.get_offsets())[:, 0]
        widest = np.sqrt(scatter.get_sizes().max()) * figure.dpi / 72
        assert len(x) > 5 and np.diff(np.sort(x)).min() > widest


def test_cluster_tags_say_how_far_they_are_and_the_chart_says_what_ranks_them() -> None:
    liq_map = hand_map({230: 4e5, 231: 4e5, 200: 9e5, 201: 9e5}, {270: 5e5, 271: 5e5})
    clusters = [cluster("long", 98.0, 98.2, 8e5, 1.8), cluster("long", 95.0, 95.2, 1.8e6, 4.8),
                cluster("short", 102.0, 102.2, 1e6, 2.0)]  # fmt: skip
    figure = draw_map(liq_map, clusters, LABELS)
    tags = {t.get_text() for t in figure.axes[0].texts}
    assert {"L1 +1.8%", "L2 +4.8%", "S1 +2.0%"} <= tags
    assert CLUSTER_NOTE in {t.get_text() for t in figure.texts}


def test_usd_axes_read_without_a_zero_decimal() -> None:
    liq_map, clusters = _week()
    figure = draw_map(liq_map, clusters, LABELS)
    figure.canvas.draw()
    ticks = [t.get_text() for a in figure.axes for t in a.get_yticklabels()]
    assert any(t.startswith("$") for t in ticks)
    assert not any(".0K" in t or ".0M" in t for t in ticks)
