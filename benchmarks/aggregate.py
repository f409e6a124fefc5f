"""The map summed over OKX, Binance and Bybit against one exchange's map; prints the figures.

Run: ``python -m benchmarks.aggregate`` from the repository root.
Goals (issue 10): computing the aggregate costs at most 3x a single venue; its wall time is
bound by the slowest venue's fetch, not the sum of the three.

1. Build: ``build_snapshot`` of one venue against ``build_aggregate_snapshot`` of three, on
   synthetic candles and OI (7d at 5m, 30d at 15m: the bot's default steps).
2. Fetch: the first (cold) ``compute_map`` against the local fakes, each fake answering
   every request after a round trip of its own (``ROUND_TRIP_S``), with ccxt's real rate
   limits; then the same again at once, from the cache (the compute alone, median of
   ``REPEATS``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from benchmarks.map_build import median_ms
from benchmarks.synthetic import market
from jobs.on_demand.maps import compute_map
from liqmap.engine.snapshot import VenueData, build_aggregate_snapshot, build_snapshot
from liqmap.exchanges.market_data import MarketData
from liqmap.market.venue_split import venue_params
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.okx import FakeOkx

ROUND_TRIP_S = {"okx": 0.06, "binance": 0.03, "bybit": 0.09}
"""Simulated network round trip per request of each fake exchange."""
VENUES = ("okx", "binance", "bybit")
REPEATS = 9
"""Computations from the cache timed after the first (median)."""
BUILDS = {"7d at 5m": (7 * 1440, 300_000), "30d at 15m": (30 * 1440, 900_000)}


def build_figures() -> None:
    print("build (median)            one venue   three venues   ratio")
    for name, (minutes, step) in BUILDS.items():
        parts = [_venue(venue, minutes, step, seed) for seed, venue in enumerate(VENUES)]
        one = median_ms(partial(_one, parts[0]))
        three = median_ms(partial(build_aggregate_snapshot, "BTC", "7d", "5m", parts))
        print(f"{name:<22}{one:>10.1f} ms{three:>12.1f} ms{three / one:>8.2f}x")


def _venue(venue: str, minutes: int, step: int, seed: int) -> VenueData:
    candles, oi = market(minutes, step, seed=seed, price=60_000 + 20 * seed)
    return VenueData(venue, candles, oi, venue_params(venue))


def _one(part: VenueData) -> None:
    build_snapshot("BTC", part.exchange, "7d", "5m", part.candles, part.oi, part.params)


async def fetch_figures() -> None:
    print(
        "\ncompute_map against the fakes (round trips: "
        + ", ".join(f"{v} {s * 1000:.0f} ms" for v, s in ROUND_TRIP_S.items())
        + ")"
    )
    print(f"{'':24}{'first (cold)':>14}{'again at once':>15}{'requests':>10}")
    with FakeOkx() as okx, FakeBinance() as binance, FakeBybit() as bybit:
        fakes = {"okx": okx, "binance": binance, "bybit": bybit}
        for venue, fake in fakes.items():
            fake.answer_delay = ROUND_TRIP_S[venue]
        urls = {venue: fake.url for venue, fake in fakes.items()}
        for symbol in ("okx:BTC", "binance:BTC", "bybit:BTC", "all:BTC"):
            await _compute(symbol, urls, fakes)


async def _compute(symbol: str, urls: dict[str, str], fakes: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        stores = Stores(db, lambda: int(time.time() * 1000))
        try:
            async with MarketData(urls=urls) as market:
                inst = await market.instrument(symbol)
                for member in inst.members or (inst,):
                    await market.maintenance_rate(member)  # instrument lists and tiers aside
                before = sum(len(f.requests) for f in fakes.values())
                started = time.perf_counter()
                await compute_map(market, stores, inst, "7d")
                cold = time.perf_counter() - started
                warm = []
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    await compute_map(market, stores, inst, "7d")
                    warm.append(time.perf_counter() - started)
                requests = sum(len(f.requests) for f in fakes.values()) - before
        finally:
            stores.close()
            db.close()
    again = statistics.median(warm) * 1000
    print(f"{symbol + ' 7d':<24}{cold:>12.2f} s{again:>12.1f} ms{requests:>10,}")


def main() -> None:
    build_figures()
    asyncio.run(fetch_figures())


if __name__ == "__main__":
    main()
