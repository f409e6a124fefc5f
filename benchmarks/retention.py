"""How big the database grows over a week of refreshes, with and without daily retention.

Run: ``python -m benchmarks.retention [--days 7] [--instruments 50]``.

Two databases get the same writes, what ``liqmap run`` writes for each instrument every
5 minutes: a 5m candle (the refresh of the 7d alert map), five 1m candles and a 5m
open-interest row (as ``/map 1d`` would), hourly open interest (OKX serves the 7d map with
1h OI), a map snapshot saved then pruned to the latest three (as the refresh job does), and
the alerts of 200 subscribed chats through the outbox, marked sent. The first refresh
backfills the windows as ``sync_window`` does: 7 days of 5m candles and 1h OI, a day of 1m
candles and 5m OI. Each simulated midnight one database runs ``prune_storage``; the other
only what the service did before retention (the refresh job's keep-3 snapshot prune).

To keep the run near a minute on 2 cores, a simulated hour is written at once: each store
call carries an hour of one instrument's rows (12 refreshes' worth, stored with their hour's
range), and one snapshot per instrument is saved per hour rather than twelve (keep-3 pruning
holds three per instrument whatever the rate, so the size is the same). Sizes are the
database file plus its -wal file.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from benchmarks.synthetic import market
from jobs.scheduled.retention import prune_storage
from liqmap.engine.model import ModelParams
from liqmap.engine.series import Candles, OpenInterest
from liqmap.engine.snapshot import MapSnapshot, build_snapshot
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, STEPS
from liqmap.signals.proximity import Alert, Watch
from storage.alerts import AlertStore, Checked
from storage.chats import ChatStore
from storage.database import open_database
from storage.market_cache import MarketCache
from storage.outbox import Outbox
from storage.snapshots import SnapshotStore
from storage.stores import Stores

T0 = 1_793_491_200_000  # 2026-11-01 00:00 UTC
CHATS = 200
ALERTS_PER_HOUR = 10
CHURN_PER_DAY = 10
TABLES = ("candles", "open_interest", "fetched_ranges", "snapshots", "outbox", "alert_state")


@dataclass(frozen=True)
class History:
    """One instrument's synthetic market from the backfill's start to the run's end."""

    candles: dict[str, Candles]
    oi: dict[str, OpenInterest]
    snapshot: MapSnapshot


def history(seed: int, days: int) -> History:
    """A random market at each step the service caches, and a 7d map built from one."""
    origin = T0 - 7 * DAY_MS
    minutes = (days + 7) * 1440
    candles, oi = {}, {}
    for step in ("1m", "5m", "1h"):
        length = STEPS[step]
        c, o = market(minutes, length, seed=seed * 10 + len(step))
        candles[step] = Candles(length, c.ts + origin, c.open, c.high, c.low, c.close, c.volume)
        oi[step] = OpenInterest(length, o.ts + origin, o.usd)
    week_candles, week_oi = market(7 * 1440, STEPS["5m"], seed=seed)
    snapshot = build_snapshot(
        f"C{seed}-USDT-SWAP", "okx", "7d", "5m", week_candles, week_oi, ModelParams()
    )
    return History(candles, oi, snapshot)


class Service:
    """What the service writes to one database."""

    def __init__(self, path: Path, instruments: list[Instrument], seed: int) -> None:
        self.path = path
        self.db: Database = open_database(path)
        self.instruments = instruments
        self.cache = MarketCache(self.db)
        self.snapshots = SnapshotStore(self.db)
        self.outbox = Outbox(self.db)
        self.now = T0
        self.chats = ChatStore(self.db, lambda: self.now)
        self.alerts = AlertStore(self.db, lambda: self.now)
        self.stores = Stores(self.db, lambda: self.now)
        self.rng = random.Random(seed)
        keys = [inst.key for inst in instruments]
        for chat_id in range(1, CHATS + 1):
            self.chats.seen(chat_id, "private", None)
            for key in self.rng.sample(keys, 3):
                self.chats.subscribe(chat_id, key, None)

    def backfill(self, histories: list[History]) -> None:
        for inst, past in zip(self.instruments, histories, strict=True):
            self._candles(inst, past, "5m", T0 - 7 * DAY_MS, T0)
            self._oi(inst, past, "1h", T0 - 7 * DAY_MS, T0)
            self._candles(inst, past, "1m", T0 - DAY_MS, T0)
            self._oi(inst, past, "5m", T0 - DAY_MS, T0)

    def hour(self, histories: list[History]) -> None:
        """An hour of refreshes of every instrument and its alerts; the clock moves an hour."""
        start, end = self.now, self.now + HOUR_MS
        snapshot_ids = {}
        for inst, past in zip(self.instruments, histories, strict=True):
            for step in ("1m", "5m"):
                self._candles(inst, past, step, start, end)
            for step in ("5m", "1h"):
                self._oi(inst, past, step, start, end)
            snapshot_ids[inst.key] = self.snapshots.save(inst.key, past.snapshot, start).id
        self.snapshots.prune()
        self._alerts(snapshot_ids)
        self.now = end

    def churn(self) -> None:
        """A few chats drop one subscription and take another."""
        keys = [inst.key for inst in self.instruments]
        for chat_id in self.rng.sample(range(1, CHATS + 1), CHURN_PER_DAY):
            dropped = self.rng.choice(self.chats.subscriptions(chat_id)).instrument
            self.chats.unsubscribe(chat_id, dropped)
            self.chats.subscribe(chat_id, self.rng.choice(keys), None)

    def size_mb(self) -> tuple[float, float]:
        """The database file plus its -wal file, and the -wal file alone, in MB."""
        wal = self.path.with_name(self.path.name + "-wal")
        wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
        return self.path.stat().st_size / 1e6 + wal_mb, wal_mb

    def counts(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def _candles(self, inst: Instrument, past: History, step: str, start: int, end: int) -> None:
        self.cache.store_candles(inst, step, past.candles[step].between(start, end), (start, end))

    def _oi(self, inst: Instrument, past: History, step: str, start: int, end: int) -> None:
        oi = past.oi[step]
        keep = (oi.ts >= start) & (oi.ts < end)
        rows = OpenInterest(oi.step_ms, oi.ts[keep], oi.usd[keep])
        self.cache.store_open_interest(inst, step, rows, (start, end))

    def _alerts(self, snapshot_ids: dict[str, int]) -> None:
        """Every subscriber's state per instrument, a few alerts among them, delivered."""
        alerting = self.rng.sample(list(snapshot_ids), ALERTS_PER_HOUR)
        for key in alerting:
            subscribers = self.chats.subscribers(key)
            lucky = self.rng.choice(subscribers)[0].id if subscribers else None
            checks = [
                Checked(chat.id, Watch(), [_alert(key)] if chat.id == lucky else [])
                for chat, _ in subscribers
            ]
            self.alerts.record(key, checks, snapshot_ids[key], 15 * MINUTE_MS)
        for row in self.outbox.due(self.now + HOUR_MS):
            self.outbox.mark_sent(row.id, self.now)


def _alert(key: str) -> Alert:
    return Alert("approach", key, key.split(":")[1], "okx", "long", 99.0, 99.5, 2e7, 3.1,
                 100.0, 100.4, 0.5, False, "7d")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--instruments", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    instruments = [
        Instrument("okx", f"C{i}/USDT:USDT", f"C{i}-USDT-SWAP", f"C{i}", "USDT", "USDT", 1.0,
                   True, "swap")
        for i in range(args.instruments)
    ]  # fmt: skip
    histories = [history(i, args.days) for i in range(args.instruments)]
    print(f"{args.instruments} instruments, {args.days} simulated days; MB = database + -wal")
    print(f"{'day':>3} {'MB (wal)':>12} {'no pruning':>12}  rows with retention (without)")
    sizes: list[float] = []
    unpruned: list[float] = []
    prune_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        kept = Service(Path(tmp) / "retained.db", instruments, seed=1)
        grown = Service(Path(tmp) / "unpruned.db", instruments, seed=1)
        for service in (kept, grown):
            service.backfill(histories)
        for day in range(1, args.days + 1):
            before = kept.counts()
            for service in (kept, grown):
                for _ in range(24):
                    service.hour(histories)
                service.churn()
            clock = time.perf_counter()
            prune_storage(kept.stores, kept.now)
            prune_ms.append((time.perf_counter() - clock) * 1000)
            (size, wal), (grown_size, grown_wal) = kept.size_mb(), grown.size_mb()
            sizes.append(size)
            unpruned.append(grown_size)
            with_, without = kept.counts(), grown.counts()
            rows = ", ".join(f"{t} {with_[t]:,} ({without[t]:,})" for t in TABLES)
            print(f"{day:>3} {size:>6.1f} ({wal:>3.1f}) {grown_size:>5.1f} ({grown_wal:>3.1f})  "
                  f"{rows}")  # fmt: skip

        clock = time.perf_counter()
        upgrade = prune_storage(grown.stores, grown.now)
        seconds = time.perf_counter() - clock
        print(f"first prune of the unpruned database (as after an upgrade) took {seconds:.1f} s: "
              f"{upgrade}; {grown.size_mb()[0]:.1f} MB after (the file keeps its free pages "
              "for new rows; VACUUM would return them)")  # fmt: skip
        for service in (kept, grown):
            service.stores.close()
            service.db.close()

    growing = {t: with_[t] - before[t] for t in TABLES if with_[t] > before[t]}
    took = time.perf_counter() - started
    print(f"daily prune_storage took {max(prune_ms):.0f} ms at most; the run {took:.0f} s")
    print(
        "with retention, still growing on the last day: "
        + (", ".join(f"{t} +{n:,} rows" for t, n in growing.items()) or "nothing")
    )
    last_growth = sizes[-1] - sizes[-2] if len(sizes) > 1 else sizes[-1]
    unpruned_growth = unpruned[-1] - unpruned[-2] if len(unpruned) > 1 else unpruned[-1]
    print(f"size after day 1: {sizes[0]:.1f} MB, after day {len(sizes)}: {sizes[-1]:.1f} MB "
          f"(+{last_growth:.1f} MB on the last day); without pruning {unpruned[-1]:.1f} MB "
          f"(+{unpruned_growth:.1f} MB on the last day)")  # fmt: skip


if __name__ == "__main__":
    main()
