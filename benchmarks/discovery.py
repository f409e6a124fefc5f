"""What discovering Hyperliquid accounts costs: reading a leaderboard of its real size, and
storing what the leaderboard and the trades give.

Run: ``python -m benchmarks.discovery [--rows 30000] [--seed 7]``.

The leaderboard is synthetic, in the shape third parties record for the real one (about
30,000 rows, 25 MB; each row an address, an account value, four windows of pnl, roi and volume,
a prize and a display name: ``liqmap.exchanges.leaderboard``). It is parsed as the service
parses it (``parse_leaderboard``, which keeps only each row's address and value as it decodes)
and, for comparison, whole (``json.loads``); the peak is Python's own allocations
(``tracemalloc``). The writes are ``PositionStore.discovered`` on a fresh database file: the
whole leaderboard in transactions of ``LEADERBOARD_CHUNK`` rows as the job writes it, then
again (every address known), then 200 batches of
the accounts of 50 trades, as the job writes every 5 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.scheduled.discovery import LEADERBOARD_CHUNK as CHUNK
from liqmap.exchanges.leaderboard import parse_leaderboard
from storage.database import open_database
from storage.positions import PositionStore

NOW = 1_796_000_000_000


def chunks(seen: list[Any]) -> list[list[Any]]:
    return [seen[i : i + CHUNK] for i in range(0, len(seen), CHUNK)]


def leaderboard(rows: int, rng: random.Random) -> bytes:
    def window(name: str) -> list[Any]:
        return [name, {"pnl": f"{rng.uniform(-1e6, 1e6):.6f}",
                       "roi": f"{rng.uniform(-1, 1):.10f}",
                       "vlm": f"{rng.uniform(0, 1e10):.2f}"}]  # fmt: skip

    board = [
        {
            "ethAddress": f"0x{rng.getrandbits(160):040x}",
            "accountValue": f"{rng.paretovariate(1.2) * 1e3:.10f}",
            "windowPerformances": [window(w) for w in ("day", "week", "month", "allTime")],
            "prize": 0,
            "displayName": None if rng.random() < 0.9 else f"trader{rng.randint(1, 10**6)}",
        }
        for _ in range(rows)
    ]
    return json.dumps({"leaderboardRows": board}).encode()


def measured(work: Callable[[], object]) -> tuple[float, float]:
    """Seconds (best of three) and peak MiB (traced apart, as tracing slows it) of ``work()``."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return min(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    body = leaderboard(args.rows, rng)
    print(f"leaderboard: {args.rows:,} rows, {len(body) / 2**20:.1f} MB")
    slim_s, slim_mb = measured(lambda: parse_leaderboard(body))
    whole_s, whole_mb = measured(lambda: json.loads(body))
    print(f"  parsed as the service does: {slim_s:.2f} s, peak {slim_mb:.0f} MiB "
          f"(whole json.loads: {whole_s:.2f} s, peak {whole_mb:.0f} MiB)")  # fmt: skip
    leaders = parse_leaderboard(body).leaders
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "discovery.db")
        store = PositionStore(db)
        seen = [(leader.address, NOW, leader.account_value) for leader in leaders]
        start = time.perf_counter()
        new = sum(store.discovered(chunk, "leaderboard") for chunk in chunks(seen))
        first = time.perf_counter() - start
        start = time.perf_counter()
        longest = 0.0
        for chunk in chunks(seen):
            one = time.perf_counter()
            store.discovered(chunk, "leaderboard")
            longest = max(longest, time.perf_counter() - one)
        again = time.perf_counter() - start
        print(f"  stored: {new:,} new in {first * 1000:.0f} ms; all known again in "
              f"{again * 1000:.0f} ms, in transactions of {CHUNK:,} of at most "
              f"{longest * 1000:.0f} ms")  # fmt: skip
        addresses = [f"0x{rng.getrandbits(160):040x}" for _ in range(3_000)]
        writes = []
        for batch in range(200):
            trades = [(rng.choice(addresses), NOW + batch * 5_000, rng.uniform(1e2, 1e6))
                      for _ in range(100)]  # fmt: skip
            start = time.perf_counter()
            store.discovered(trades, "trades")
            writes.append(time.perf_counter() - start)
        writes.sort()
        median, p99 = statistics.median(writes), writes[int(0.99 * len(writes))]
        print(f"trades: a write of 50 trades' accounts takes {median * 1000:.1f} ms median, "
              f"{p99 * 1000:.1f} ms p99 "
              f"({len(writes)} writes, {store.sources()['trades']:,} addresses)")  # fmt: skip
        db.close()


if __name__ == "__main__":
    main()
