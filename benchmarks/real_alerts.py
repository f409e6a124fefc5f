"""What the real layer costs the watch job and ``/whales``, by the number of stored positions.

Run: ``python -m benchmarks.real_alerts`` from the repository root. Positions are drawn as the
fake Hyperliquid draws its accounts (``tests/fakes/hyperliquid.py``: its leverage mix, entries
near the mark, its liquidation formula) and stored as the scanner stores them, in a temporary
database; nothing reaches the internet. For each count it prints the median time of one real
check of one instrument (reading the stored positions, binning them on a 7-day map's 0.1%
bins, cutting the bands) when a scan changed them and when nothing changed (the cache only
asks SQLite whether they changed), and of one ``/whales`` board from the cache.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from jobs.on_demand.real_layer import PositionsCache
from liqmap.engine.real_layer import bin_real, real_clusters
from liqmap.market.instruments import Instrument
from liqmap.market.positions import AccountRead, Position
from liqmap.signals.whales import whale_board
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.hyperliquid import LEVERAGE_MIX, liquidation_price

PRICE = 60_000.0
RATE = 1 / 80
"""BTC's maintenance rate on the fake (half the initial margin at 40x)."""
EDGES = PRICE * np.exp(np.arange(-250, 251) * np.log(1.001))
"""0.1% bins over about +-25%, as a 7-day map's."""


def positions(count: int, seed: int = 18) -> list[AccountRead]:
    """``count`` BTC positions of as many accounts, as the fake draws them."""
    rng = random.Random(seed)
    leverages, weights = zip(*LEVERAGE_MIX, strict=True)
    reads = []
    for index in range(count):
        lev = rng.choices(leverages, weights)[0]
        long = rng.random() < 0.5
        entry = PRICE * (1 + rng.uniform(-0.5, 0.5) * (1 / lev - RATE))
        size = rng.uniform(1e4, 2e6) / entry
        liq = liquidation_price(entry, lev, long, RATE)
        address = f"0x{index:040x}"
        position = Position(address, "BTC", "long" if long else "short", size, entry, lev,
                            "cross", size * entry / lev, size * PRICE, liq if liq > 0 else None,
                            1)  # fmt: skip
        reads.append(AccountRead(address, (position,), 0, 1))
    return reads


def median_ms(run: Callable[[], Awaitable[object]], rounds: int = 15) -> float:
    """Median wall time of ``run`` (awaited) over ``rounds`` runs, after one to warm up."""

    async def timed() -> float:
        await run()
        times = []
        for _ in range(rounds):
            begin = time.perf_counter()
            await run()
            times.append((time.perf_counter() - begin) * 1000)
        return statistics.median(times)

    return asyncio.run(timed())


def measure(count: int, folder: Path) -> tuple[float, float, float]:
    """One real check with the positions changed (read in full), one with them unchanged
    (``PositionsCache``), and one ``/whales`` board, in ms."""
    db = open_database(folder / f"bench-{count}.db")
    stores = Stores(db, lambda: 1)
    pass_id = stores.positions.begin_pass(1)
    for read in positions(count):
        stores.positions.save(read, pass_id)
    inst = Instrument("hyperliquid", "BTC/USDC:USDC", "BTC", "BTC", "USDC", "USDC", 1, True,
                      "swap")  # fmt: skip

    async def check(cache: PositionsCache) -> object:
        held = await cache.get(stores, inst, 1)
        assert held is not None
        levels = [lv for lv in held.levels if not lv.stale]
        return real_clusters(bin_real(EDGES, levels, held.coverage), PRICE, 1)

    async def changed() -> object:
        return await check(PositionsCache())  # a new cache: as after a scan wrote

    kept = PositionsCache()

    async def board() -> object:
        held = await kept.get(stores, inst, 1)
        assert held is not None
        return whale_board("BTC", held.known, PRICE, held.open_interest_usd)

    try:
        return median_ms(changed), median_ms(lambda: check(kept)), median_ms(board)
    finally:
        stores.close()
        db.close()


def main() -> None:
    print("real layer, median ms per call (BTC positions stored in SQLite, one instrument)")
    print(f"{'positions':>10} {'check, changed':>15} {'check, unchanged':>17} {'/whales':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for count in (1_000, 10_000, 50_000):
            changed, unchanged, board = measure(count, Path(folder))
            print(f"{count:>10,} {changed:>15.1f} {unchanged:>17.1f} {board:>8.1f}")


if __name__ == "__main__":
    main()
