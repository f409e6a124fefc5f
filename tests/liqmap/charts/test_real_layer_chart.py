"""The real layer on the map chart: a violet outline where the real positions liquidate, on its
own scale with a legend line saying what its tallest bin holds; nothing violet on a map
without one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from benchmarks.synthetic import market
from liqmap.charts.canvas import to_png
from liqmap.charts.map_chart import (
    LONG_SHADES,
    PANEL,
    REAL,
    REALIZED_LONG,
    REALIZED_SHORT,
    SHORT_SHADES,
    ChartLabels,
    draw_map,
    render_png,
)
from liqmap.engine.clusters import Cluster, find_clusters
from liqmap.engine.model import LiquidationMap, build_map
from liqmap.engine.real_layer import RealLayer, RealLevel, bin_real
from liqmap.formats import usd as usd_text
from tests.liqmap.charts.test_chart_properties import assert_png, clustered_maps
from tests.support.colours import distance
from tests.support.png import colour_pixels

LABELS = ChartLabels("BTC", "hyperliquid", "7d")
OFFSETS = (-0.021, 0.016)
"""Where the real positions liquidate, as fractions of price: one long, one short."""


def _week() -> LiquidationMap:
    candles, oi = market(minutes=7 * 288, step_ms=300_000, seed=3)
    return build_map(candles, oi)


def _real(liq_map: LiquidationMap, usd: float) -> RealLayer:
    price = liq_map.price
    levels = [
        RealLevel("long", price * (1 + OFFSETS[0]), usd, 0),
        RealLevel("short", price * (1 + OFFSETS[1]), usd / 2, 0),
    ]
    return bin_real(liq_map.edges, levels, 0.05)


def _violet_columns(liq_map: LiquidationMap, real: RealLayer | None) -> tuple[np.ndarray, object]:
    """Per pixel column of the chart, how many pixels are the real layer's violet; and the
    figure's main axes."""
    figure = draw_map(liq_map, find_clusters(liq_map), LABELS, real=real)
    axes = figure.axes[0]
    rgb = imread(io.BytesIO(to_png(figure)))[..., :3]
    violet = np.abs(rgb - np.array(to_rgb(REAL))).max(axis=-1) < 0.02
    plot = axes.get_window_extent()
    height = rgb.shape[0]
    inside = violet[int(height - plot.y1) + 1 : int(height - plot.y0) - 1]
    return inside.sum(axis=0), axes


def _column(axes: object, price: float) -> int:
    return round(float(axes.transData.transform((price, 0.0))[0]))  # type: ignore[attr-defined]


def test_the_real_layer_is_drawn_where_real_positions_liquidate_and_nowhere_else() -> None:
    liq_map = _week()
    real = _real(liq_map, 4e6)
    columns, axes = _violet_columns(liq_map, real)
    at = [_column(axes, liq_map.price * (1 + offset)) for offset in OFFSETS]
    for column in at:
        assert columns[column - 4 : column + 5].sum() > 40, "a bar where the position is"
    elsewhere = np.ones(len(columns), dtype=bool)
    for column in at:
        elsewhere[column - 6 : column + 7] = False
    assert columns[elsewhere].sum() == 0, "no line along zero, nothing where nobody is"
    near = _column(axes, liq_map.price * (1 + OFFSETS[0] / 2))
    assert columns[near] == 0


def test_a_map_without_a_real_layer_has_no_violet() -> None:
    liq_map = _week()
    plain = render_png(liq_map, find_clusters(liq_map), LABELS)
    assert colour_pixels(plain, REAL) == 0
    figure = draw_map(liq_map, [], LABELS)
    assert not [t for t in figure.axes[0].texts if "real positions" in t.get_text()]


@pytest.mark.parametrize("usd", [3.0, 4e6, 9e13])
def test_tiny_or_huge_real_usd_is_drawn_at_the_same_height_with_its_top_bin_in_the_legend(
    usd: float,
) -> None:
    liq_map = _week()
    columns, _ = _violet_columns(liq_map, _real(liq_map, usd))
    reference, _ = _violet_columns(liq_map, _real(liq_map, 4e6))
    assert columns.sum() == pytest.approx(reference.sum(), rel=0.02), "own scale"
    figure = draw_map(liq_map, [], LABELS, real=_real(liq_map, usd))
    (legend,) = [t for t in figure.axes[0].texts if "real positions" in t.get_text()]
    assert legend.get_text() == f"▮ real positions (own scale, top bin {usd_text(usd)})"


def test_a_real_layer_with_nothing_in_view_says_so_and_draws_nothing() -> None:
    liq_map = _week()
    far = bin_real(liq_map.edges, [RealLevel("long", liq_map.price * 0.5, 1e6, 0)], None)
    figure = draw_map(liq_map, [], LABELS, real=far)
    (legend,) = [t for t in figure.axes[0].texts if "real positions" in t.get_text()]
    assert legend.get_text() == "▮ real positions (none in this range)"
    assert colour_pixels(to_png(figure), REAL) < 400, "the legend line only"


def test_the_real_legend_keeps_off_the_leverage_legend() -> None:
    liq_map = _week()
    figure = draw_map(liq_map, find_clusters(liq_map), LABELS, real=_real(liq_map, 9e13))
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    axes = figure.axes[0]
    (legend,) = [t for t in axes.texts if "real positions" in t.get_text()]
    leverage = axes.get_legend().get_window_extent(renderer)
    assert not legend.get_window_extent(renderer).overlaps(leverage)


def test_the_real_colour_reads_apart_from_everything_else_drawn() -> None:
    others = [*LONG_SHADES, *SHORT_SHADES, PANEL, REALIZED_LONG, REALIZED_SHORT,
              "#7ee787", "#ff7b72", "#3fb950", "#f85149", "#f0f6fc"]  # fmt: skip
    assert min(distance(REAL, other) for other in others) >= 25


def test_an_empty_estimate_with_real_positions_draws_them_alone_without_usd_ticks() -> None:
    liq_map = _week()
    empty = LiquidationMap(liq_map.price, liq_map.as_of_ms, liq_map.edges,
                           np.zeros_like(liq_map.long_by_band),
                           np.zeros_like(liq_map.short_by_band))  # fmt: skip
    columns, axes = _violet_columns(empty, _real(liq_map, 4e6))
    for offset in OFFSETS:
        column = _column(axes, liq_map.price * (1 + offset))
        assert columns[column - 4 : column + 5].sum() > 40
    figure = draw_map(empty, [], LABELS, real=_real(liq_map, 4e6))
    notes = {t.get_text() for t in figure.axes[0].texts}
    assert "no open-interest build-up in this window: real positions only" in notes
    assert len(figure.axes[0].get_yticks()) == len(figure.axes[1].get_yticks()) == 0
    nothing = draw_map(empty, [], LABELS, real=bin_real(liq_map.edges, [], None))
    assert "no open-interest build-up in this window: nothing to map" in {
        t.get_text() for t in nothing.axes[0].texts
    }


LEVELS = st.lists(
    st.builds(
        RealLevel,
        st.sampled_from(["long", "short"]),
        st.floats(0.0, 400.0),
        st.floats(1e-6, 1e15),
        st.integers(0, 2**41),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=15, deadline=None)
@given(clustered_maps(), LEVELS, st.one_of(st.none(), st.floats(0, 50)), st.booleans())
def test_any_real_layer_renders_on_any_map(
    drawn: tuple[LiquidationMap, list[Cluster]],
    levels: list[RealLevel],
    coverage: float | None,
    empty: bool,
) -> None:
    liq_map, clusters = drawn
    if empty:
        zeros = np.zeros_like(liq_map.long_by_band)
        liq_map = LiquidationMap(liq_map.price, liq_map.as_of_ms, liq_map.edges, zeros, zeros)
        clusters = []
    real = bin_real(liq_map.edges, levels, coverage)
    assert_png(render_png(liq_map, clusters, LABELS, real=real))
    assert_png(render_png(liq_map, clusters, LABELS, width_px=800, real=real), 800)
