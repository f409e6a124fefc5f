"""Heatmap build and chart times, peak memory, and the per-column rebuild it replaces.

Run: ``python -m benchmarks.heatmap`` from the repository root.
Goals: 7d of 5m candles (2,016 columns, 0.1% bins) <= 100 ms; 30d of 1m candles (43,200
candles) <= 2 s; the chart <= 400 ms.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from benchmarks.map_build import median_ms
from benchmarks.synthetic import market
from liqmap.charts.heatmap_chart import render_heatmap_png
from liqmap.charts.map_chart import ChartLabels
from liqmap.engine.heatmap import Heatmap, build_heatmap
from liqmap.engine.model import ModelParams, build_exposure
from liqmap.engine.series import Candles, OpenInterest

CASES = (("7d", 7 * 1440, 300_000, "5m"), ("30d", 30 * 1440, 60_000, "1m"))
SAMPLED = 40
"""Columns the per-column reference rebuilds for 30d at 1m; the rest is extrapolated."""


def column_map(candles: Candles, oi: OpenInterest, heatmap: Heatmap, column: int) -> np.ndarray:
    """One column the slow way: ``build_exposure`` at its candle, binned on the same edges."""
    last = int(np.searchsorted(candles.ts + candles.step_ms, heatmap.ts[column], side="right"))
    exposure = build_exposure(candles[:last], oi, ModelParams())
    bins = len(heatmap.edges) - 1
    grid = np.zeros(bins)
    for level, usd in ((exposure.long_level, exposure.long_usd),
                       (exposure.short_level, exposure.short_usd)):  # fmt: skip
        where = np.searchsorted(heatmap.edges, level, side="right") - 1
        inside = (where >= 0) & (where < bins)
        grid += np.bincount(where[inside], usd[inside], minlength=bins)
    return grid


def peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    print("heatmap build, median ms (synthetic market, default 48-rung ladder, 0.1% bins)")
    for window, minutes, step_ms, step in CASES:
        candles, oi = market(minutes, step_ms=step_ms, seed=11)
        heatmap = build_heatmap(candles, oi)
        columns, bins = heatmap.long.shape
        every = heatmap.column_ms // step_ms
        build = median_ms(lambda c=candles, o=oi: build_heatmap(c, o), budget_s=5, most=50)
        memory = peak_mib(lambda c=candles, o=oi: build_heatmap(c, o))
        labels = ChartLabels("BTC-USDT-SWAP", "okx", window)
        chart = median_ms(lambda h=heatmap, lab=labels: render_heatmap_png(h, lab), most=10)
        print(
            f"\n{window} at {step}: {len(candles):,} candles -> {columns:,} columns "
            f"(one every {every} candle{'s' if every > 1 else ''}) x {bins} bins"
        )
        print(f"  build {build:,.1f} ms, peak memory {memory:,.1f} MiB; chart {chart:,.0f} ms")

        sample = np.linspace(0, columns - 1, min(columns, SAMPLED)).round().astype(int)
        sample = np.arange(columns) if window == "7d" else sample
        started = time.perf_counter()
        worst = max(
            float(np.abs(column_map(candles, oi, heatmap, c) - heatmap.total[c]).max())
            for c in sample
        )
        spent = (time.perf_counter() - started) * 1000
        reference = spent * columns / len(sample)
        how = "all columns" if len(sample) == columns else (
            f"{len(sample)} columns timed, scaled to {columns:,}; one per candle would be "
            f"{reference * every / 1000:,.0f} s"
        )  # fmt: skip
        print(
            f"  per-column rebuild (build_exposure + binning): {reference:,.0f} ms ({how}) "
            f"= {reference / build:,.0f}x; largest difference ${worst:.2g} "
            f"of a ${heatmap.total.max():,.0f} peak"
        )


if __name__ == "__main__":
    main()
