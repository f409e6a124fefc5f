"""The heatmap chart is produced and sane: a 1280x720 PNG with detail, at any price scale."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import market
from liqmap.charts.heatmap_chart import draw_heatmap, render_heatmap_png
from liqmap.charts.map_chart import ChartLabels
from liqmap.engine.heatmap import Heatmap, build_heatmap
from liqmap.engine.realized import Realized, RealizedView
from tests.support.png import png_size

LABELS = ChartLabels("BTC-USDT-SWAP", "okx", "7d")


def test_a_week_of_five_minute_candles_renders_a_phone_sized_png() -> None:
    candles, oi = market(minutes=7 * 1440, step_ms=300_000, seed=3)
    png = render_heatmap_png(build_heatmap(candles, oi), LABELS)
    assert png_size(png) == (1280, 720)
    assert 100_000 < len(png) < 2_000_000


def test_the_heatmap_is_not_blank() -> None:
    candles, oi = market(minutes=1440, seed=5)
    heatmap = build_heatmap(candles, oi)
    blank = Heatmap(heatmap.ts, heatmap.column_ms, heatmap.edges, np.zeros_like(heatmap.long),
                    np.zeros_like(heatmap.short), heatmap.close, heatmap.high, heatmap.low,
                    heatmap.as_of_ms)  # fmt: skip
    assert len(render_heatmap_png(heatmap, LABELS)) > 5 * len(render_heatmap_png(blank, LABELS))


@pytest.mark.parametrize("price", [0.000123, 1.5, 250_000.0])
def test_any_price_scale_renders(price: float) -> None:
    candles, oi = market(minutes=1500, seed=9, price=price)
    png = render_heatmap_png(build_heatmap(candles, oi), ChartLabels("PEPE", "bybit", "1d"))
    assert png_size(png) == (1280, 720)


def test_a_single_column_and_a_wider_png_render() -> None:
    candles, oi = market(minutes=600, seed=2)
    png = render_heatmap_png(build_heatmap(candles, oi, columns=1), LABELS, width_px=1920)
    assert png_size(png) == (1920, 1080)


def test_an_empty_heatmap_still_renders_with_a_note() -> None:
    empty = Heatmap(np.zeros(0, np.int64), 60_000, np.zeros(1), np.zeros((0, 0)),
                    np.zeros((0, 0)), np.zeros(0), np.zeros(0), np.zeros(0), 0)  # fmt: skip
    assert png_size(render_heatmap_png(empty, LABELS)) == (1280, 720)


def test_recorded_liquidations_are_marked_where_and_when_they_happened() -> None:
    from liqmap.charts.heatmap_chart import REALIZED_MARKERS
    from liqmap.engine.realized import Realized, RealizedView
    from tests.support.png import colour_pixels

    candles, oi = market(minutes=1440, seed=5)
    heatmap = build_heatmap(candles, oi)
    colours = {side: colour for side, _, colour in REALIZED_MARKERS}
    when = int(heatmap.ts[len(heatmap.ts) // 2])
    price = float(np.nanmedian(heatmap.close))
    longs = tuple(
        Realized("okx", "X", "long", price * (1 - k / 500), 1.0, 1e6 * k, when - 60_000 * k)
        for k in range(1, 6)
    )
    outside = Realized("okx", "X", "short", price, 1.0, 1e6, int(heatmap.ts[-1]) + 86_400_000)
    plain = render_heatmap_png(heatmap, LABELS)
    marked = render_heatmap_png(
        heatmap, LABELS, realized=RealizedView((*longs, outside), 0, when, 1.0, ())
    )
    assert colour_pixels(plain, colours["long"]) < 5
    assert colour_pixels(marked, colours["long"]) > colour_pixels(plain, colours["long"]) + 50
    assert colour_pixels(marked, colours["short"]) == colour_pixels(plain, colours["short"]), (
        "an event after the last column is not drawn"
    )


def test_labels_with_dollars_and_tex_specials_are_drawn_as_written() -> None:
    candles, oi = market(minutes=600, seed=2)
    labels = ChartLabels("$BTC^$", "x", "1d", (("a$}$", 0.5), ("c_d^", 0.5)))
    assert png_size(render_heatmap_png(build_heatmap(candles, oi), labels)) == (1280, 720)


def _day_with_realized() -> tuple[Heatmap, RealizedView]:
    candles, oi = market(minutes=1440, seed=5)
    heatmap = build_heatmap(candles, oi)
    rows = tuple(
        Realized("okx", "X", side, float(candles.close[i]) * (1 + sign / 400), 1.0, 1e5, ts)
        for i, ts in enumerate(candles.ts.tolist())
        for side, sign in (("long", -1), ("short", 1))
    )
    return heatmap, RealizedView(rows, 0, int(heatmap.as_of_ms), 1.0, ())


def test_the_colour_bar_reads_whole_amounts() -> None:
    candles, oi = market(minutes=1440, seed=5)
    figure = draw_heatmap(build_heatmap(candles, oi), LABELS)
    figure.canvas.draw()
    ticks = [t.get_text() for t in figure.axes[-1].get_yticklabels()]
    assert any(t.startswith("$") for t in ticks)
    assert not any(".0K" in t or ".0M" in t for t in ticks), ticks


def test_the_time_label_and_the_realized_caption_stand_apart() -> None:
    heatmap, realized = _day_with_realized()
    figure = draw_heatmap(heatmap, LABELS, realized=realized)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    (caption,) = [t for t in figure.texts if t.get_text().startswith("realized liquidations")]
    label = figure.axes[0].xaxis.label
    assert label.get_text() == "time (UTC)"
    assert not label.get_window_extent(renderer).overlaps(caption.get_window_extent(renderer))


def test_realized_markers_stand_apart() -> None:
    heatmap, realized = _day_with_realized()
    figure = draw_heatmap(heatmap, LABELS, realized=realized)
    for scatter in figure.axes[0].collections:
        at = scatter.get_offset_transform().transform(scatter.get_offsets())
        widest = np.sqrt(scatter.get_sizes().max()) * figure.dpi / 72
        gaps = np.linalg.norm(at[:, None] - at[None], axis=-1) + np.eye(len(at)) * 1e9
        assert len(at) > 10 and gaps.min() > widest
