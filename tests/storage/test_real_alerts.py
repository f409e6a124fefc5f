"""Real-cluster alerts in SQLite: the opt-in per subscription and the detector's memory of the
real layer, added to an existing database by a migration, gone with the subscription, moved
with a group, and written with their alerts in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from liqmap.signals.proximity import APPROACH, REAL, Alert, Remembered, Watch
from storage.alerts import Checked
from storage.chats import ChatStore
from storage.database import migrate, open_database
from storage.migrations import MIGRATIONS, real_cluster_alerts
from storage.outbox import Outbox
from storage.real_alerts import RealAlertStore
from tests.fakes.clock import Clock

KEY = "hyperliquid:BTC"


def test_the_migration_adds_the_table_to_a_database_of_the_version_before(tmp_path: Path) -> None:
    db = Database(sqlite3.connect(tmp_path / "old.db"))
    before = MIGRATIONS.index(real_cluster_alerts)
    for version, migration in enumerate(MIGRATIONS[:before], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO chats (id, kind, created_at, updated_at) VALUES (7, 'private', 1, 1)")
    db.execute(
        "INSERT INTO subscriptions (chat_id, instrument, created_at) VALUES (7, ?, 1)", [KEY]
    )
    assert "real_watch" not in db.table_names()
    migrate(db)
    assert "real_watch" in db.table_names()
    store = RealAlertStore(db, Clock(5))
    assert not store.watching(7, KEY), "no subscription opted in by the migration"
    store.set(7, KEY, True)
    assert store.watching(7, KEY) and store.watches(KEY) == {7: Watch()}


def test_opting_in_and_out_and_the_memory_going_with_its_subscription(tmp_path: Path) -> None:
    db = open_database(tmp_path / "bot.db")
    clock = Clock(1_000)
    chats, store = ChatStore(db, clock), RealAlertStore(db, clock)
    for chat in (-10, 8):
        chats.seen(chat, "group" if chat < 0 else "private", None)
        chats.subscribe(chat, KEY, None)
        store.set(chat, KEY, True)
    store.set(8, KEY, False)
    assert store.watched(8) == set() and store.watched(-10) == {KEY}
    with pytest.raises(sqlite3.IntegrityError):
        store.set(9, KEY, True)  # no subscription, no opt-in
    chats.migrate(-10, -10010)
    assert store.watching(-10010, KEY), "it moved with the group"
    chats.unsubscribe(-10010, KEY)
    assert store.watches(KEY) == {}, "gone with the subscription"


def test_the_memory_and_its_alerts_are_written_together(db: Database) -> None:
    clock = Clock(1_000)
    chats, store = ChatStore(db, clock), RealAlertStore(db, clock)
    chats.seen(7, "private", None)
    chats.subscribe(7, KEY, None)
    store.set(7, KEY, True)
    watch = Watch((Remembered("long", 57_000.0, 57_100.0, 2e6, 1_000),), 1_000, 57_400.0)
    alert = Alert(APPROACH, KEY, "BTC", "hyperliquid", "long", 57_000.0, 57_100.0, 2e6, 40.0,
                  57_400.0, None, 0.52, False, "7d", layer=REAL, positions=3,
                  coverage=0.2)  # fmt: skip
    assert store.record(KEY, [Checked(7, watch, [alert])], None, 60_000) == 1
    assert store.watches(KEY) == {7: watch}
    (row,) = Outbox(db).due(1_000)
    assert row.alert == alert and row.chat_id == 7
