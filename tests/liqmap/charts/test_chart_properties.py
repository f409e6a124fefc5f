"""Every chart renders to a PNG whatever it is given: maps with 0 to 3 clusters a side, labels
with TeX's special characters, and any instant of the files in data/ (issue 16)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.charts.heatmap_chart import render_heatmap_png
from liqmap.charts.map_chart import ChartLabels, Mark, render_png
from liqmap.engine.clusters import LONG, SHORT, Cluster, find_clusters
from liqmap.engine.heatmap import build_aggregate_heatmap, build_heatmap
from liqmap.engine.model import LiquidationMap, ModelParams
from liqmap.engine.snapshot import build_aggregate_snapshot, build_snapshot
from liqmap.market.venue_split import split_history, venue_slices
from tests.support.clusters import cluster
from tests.support.data import hourly
from tests.support.maps import PRICE, hand_map
from tests.support.png import png_size

CHARTS = settings(max_examples=10, deadline=None)
WEEK = 7 * 24
TEXT = st.text(st.sampled_from("$_^\\{}%#&~ aZ9·"), max_size=14)
LABELS = st.builds(
    ChartLabels, TEXT, TEXT, st.sampled_from(["1d", "7d", "30d"]),
    st.lists(st.tuples(TEXT, st.floats(0, 1)), max_size=3).map(tuple),
)  # fmt: skip


def assert_png(png: bytes, width: int = 1280) -> None:
    assert png_size(png) == (width, width * 9 // 16) and len(png) > 1000


@st.composite
def clustered_maps(draw: st.DrawFn) -> tuple[LiquidationMap, list[Cluster]]:
    """A hand map with 0 to 3 bands a side, and their clusters."""
    longs: dict[int, float] = {}
    shorts: dict[int, float] = {}
    clusters = []
    for side, bins, first in ((LONG, longs, 60), (SHORT, shorts, 260)):
        for band in range(draw(st.integers(0, 3))):
            start = first + 60 * band + draw(st.integers(0, 40))
            usd = draw(st.floats(1e3, 1e9))
            bins.update({start: usd, start + 1: usd})
            low, high = 75 + 0.1 * start, 75 + 0.1 * (start + 2)
            distance = abs((high if side == LONG else low) - PRICE)
            clusters.append(cluster(side, low, high, 2 * usd, distance))
    return hand_map(longs, shorts), clusters


@CHARTS
@given(clustered_maps(), LABELS, st.lists(st.tuples(st.floats(80, 120), TEXT), max_size=2))
def test_maps_and_stop_charts_render_any_clusters_and_text(
    drawn: tuple[LiquidationMap, list[Cluster]], labels: ChartLabels, stops: list[tuple[float, str]]
) -> None:
    liq_map, clusters = drawn
    marks: list[Mark] = [(at, text, "#f0b429") for at, text in stops]
    assert_png(render_png(liq_map, clusters, labels))
    assert_png(render_png(liq_map, clusters, labels, width_px=640, marks=marks), 640)


HOURS = st.integers(WEEK, len(hourly().candles) - 1)


@CHARTS
@given(HOURS, st.sampled_from(["1d", "7d"]))
def test_maps_render_at_any_hour_of_the_file(hour: int, window: str) -> None:
    history = hourly(max(0, hour - WEEK), min(hour, WEEK) + 1)
    snapshot = build_snapshot("BTC", "csv", window, "1h", history.candles, history.open_interest,
                              ModelParams())  # fmt: skip
    assert_png(render_png(snapshot.liq_map, snapshot.clusters, ChartLabels.of(snapshot),
                          realized=history.realized(history.candles)))  # fmt: skip


@CHARTS
@given(HOURS)
def test_aggregate_maps_render_at_any_hour_of_the_file(hour: int) -> None:
    history = hourly(hour - WEEK, WEEK)
    parts = split_history(history.candles, history.open_interest, venue_slices())
    snapshot = build_aggregate_snapshot("BTC", "7d", "1h", parts, ())
    assert snapshot.venues
    assert_png(render_png(snapshot.liq_map, find_clusters(snapshot.liq_map),
                          ChartLabels.of(snapshot)))  # fmt: skip


@CHARTS
@given(HOURS, LABELS, st.booleans())
def test_heatmaps_render_at_any_hour_of_the_file(
    hour: int, labels: ChartLabels, by_venue: bool
) -> None:
    history = hourly(hour - WEEK, WEEK)
    candles, oi = history.candles, history.open_interest
    if by_venue:
        heatmap, _ = build_aggregate_heatmap(split_history(candles, oi, venue_slices()),
                                             window_ms=3 * 86_400_000)  # fmt: skip
    else:
        heatmap = build_heatmap(candles, oi, window_ms=3 * 86_400_000)
    assert_png(render_heatmap_png(heatmap, labels, realized=history.realized(candles)))
