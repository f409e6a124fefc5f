"""Open the SQLite file in WAL mode and bring its schema up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from liqmap.errors import ConfigError
from storage.migrations import MIGRATIONS


def open_database(path: Path | str) -> Database:
    """The database at ``path`` (created if new), migrated to the current schema."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database) -> None:
    """Apply every migration newer than the file's ``user_version``, each in a transaction."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise ConfigError(
            f"the database has schema version {current}, newer than this liqmap knows "
            f"({len(MIGRATIONS)}); upgrade liqmap or point LIQMAP_DB elsewhere"
        )
    for version, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.atomic():
            migration(db)
            db.execute(f"PRAGMA user_version = {version}")
