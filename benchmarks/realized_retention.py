"""How much a busy BTC day of recorded liquidations weighs in the database, how long the recorder's
writes take, and the size after 35 days with and without the daily prune.

Run: ``python -m benchmarks.realized_retention [--days 2] [--seed 7]``.

The stream is simulated: BTC's USDT perpetual on OKX, Binance and Bybit over a busy day, events
arriving as a Poisson process whose rate swings hour by hour (lognormal) with a few cascades of
5 to 30 minutes at 15 times the rate, mostly on one side; sizes heavy-tailed (Pareto, alpha 1.1,
from $150, capped at $20M), amounts at each venue's lot size and prices on a random walk.
Binance publishes only the latest liquidation of each second per symbol, so its stream is
sampled that way. The database gets what the recorder (``jobs/scheduled/recorder.py``) writes:
one ``record`` call per venue per second with that second's events and the watched span from the
connection's start.

Bytes per instrument-day are the growth of the SQLite file (the ``realized`` table is its own
primary-key index, WITHOUT ROWID) after a WAL checkpoint. Sizes after 35 days are extrapolated
from the simulated days: the daily prune keeps 31 days
(``jobs.scheduled.retention.REALIZED_AGE_MS``) and SQLite reuses the freed pages, so the file
stays near 32 days' worth; without it, it holds 35.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jobs.scheduled.retention import REALIZED_AGE_MS
from liqmap.engine.realized import Realized
from liqmap.market.timeframes import DAY_MS, HOUR_MS
from storage.database import open_database
from storage.liquidations import RealizedStore

T0 = 1_793_491_200_000  # 2026-11-01 00:00 UTC
DAYS_AFTER = 35


@dataclass(frozen=True)
class Venue:
    """One venue's BTC perpetual: its id, events a busy day, lot size, whether it samples."""

    exchange: str
    instrument: str
    events_per_day: int
    lot: float
    sampled: bool = False


VENUES = (
    Venue("okx", "BTC-USDT-SWAP", 12_000, 0.01),
    Venue("binance", "BTCUSDT", 45_000, 0.001, sampled=True),
    Venue("bybit", "BTCUSDT", 20_000, 0.001),
)


def day_of_events(venue: Venue, day_start: int, rng: np.random.Generator) -> list[Realized]:
    """One busy day of ``venue``'s liquidations, oldest first."""
    seconds = DAY_MS // 1000
    rate = np.repeat(rng.lognormal(0.0, 0.8, 24), 3600)
    downward = np.zeros(seconds, dtype=bool)
    for _ in range(6):  # cascades
        start = int(rng.integers(0, seconds - 1800))
        length = int(rng.integers(300, 1800))
        rate[start : start + length] *= 15
        downward[start : start + length] = rng.random() < 0.6
    per_second = rng.poisson(rate * venue.events_per_day / rate.sum())
    second = np.repeat(np.arange(seconds), per_second)
    ts = day_start + second * 1000 + rng.integers(0, 1000, len(second))
    if venue.sampled:  # the last event of each second, as Binance pushes it
        order = np.argsort(ts)
        ts, second = ts[order], second[order]
        last = np.r_[second[1:] != second[:-1], True]
        ts, second = ts[last], second[last]
    price = 95_000 * np.exp(np.cumsum(rng.normal(0, 0.03 / np.sqrt(seconds), seconds)))
    usd = np.minimum(150 * (1 + rng.pareto(1.1, len(ts))), 2e7)
    amount = np.maximum(np.round(usd / price[second] / venue.lot), 1) * venue.lot
    at = np.round(price[second], 1)
    long = np.where(downward[second], rng.random(len(ts)) < 0.9, rng.random(len(ts)) < 0.5)
    rows = [
        Realized(venue.exchange, venue.instrument, "long" if is_long else "short", p, a, p * a, t)
        for t, p, a, is_long in zip(ts.tolist(), at.tolist(), amount.tolist(), long.tolist(),
                                    strict=True)
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r.ts)


def file_bytes(path: Path, store: RealizedStore) -> int:
    """The database file after its WAL is checkpointed into it."""
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


@dataclass
class Run:
    """The recorder's writes into one database, and what they took."""

    store: RealizedStore
    watched: int
    rows: dict[str, list[int]]
    batch_ms: list[float]

    def day(self, day_start: int, rng: np.random.Generator) -> None:
        """A busy day written as the recorder writes it: per second, one call per venue."""
        events = {v.exchange: day_of_events(v, day_start, rng) for v in VENUES}
        stamps = {name: np.array([r.ts for r in rows]) for name, rows in events.items()}
        ids = {v.exchange: [v.instrument, *(f"Q{i}-QUIET" for i in range(self.watched - 1))]
               for v in VENUES}  # fmt: skip
        stored = dict.fromkeys(events, 0)
        for second in range(DAY_MS // 1000):
            now = day_start + (second + 1) * 1000
            for venue in VENUES:
                lo, hi = np.searchsorted(stamps[venue.exchange], [now - 1000, now])
                batch = events[venue.exchange][lo:hi]
                clock = time.perf_counter()
                stored[venue.exchange] += self.store.record(
                    venue.exchange, ids[venue.exchange], batch, (T0, now)
                )
                self.batch_ms.append((time.perf_counter() - clock) * 1000)
        for name, count in stored.items():
            self.rows[name].append(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="busy days simulated (default 2)")
    parser.add_argument(
        "--watched", type=int, default=1,
        help="instruments each venue's recorder watches, BTC and quiet ones (default 1)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "realized.db"
        run = Run(RealizedStore(open_database(path)), args.watched,
                  {v.exchange: [] for v in VENUES}, [])  # fmt: skip
        sizes = [file_bytes(path, run.store)]
        for day in range(args.days):
            run.day(T0 + day * DAY_MS, rng)
            sizes.append(file_bytes(path, run.store))
            stored = sum(rows[-1] for rows in run.rows.values())
            print(f"day {day + 1}: {stored:,} events stored, file {sizes[-1] / 1e6:.1f} MB")
        end = T0 + args.days * DAY_MS
        clock = time.perf_counter()
        summed = run.store.usd_by_candle("bybit", "BTCUSDT", T0, end, HOUR_MS)
        sum_ms = (time.perf_counter() - clock) * 1000
        clock = time.perf_counter()
        pruned = run.store.prune(T0 + DAY_MS)
        prune_ms = (time.perf_counter() - clock) * 1000
        run.day(end, rng)
        reused = file_bytes(path, run.store) - sizes[-1]
        run.store.db.close()

    rows = [count for counts in run.rows.values() for count in counts[: args.days]]
    per_day = (sizes[-1] - sizes[0]) / args.days
    per_row = per_day * args.days / sum(rows)
    after = sum(counts[-1] for counts in run.rows.values())
    print(f"\n{args.days} simulated busy days of BTC on {', '.join(v.exchange for v in VENUES)} "
          f"(Binance sampled to one event a second), {args.watched} instrument(s) watched a "
          "venue")  # fmt: skip
    for venue in VENUES:
        counts = run.rows[venue.exchange][: args.days]
        print(f"  {venue.exchange:8} {statistics.mean(counts):>9,.0f} rows a day")
    print(f"rows per instrument-day: {statistics.mean(rows):,.0f}; bytes per instrument-day: "
          f"{per_day / len(VENUES) / 1e6:.2f} MB ({per_row:.0f} bytes a "
          "row; file growth after a WAL checkpoint, the primary-key index included)")  # fmt: skip
    ordered = sorted(run.batch_ms)
    print(f"write per batch (one venue, one second, {len(ordered):,} batches): median "
          f"{statistics.median(ordered):.3f} ms, p99 {ordered[int(len(ordered) * 0.99)]:.3f} ms, "
          f"max {ordered[-1]:.1f} ms")  # fmt: skip
    print(f"summing {args.days} days of one instrument per hour (usd_by_candle, {len(summed)} "
          f"rows) took {sum_ms:.1f} ms; pruning day 1 ({pruned:,} rows) took {prune_ms:.0f} ms; "
          f"a day recorded after that prune ({after:,} rows, {after * per_row / 1e6:.1f} MB) grew "
          f"the file {reused / 1e6:.1f} MB: the freed pages were reused")  # fmt: skip
    kept = REALIZED_AGE_MS / DAY_MS
    print(f"after {DAYS_AFTER} days, extrapolated from these {args.days}: with the daily prune "
          f"(kept {kept:.0f} days, at most {kept + 1:.0f} between prunes) about "
          f"{(sizes[0] + (kept + 1) * per_day) / 1e6:.0f} MB, and no more after; without it "
          f"{(sizes[0] + DAYS_AFTER * per_day) / 1e6:.0f} MB, growing "
          f"{per_day / 1e6:.1f} MB a day")  # fmt: skip


if __name__ == "__main__":
    main()
