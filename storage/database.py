"""Open the SQLite file in WAL mode and bring its schema up to date."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from liqmap.errors import ConfigError
from storage.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 30.0
"""How long a statement waits for another process's lock before giving up."""
WAL_SIZE_LIMIT = 8_000_000
"""Bytes the -wal file is cut back to once checkpointed: it grows to hold the largest
transaction (a first prune, a flood of new rows) and would otherwise keep that size."""


def open_database(path: Path | str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Database:
    """The database at ``path`` (created if new), migrated to the current schema and writable.

    A file that cannot serve (missing folder, a folder, not SQLite, read-only, locked, from a
    newer liqmap) raises ``ConfigError`` with one line naming ``LIQMAP_DB``, the path and the
    cause. Other SQLite errors (our own bugs) surface as they are.
    """
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_s, check_same_thread=False)
        db = Database(conn)
        if str(path) != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
        _check_writable(db)
    except ConfigError as exc:  # a file from a newer liqmap
        db.close()
        raise ConfigError(f"LIQMAP_DB {path}: {exc}") from None
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        cause = trouble(exc, Path(path), busy_timeout_s)
        if cause is None:
            raise
        raise ConfigError(f"LIQMAP_DB {path}: {cause}") from None
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


def _check_writable(db: Database) -> None:
    """Write one page and roll it back: an up-to-date file is only read above, and a read-only
    file in WAL mode fails only at its first page write, not when the write lock is taken."""
    db.execute("BEGIN IMMEDIATE")
    db.execute(f"PRAGMA user_version = {schema_version(db)}")
    db.execute("ROLLBACK")


def trouble(exc: sqlite3.Error, path: Path, busy_timeout_s: float) -> str | None:
    """What is wrong with the file, in a few words; None for errors that are not the file's
    (also what ``liqmap doctor`` says of it)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary == sqlite3.SQLITE_CANTOPEN:
        return _cannot_open(path, exc)
    if primary == sqlite3.SQLITE_NOTADB:
        return "not a SQLite database (file is corrupt or of another kind)"
    if primary == sqlite3.SQLITE_CORRUPT:
        return f"the file is corrupt ({exc})"
    if code == sqlite3.SQLITE_READONLY_DIRECTORY:
        return f"read-only folder {path.parent}: SQLite cannot create its -wal and -shm files there"
    if primary == sqlite3.SQLITE_READONLY:
        return f"read-only ({exc})"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"locked by another process for more than {busy_timeout_s:g} s"
    if primary == sqlite3.SQLITE_FULL:
        return f"the disk is full ({exc})"
    if primary == sqlite3.SQLITE_IOERR:
        return f"input/output error ({exc})"
    if primary == sqlite3.SQLITE_PERM:
        return f"permission denied ({exc})"
    return None


def _cannot_open(path: Path, exc: sqlite3.Error) -> str:
    """Why SQLite could not open ``path``, found by looking at the file system."""
    folder = path.parent
    if path.is_dir():
        return "a folder, not a database file"
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK):
        made = "the database file" if not path.exists() else "its -wal and -shm files"
        return f"read-only folder {folder}: SQLite cannot create {made} there"
    if path.exists() and not os.access(path, os.R_OK):
        return f"permission denied ({exc})"
    return f"cannot open ({exc})"
