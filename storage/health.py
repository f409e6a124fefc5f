"""Is the database file fit to serve? Looked at without changing it (``liqmap doctor``)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from liqmap.checks import CheckResult
from storage.database import trouble
from storage.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 2.0
"""How long the write check waits for another process's write lock; the service's own
transactions hold it far shorter."""


def check_database(path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> CheckResult:
    """The SQLite file at ``path``: intact, a schema this liqmap knows, writable. Unchanged:
    it is opened without migrating it, and its write lock is taken and rolled back (waiting up
    to ``busy_timeout_s`` for another process's)."""

    def fail(why: str) -> CheckResult:
        return CheckResult("database", False, f"{path}: {why}")

    def failed(exc: sqlite3.Error) -> CheckResult:
        return fail(trouble(exc, path, busy_timeout_s) or str(exc))

    if path.is_dir():
        return fail("a folder, not a database file")
    if not path.exists():
        return _missing_database(path)
    known = len(MIGRATIONS)
    try:
        # mode=rw: never create the file; isolation_level=None: transactions as written here
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=busy_timeout_s,
            isolation_level=None,
        )
    except sqlite3.Error as exc:
        return failed(exc)
    try:
        damage = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if damage != ["ok"]:
            more = f" (and {len(damage) - 1} more problems)" if len(damage) > 1 else ""
            return fail(f"damaged: PRAGMA quick_check found {damage[0]}{more}")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > known:
            return fail(
                f"schema {version} is newer than this liqmap knows ({known}); upgrade liqmap "
                "or point LIQMAP_DB elsewhere"
            )
        # A read-only file still grants the write lock: only a page write tells. Rolled back.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {version}")
    except sqlite3.Error as exc:
        return failed(exc)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
    schema = f"schema {version}"
    if version < known:
        schema += f" (will be migrated to {known} at start)"
    return CheckResult("database", True, f"{path}: {schema}, {_size(path)}, writable")


def _missing_database(path: Path) -> CheckResult:
    """No file yet: fine if ``liqmap run`` can create it."""
    folder = path.parent
    if not folder.is_dir():
        return CheckResult("database", False, f"{path}: no such file, and no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        return CheckResult(
            "database", False, f"{path}: no such file, and its folder {folder} is not writable"
        )
    return CheckResult(
        "database", True, f"{path}: not there yet; liqmap run creates it at first start"
    )


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    if size < 1_000_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e9:.1f} GB"
