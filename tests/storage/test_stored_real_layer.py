"""A stored map keeps its real layer: a Hyperliquid map read back from the store has the same
real USD per bin, coverage, counts and read time; maps stored without one (and every map stored
before the layer was kept) read back without one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer, RealLevel, bin_real
from liqmap.engine.snapshot import MapSnapshot
from storage.database import migrate
from storage.migrations import MIGRATIONS, snapshot_real_layer
from storage.snapshots import SnapshotStore

NOW = 1_800_000_000_000
EDGES = np.linspace(95.0, 105.0, 101)


def _map() -> LiquidationMap:
    long_by_band = np.zeros((5, 100))
    long_by_band[2, 30] = 4e5
    short_by_band = np.zeros((5, 100))
    short_by_band[3, 70] = 2e5
    return LiquidationMap(100.0, NOW, EDGES, long_by_band, short_by_band)


def _layer(coverage: float | None) -> RealLayer:
    levels = [
        RealLevel("long", 97.05, 1.5e6, NOW - 240_000),
        RealLevel("long", 97.01, 2.5e5, NOW - 60_000, stale=True),
        RealLevel("short", 103.33, 7e5, NOW - 120_000),
        RealLevel("short", 140.0, 9e6, NOW),
    ]
    return bin_real(EDGES, levels, coverage)


@pytest.mark.parametrize("coverage", [0.073, None])
def test_a_stored_hyperliquid_map_reads_back_with_the_same_real_layer(
    db: Database, coverage: float | None
) -> None:
    real = _layer(coverage)
    snapshot = MapSnapshot("BTC", "hyperliquid", "1d", "1m", _map(), [], real=real)
    store = SnapshotStore(db)
    saved = store.save("hyperliquid:BTC", snapshot, NOW)
    for stored in (store.by_id(saved.id), store.latest("hyperliquid:BTC", "1d")):
        assert stored is not None
        back = stored.snapshot.real
        assert back is not None
        np.testing.assert_array_equal(back.edges, real.edges)
        np.testing.assert_array_equal(back.long_usd, real.long_usd)
        np.testing.assert_array_equal(back.short_usd, real.short_usd)
        assert back.long_usd.sum() == 1.75e6 and back.short_usd.sum() == 7e5
        assert back.coverage == coverage
        assert (back.positions, back.stale, back.read_ms) == (3, 1, NOW - 240_000)


def test_a_map_without_a_real_layer_reads_back_without_one(db: Database) -> None:
    store = SnapshotStore(db)
    saved = store.save("okx:BTC", MapSnapshot("BTC", "okx", "1d", "1m", _map(), []), NOW)
    stored = store.by_id(saved.id)
    assert stored is not None and stored.snapshot.real is None


def test_maps_stored_before_the_real_layer_was_kept_read_as_none(tmp_path: Path) -> None:
    db = Database(sqlite3.connect(tmp_path / "old.db"))
    before = MIGRATIONS.index(snapshot_real_layer)
    for version, migration in enumerate(MIGRATIONS[:before], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    with_real = MapSnapshot("BTC", "hyperliquid", "1d", "1m", _map(), [], real=_layer(0.1))
    with pytest.raises(sqlite3.OperationalError, match="real"):
        SnapshotStore(db).save("hyperliquid:BTC", with_real, NOW)
    db.execute(
        "INSERT INTO snapshots (instrument, window, computed_at, as_of, price, label, source, "
        "step, map, clusters) VALUES ('hyperliquid:BTC', '1d', ?, ?, 100.0, 'BTC', "
        "'hyperliquid', '1m', ?, '[]')",
        [NOW, NOW, _packed_map()],
    )
    migrate(db)
    stored = SnapshotStore(db).latest("hyperliquid:BTC", "1d")
    assert stored is not None and stored.snapshot.real is None
    assert stored.snapshot.liq_map.long_usd.sum() == 4e5


def _packed_map() -> bytes:
    scratch = Database(memory=True)
    for migration in MIGRATIONS:
        migration(scratch)
    saved = SnapshotStore(scratch).save("x", MapSnapshot("BTC", "x", "1d", "1m", _map(), []), NOW)
    return scratch.execute("SELECT map FROM snapshots WHERE id = ?", [saved.id]).fetchone()[0]
