"""Scanned Hyperliquid accounts in the database: positions replaced per account, addresses
ordered by what they last held, a position the latest pass did not read marked stale, and
what each pass did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from liqmap.market.positions import AccountRead, Position
from liqmap.market.scan_passes import ScanPass
from storage.database import migrate
from storage.migrations import MIGRATIONS, discovered_addresses
from storage.positions import PositionStore

NOW = 1_800_000_000_000
A, B, C = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40


def position(address: str, coin: str, value: float, read_ms: int = NOW) -> Position:
    return Position(address=address, coin=coin, side="long", size=value / 100, entry=100.0,
                    leverage=10, mode="cross", margin=value / 10, value=value,
                    liquidation=None if coin == "SOL" else 91.0, read_ms=read_ms)  # fmt: skip


def read(address: str, *positions: Position, at: int = NOW) -> AccountRead:
    return AccountRead(address, positions, 0, at)


def test_an_account_read_again_replaces_its_positions_and_a_closed_coin_goes(
    db: Database,
) -> None:
    store = PositionStore(db)
    first = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 5e5), position(A, "SOL", 1e4)), first)
    assert [(k.position.coin, k.stale) for k in store.positions()] == [
        ("BTC", False), ("SOL", False)
    ]  # fmt: skip
    assert store.positions("SOL")[0].position.liquidation is None
    second = store.begin_pass(NOW + 60_000)
    assert second > first
    store.save(read(A, position(A, "BTC", 7e5, NOW + 60_000), at=NOW + 60_000), second)
    (btc,) = store.positions()
    assert btc.position == position(A, "BTC", 7e5, NOW + 60_000)
    assert (btc.pass_id, btc.stale) == (second, False)


def test_a_position_the_latest_finished_pass_did_not_read_is_stale(db: Database) -> None:
    store = PositionStore(db)
    first = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 5e5)), first)
    store.save(read(B, position(B, "ETH", 2e5)), first)
    store.finish_pass(first, NOW + 1, accounts=2, skipped=0, failed=0, weight=4.0)
    second = store.begin_pass(NOW + 60_000)
    store.save(read(B, position(B, "ETH", 2e5, NOW + 60_000), at=NOW + 60_000), second)
    running = {k.position.address: k.stale for k in store.positions()}
    assert running == {A: False, B: False}, "a pass under way has not missed A yet"
    store.finish_pass(second, NOW + 60_001, accounts=1, skipped=0, failed=0, weight=2.0)
    assert {k.position.address: k.stale for k in store.positions()} == {A: True, B: False}
    cut_off = store.begin_pass(NOW + 120_000)  # stopped before reading anything
    assert cut_off > second
    assert {k.position.address: k.stale for k in store.positions()} == {A: True, B: False}


def test_known_addresses_come_largest_first_then_the_unknown_in_order(db: Database) -> None:
    store = PositionStore(db)
    one = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 1e5)), one)
    store.save(read(B, position(B, "BTC", 9e5), position(B, "ETH", 1e5)), one)
    assert store.largest_first([C, A, B, C]) == [B, A, C]
    assert db.execute("SELECT notional FROM scan_addresses WHERE address = ?",
                      [B]).fetchone() == (1e6,)  # fmt: skip


def test_a_finished_pass_keeps_its_figures_and_a_later_one_runs_until_finished(
    db: Database,
) -> None:
    store = PositionStore(db)
    assert store.last_pass() is None and store.open_pass() is None
    first = store.begin_pass(NOW)
    assert store.open_pass() == ScanPass(first, NOW, None)
    store.finish_pass(first, NOW + 5_000, accounts=3, skipped=1, failed=2, weight=10.0)
    assert store.last_pass() == ScanPass(first, NOW, NOW + 5_000, 3, 1, 2, 10.0)
    assert store.open_pass() is None
    second = store.begin_pass(NOW + 60_000)
    assert store.last_pass() == ScanPass(first, NOW, NOW + 5_000, 3, 1, 2, 10.0)
    assert store.open_pass() == ScanPass(second, NOW + 60_000, None)


def test_a_pass_cut_off_before_the_latest_finished_one_is_not_running(db: Database) -> None:
    store = PositionStore(db)
    store.begin_pass(NOW)  # never finished: a stop cut it off
    later = store.begin_pass(NOW + 1)
    store.finish_pass(later, NOW + 2, accounts=0, skipped=0, failed=0, weight=0.0)
    assert store.open_pass() is None
    assert store.last_pass() == ScanPass(later, NOW + 1, NOW + 2)


def test_pass_figures_are_added_to_a_database_scanned_before_them(tmp_path: Path) -> None:
    from storage.database import migrate
    from storage.migrations import MIGRATIONS, scan_pass_stats

    db = Database(sqlite3.connect(tmp_path / "old.db"))
    before = MIGRATIONS.index(scan_pass_stats)
    for version, migration in enumerate(MIGRATIONS[:before], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO scan_passes (started_ms) VALUES (?)", [NOW])
    migrate(db)
    store = PositionStore(db)
    assert store.open_pass() == ScanPass(1, NOW, None, 0, 0, 0, 0.0)
    store.finish_pass(1, NOW + 9, accounts=4, skipped=0, failed=0, weight=8.0)
    assert store.last_pass() == ScanPass(1, NOW, NOW + 9, 4, 0, 0, 8.0)


def test_the_version_changes_with_every_change_positions_would_show(db: Database) -> None:
    store = PositionStore(db)
    empty = store.version("BTC")
    first = store.begin_pass(NOW)
    assert store.version("BTC") == empty, "a pass under way changes no stale flag"
    store.finish_pass(first, NOW, accounts=0, skipped=0, failed=0, weight=0.0)
    assert store.version("BTC") != empty, "a finished pass changes what is stale"
    store.save(read(A, position(A, "BTC", 5e5)), first)
    saved = store.version("BTC")
    store.save(read(B, position(B, "ETH", 5e5)), first)
    assert store.version("BTC") == saved, "another coin is another version"
    later = NOW + 60_000
    store.save(read(A, position(A, "BTC", 5e5, later), at=later), first)
    assert store.version("BTC") != saved, "read again: its read time moved"
    again = store.version("BTC")
    store.save(read(A, at=later + 1), first)
    assert store.version("BTC") != again, "closed"
    assert store.version("BTC") == store.version("BTC")


def test_addresses_found_are_stored_once_with_their_source_last_seen_and_size(
    db: Database,
) -> None:
    store = PositionStore(db)
    assert store.discovered([(A, NOW, 5e4), (B, NOW, 0.0), (A, NOW + 5, 9e4)], "trades") == 2
    assert store.discovered([(B, NOW + 60_000, 3e6), (C, NOW + 30_000, 1e6)], "leaderboard") == 1
    assert store.discovered([(A, NOW - 60_000, 1e3), (A, NOW, float("nan"))], "trades") == 0
    rows = db.execute(
        "SELECT address, source, last_seen_ms, notional, scanned_ms FROM scan_addresses "
        "ORDER BY address"
    ).fetchall()
    assert rows == [
        (A, "trades", NOW + 5, 9e4, None),  # an older sighting moves nothing back
        (B, "trades", NOW + 60_000, 3e6, None),  # found on trades first, sized by the board
        (C, "leaderboard", NOW + 30_000, 1e6, None),
    ]
    assert store.sources() == {"given": 0, "trades": 2, "leaderboard": 1}
    assert store.largest(2) == [B, C]
    assert store.largest(10) == [B, C, A]
    assert store.largest_first([A, C, B]) == [B, C, A]


def test_a_notional_a_scan_read_is_kept_when_the_address_is_seen_again(db: Database) -> None:
    store = PositionStore(db)
    store.discovered([(A, NOW, 8e6)], "leaderboard")
    store.save(read(A, position(A, "BTC", 2e5), at=NOW + 1_000), store.begin_pass(NOW + 1_000))
    store.discovered([(A, NOW + 2_000, 9e6)], "trades")
    assert db.execute(
        "SELECT source, last_seen_ms, notional, scanned_ms FROM scan_addresses"
    ).fetchone() == ("leaderboard", NOW + 2_000, 2e5, NOW + 1_000)
    store.save(read(B, position(B, "ETH", 1e5)), store.begin_pass(NOW))
    assert store.sources() == {"given": 1, "trades": 0, "leaderboard": 1}
    assert store.discovered([], "trades") == 0


def test_addresses_stored_before_discovery_count_as_given_and_scanned(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    upto = MIGRATIONS.index(discovered_addresses)
    for version, migration in enumerate(MIGRATIONS[:upto], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO scan_addresses VALUES (?, ?, ?)", [A, NOW, 4e5])
    migrate(db)
    assert db.execute(
        "SELECT address, last_seen_ms, notional, source, scanned_ms FROM scan_addresses"
    ).fetchall() == [(A, NOW, 4e5, "given", NOW)]
    store = PositionStore(db)
    store.discovered([(A, NOW + 1, 9e9)], "trades")
    assert store.largest(1) == [A]
    assert db.execute("SELECT notional FROM scan_addresses").fetchone() == (4e5,)
