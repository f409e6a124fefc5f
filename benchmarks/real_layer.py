"""The map build time with the real layer: what the stored positions add to a Hyperliquid map.

Run: ``python -m benchmarks.real_layer`` from the repository root. For 1k, 10k and 50k stored
BTC positions (one account each, liquidation prices spread over +-30% of price, a tenth of
them stale) in a SQLite file like ``liqmap scan`` fills: the estimate alone (a 7-day map at
5 minutes, the 48-rung ladder, with its clusters), ``real_layer_for`` (positions loaded, the
recorded open interest read, ``bin_real``), of it the positions' load from SQLite,
``bin_real`` alone, storing and reading back the
map with its layer, and the chart without and with the layer (drawn in turns). Prints
medians in ms.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.map_build import median_ms
from benchmarks.synthetic import market
from jobs.on_demand.real_layer import real_layer_for
from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.engine.real_layer import RealLayer, bin_real
from liqmap.engine.series import OpenInterest
from liqmap.engine.snapshot import MapSnapshot, build_snapshot
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from liqmap.market.positions import AccountRead, Position, real_levels
from liqmap.market.venues import RECORDED_OI_STEP
from storage.database import open_database
from storage.stores import Stores

COUNTS = (1_000, 10_000, 50_000)
BTC = Instrument("hyperliquid", "BTC/USDC:USDC", "BTC", "BTC", "USDC", "USDC", 1.0, True, "swap")


def _positions(count: int, price: float, read_ms: int, seed: int = 18) -> list[AccountRead]:
    rng = random.Random(seed)
    reads = []
    for n in range(count):
        side = "long" if rng.random() < 0.5 else "short"
        leverage = rng.choice((3, 5, 10, 20, 40))
        distance = rng.uniform(0.005, 0.3)
        liquidation = price * (1 - distance if side == "long" else 1 + distance)
        value = rng.uniform(1e4, 2e6)
        address = f"0x{n:040x}"
        position = Position(address, "BTC", side, value / price, price, leverage,
                            "cross", value / leverage, value, liquidation, read_ms)  # fmt: skip
        reads.append(AccountRead(address, (position,), 0, read_ms))
    return reads


def _store(stores: Stores, reads: list[AccountRead], at_ms: int) -> None:
    """Two passes, the second missing a tenth of the accounts (stale), and one recorded OI."""
    first = stores.positions.begin_pass(at_ms - 60_000)
    for read in reads:
        stores.positions.save(read, first)
    stores.positions.finish_pass(first, at_ms - 30_000, len(reads), 0, 0, 2.0 * len(reads))
    second = stores.positions.begin_pass(at_ms)
    again = reads[: len(reads) * 9 // 10]
    for read in again:
        stores.positions.save(read, second)
    stores.positions.finish_pass(second, at_ms, len(again), 0, 0, 2.0 * len(again))
    minute = at_ms // 60_000 * 60_000
    oi = OpenInterest(60_000, np.array([minute]), np.array([2e9]))
    stores.cache.store_open_interest(BTC, RECORDED_OI_STEP, oi, (minute, minute + 60_000))


def main() -> None:
    candles, oi = market(7 * 288, step_ms=300_000, seed=11)
    params = params_for(BTC, None)

    def estimate() -> MapSnapshot:
        return build_snapshot("BTC", "hyperliquid", "7d", "5m", candles, oi, params)

    snapshot = estimate()
    labels = ChartLabels("BTC", "hyperliquid", "7d")
    build_ms = median_ms(estimate)
    print("a Hyperliquid 7d map at 5m (2,016 candles, 48-rung ladder), median ms, 2 cores")
    print(f"estimate alone (map + clusters): {build_ms:.1f} ms")
    print(
        f"{'positions':>9} {'real_layer_for':>15} {'of it: load':>12} {'bin_real':>9} "
        f"{'store+read':>11} {'chart':>12} {'with layer':>12}"
    )
    for count in COUNTS:
        layer_ms, load_ms, bin_ms, stored_ms, plain_ms, drawn_ms = _measure(count, snapshot, labels)
        print(
            f"{count:>9,} {layer_ms:>15.1f} {load_ms:>12.1f} {bin_ms:>9.2f} "
            f"{stored_ms:>11.1f} {plain_ms:>12.0f} {drawn_ms:>12.0f}"
        )


def _measure(
    count: int, snapshot: MapSnapshot, labels: ChartLabels
) -> tuple[float, float, float, float, float, float]:
    """For ``count`` stored positions: ``real_layer_for``, the positions' load, ``bin_real``,
    a store and read back of the map with its layer, and its chart; median ms each."""
    liq_map = snapshot.liq_map
    with tempfile.TemporaryDirectory() as folder:
        stores = Stores(open_database(Path(folder) / "bench.db"), lambda: liq_map.as_of_ms)
        loop = asyncio.new_event_loop()
        try:
            _store(stores, _positions(count, liq_map.price, liq_map.as_of_ms), liq_map.as_of_ms)

            def layer() -> RealLayer | None:
                return loop.run_until_complete(real_layer_for(stores, BTC, liq_map))

            layer_ms = median_ms(layer, budget_s=3, most=30)
            real = layer()
            assert real is not None and real.stale > 0
            load_ms = median_ms(lambda: stores.positions.positions("BTC"), most=30)
            levels = real_levels(stores.positions.positions("BTC"))
            bin_ms = median_ms(lambda: bin_real(liq_map.edges, levels, 0.1))
            with_real = replace(snapshot, real=real)

            def round_trip() -> None:
                saved = stores.snapshots.save("hyperliquid:BTC", with_real, 0)
                stores.snapshots.by_id(saved.id)

            stored_ms = median_ms(round_trip, most=50)
            plain_ms, drawn_ms = _paired_ms(
                lambda: render_png(liq_map, snapshot.clusters, labels),
                lambda: render_png(liq_map, snapshot.clusters, labels, real=real),
            )
        finally:
            loop.close()
            stores.close()
    return layer_ms, load_ms, bin_ms, stored_ms, plain_ms, drawn_ms


def _paired_ms(
    plain: Callable[[], object], other: Callable[[], object], rounds: int = 15
) -> tuple[float, float]:
    """Median ms of ``plain`` and ``other`` run in turns, so a busy machine slows both alike."""
    plain()
    other()
    times: list[tuple[float, float]] = []
    for _ in range(rounds):
        begin = time.perf_counter()
        plain()
        middle = time.perf_counter()
        other()
        times.append(((middle - begin) * 1000, (time.perf_counter() - middle) * 1000))
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


if __name__ == "__main__":
    main()
