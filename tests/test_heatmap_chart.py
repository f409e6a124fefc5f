"""The heatmap chart is produced and sane: a 1280x720 PNG with detail, at any price scale."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import market
from liqmap.chart import ChartLabels
from liqmap.heatmap import Heatmap, build_heatmap
from liqmap.heatmap_chart import render_heatmap_png
from tests.test_chart import png_size

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
