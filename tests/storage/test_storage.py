"""The SQLite file: WAL, migrations at start, atomic cache writes, readable by sqlite-utils."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from liqmap.engine.series import Candles, OpenInterest
from liqmap.errors import ConfigError
from liqmap.market.instruments import Instrument
from storage import database as database_module
from storage.database import open_database, schema_version
from storage.market_cache import CANDLES, OPEN_INTEREST, MarketCache
from storage.migrations import MIGRATIONS

BTC = Instrument("okx", "BTC/USDT:USDT", "BTC-USDT-SWAP", "BTC", "USDT", "USDT", 0.01, True, "swap")


def candles(*ts: int) -> Candles:
    return Candles.from_rows(60_000, [[t, 100, 101, 99, 100.5, math.nan] for t in ts])


def test_a_new_file_gets_the_whole_schema_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(tmp_path / "new.db")
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"candles", "open_interest", "fetched_ranges"} <= set(db.table_names())


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "keep.db"
    db = open_database(path)
    MarketCache(db).store_candles(BTC, "1m", candles(0, 60_000), (0, 120_000))
    db.close()
    again = open_database(path)
    assert schema_version(again) == len(MIGRATIONS)
    assert len(MarketCache(again).candles(BTC, "1m", 0, 120_000)) == 2
    assert MarketCache(again).covered(BTC, CANDLES, "1m") == [(0, 120_000)]


def test_a_file_from_a_newer_liqmap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(ConfigError, match="newer than this liqmap knows"):
        open_database(path)


def test_a_failing_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(database_module, "MIGRATIONS", [*MIGRATIONS, broken])
    path = tmp_path / "broken.db"
    with pytest.raises(sqlite3.OperationalError):
        open_database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables and "candles" in tables


def test_two_sided_bybit_open_interest_cached_before_is_dropped(tmp_path: Path) -> None:
    from storage.database import migrate

    bybit = Instrument("bybit", "BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT", "USDT", 1, True, "swap")
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    for version, migration in enumerate(MIGRATIONS[:3], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    oi = OpenInterest.from_rows(300_000, [[0, 2e8], [300_000, 2.2e8]])
    for inst in (BTC, bybit):
        MarketCache(db).store_open_interest(inst, "5m", oi, (0, 600_000))
        MarketCache(db).store_candles(inst, "1m", candles(0), (0, 60_000))
    migrate(db)
    cache = MarketCache(db)
    assert len(cache.open_interest(bybit, "5m", 0, 600_000)) == 0
    assert cache.covered(bybit, OPEN_INTEREST, "5m") == [], "refetched at the next refresh"
    assert len(cache.candles(bybit, "1m", 0, 60_000)) == 1, "candles are kept"
    assert len(cache.open_interest(BTC, "5m", 0, 600_000)) == 2, "other exchanges are kept"
    assert cache.covered(BTC, OPEN_INTEREST, "5m") == [(0, 600_000)]


def test_rows_and_coverage_are_written_together_or_not_at_all(db: Database) -> None:
    cache = MarketCache(db)
    good = OpenInterest.from_rows(300_000, [[0, 1e8], [300_000, 1.1e8]])
    cache.store_open_interest(BTC, "5m", good, (0, 600_000))
    broken = OpenInterest(300_000, np.array([600_000, 900_000]), np.array([1.2e8, np.nan]))
    with pytest.raises(sqlite3.IntegrityError):
        cache.store_open_interest(BTC, "5m", broken, (600_000, 1_200_000))
    assert cache.covered(BTC, OPEN_INTEREST, "5m") == [(0, 600_000)]
    assert cache.open_interest(BTC, "5m", 0, 2_000_000).ts.tolist() == [0, 300_000]


def test_coverage_merges_and_rows_are_replaced_not_duplicated(db: Database) -> None:
    cache = MarketCache(db)
    cache.store_candles(BTC, "1m", candles(0, 60_000), (0, 120_000))
    cache.store_candles(BTC, "1m", candles(60_000, 120_000), (60_000, 180_000))
    cache.store_candles(BTC, "1m", candles(300_000), (300_000, 360_000))
    assert cache.covered(BTC, CANDLES, "1m") == [(0, 180_000), (300_000, 360_000)]
    stored = cache.candles(BTC, "1m", 0, 1_000_000)
    assert stored.ts.tolist() == [0, 60_000, 120_000, 300_000]
    assert np.isnan(stored.volume).all(), "unknown volume survives as NaN"


def test_the_file_is_readable_with_the_sqlite_utils_cli(tmp_path: Path) -> None:
    """The ``sqlite-utils`` command line (its click command, run in this process)."""
    from click.testing import CliRunner
    from sqlite_utils.cli import cli

    path = tmp_path / "cli.db"
    db = open_database(path)
    MarketCache(db).store_candles(BTC, "1m", candles(0, 60_000), (0, 120_000))
    db.close()
    tables = CliRunner().invoke(cli, ["tables", str(path), "--counts"], catch_exceptions=False)
    assert tables.exit_code == 0, tables.output
    counts = {row["table"]: row["count"] for row in json.loads(tables.output)}
    assert counts["candles"] == 2 and counts["fetched_ranges"] == 1
    rows = CliRunner().invoke(
        cli, ["rows", str(path), "candles", "--limit", "1"], catch_exceptions=False
    )
    assert rows.exit_code == 0, rows.output
    first = json.loads(rows.output)[0]
    assert first["instrument"] == "BTC-USDT-SWAP" and first["step"] == "1m" and first["ts"] == 0


def test_a_stored_map_keeps_its_notes(db: Database) -> None:
    from liqmap.engine.model import LiquidationMap
    from liqmap.engine.snapshot import MapSnapshot
    from storage.snapshots import SnapshotStore

    empty = LiquidationMap(100.0, 0, np.linspace(75, 125, 501), np.zeros((5, 500)),
                           np.zeros((5, 500)))  # fmt: skip
    notes = ("okx has no 5m open interest before 2026-11-20 12:00 UTC; using 1h",)
    saved = SnapshotStore(db).save("okx:BTC", MapSnapshot("BTC", "okx", "7d", "5m", empty, [],
                                                          notes), 1)  # fmt: skip
    assert SnapshotStore(db).by_id(saved.id).snapshot.notes == notes


def test_pruning_keeps_the_latest_maps_and_those_pending_alerts_need(db: Database) -> None:
    from liqmap.engine.model import LiquidationMap
    from liqmap.engine.snapshot import MapSnapshot
    from storage.snapshots import SnapshotStore

    store = SnapshotStore(db)
    empty = LiquidationMap(
        100.0, 0, np.linspace(75, 125, 501), np.zeros((5, 500)), np.zeros((5, 500))
    )
    ids = [store.save("okx:BTC", MapSnapshot("BTC", "okx", "7d", "5m", empty, []), t).id
           for t in range(6)]  # fmt: skip
    db.execute(
        "INSERT INTO outbox (chat_id, instrument, kind, text, created_at, next_attempt_at, "
        "snapshot_id) VALUES (1, 'okx:BTC', 'approach', 'x', 0, 0, ?)",
        [ids[0]],
    )
    assert store.prune(keep=3) == 2
    kept = [row[0] for row in db.execute("SELECT id FROM snapshots ORDER BY id").fetchall()]
    assert kept == [ids[0], ids[3], ids[4], ids[5]]
    assert store.latest("okx:BTC", "7d").id == ids[5]
    assert store.by_id(ids[0]) is not None


def test_the_wal_is_cut_back_after_a_transaction_larger_than_its_limit(tmp_path: Path) -> None:
    from storage.database import WAL_SIZE_LIMIT

    path = tmp_path / "big.db"
    wal = tmp_path / "big.db-wal"
    db = open_database(path)
    with db.atomic():  # a first prune or a flood: one transaction of many pages
        db.execute("CREATE TABLE bulk (data BLOB)")
        db.conn.executemany("INSERT INTO bulk VALUES (?)", [[bytes(4000)] for _ in range(3000)])
    assert wal.stat().st_size > WAL_SIZE_LIMIT
    MarketCache(db).store_candles(BTC, "1m", candles(0), (0, 60_000))  # the next write resets it
    assert wal.stat().st_size <= WAL_SIZE_LIMIT
    db.close()
