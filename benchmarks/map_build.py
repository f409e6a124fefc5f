"""Map build, chart and start-up times, and peak memory; prints the figures.

Run: ``python -m benchmarks.map_build`` from the repository root.
Targets (issue 3): 30 days of 1-minute candles with 5 tiers <= 15 ms; 30 days at 5m
<= 3 ms; a chart <= 250 ms; ``liqmap map --csv`` starts in under 1.5 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from benchmarks.reference_loop import build_map_loop
from benchmarks.synthetic import market
from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.engine.clusters import find_clusters
from liqmap.engine.model import FIVE_TIERS, ModelParams, build_map
from tests.support.data import HOURLY

WINDOW_MINUTES = {"1d": 1440, "7d": 7 * 1440, "30d": 30 * 1440}
STEPS = {"1m": 60_000, "5m": 300_000}
FIVE = ModelParams(tiers=FIVE_TIERS)
LADDER = ModelParams()


def median_ms(run: Callable[[], object], budget_s: float = 1.5, most: int = 200) -> float:
    """Median wall time of ``run`` over as many runs as fit the budget (at least 5)."""
    run()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < 5 or (len(times) < most and time.perf_counter() - started < budget_s):
        begin = time.perf_counter()
        run()
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def main() -> None:
    print("map build, median ms (synthetic market, 0.1% bins over +-25%)")
    print(f"{'window':>7} {'step':>5} {'candles':>8} {'5 tiers':>9} {'48-rung ladder':>15}")
    for window, minutes in WINDOW_MINUTES.items():
        for step, step_ms in STEPS.items():
            candles, oi = market(minutes, step_ms=step_ms, seed=11)
            five = median_ms(lambda c=candles, o=oi: build_map(c, o, FIVE))
            ladder = median_ms(lambda c=candles, o=oi: build_map(c, o, LADDER))
            print(f"{window:>7} {step:>5} {len(candles):>8,} {five:>9.2f} {ladder:>15.2f}")

    candles, oi = market(WINDOW_MINUTES["30d"], seed=11)
    array_ms = median_ms(lambda: build_map(candles, oi, FIVE))
    loop_started = time.perf_counter()
    build_map_loop(candles, oi, FIVE)
    loop_ms = (time.perf_counter() - loop_started) * 1000
    print(
        f"\nplain Python loop, 30d at 1m, 5 tiers: {loop_ms:,.0f} ms "
        f"= {loop_ms / array_ms:,.0f}x the array model"
    )

    liq_map = build_map(candles, oi, LADDER)
    clusters = find_clusters(liq_map)
    cluster_ms = median_ms(lambda: find_clusters(liq_map))
    labels = ChartLabels("BTC-USDT-SWAP", "okx", "30d")
    chart_ms = median_ms(lambda: render_png(liq_map, clusters, labels), budget_s=3, most=20)
    size_kb = len(render_png(liq_map, clusters, labels)) / 1024
    print(f"clusters: {cluster_ms:.2f} ms; chart: {chart_ms:.0f} ms, {size_kb:.0f} KB PNG")

    tracemalloc.start()
    build_map(candles, oi, LADDER)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory allocated by one 30d/1m ladder build: {peak / 2**20:.1f} MiB")

    liqmap = str(Path(sys.executable).with_name("liqmap"))
    starts = []
    for _ in range(5):
        begin = time.perf_counter()
        subprocess.run([liqmap, "map", "BTC", "--csv", str(HOURLY), "--json"],
                       check=True, capture_output=True)  # fmt: skip
        starts.append(time.perf_counter() - begin)
    print(
        f"liqmap map --csv --json, whole process: {statistics.median(starts):.2f} s (median of 5)"
    )
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"this benchmark's peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
