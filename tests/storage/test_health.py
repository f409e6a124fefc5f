"""The database check looks at the file without changing it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.database import open_database
from storage.health import check_database
from storage.migrations import MIGRATIONS


def test_a_database_as_liqmap_leaves_it_passes_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "liqmap.db"
    open_database(path).close()
    before = path.read_bytes()
    result = check_database(path)
    assert result.ok and result.name == "database"
    assert result.detail.startswith(f"{path}: schema {len(MIGRATIONS)}, ")
    assert result.detail.endswith(" kB, writable")
    assert path.read_bytes() == before


def test_the_write_lock_is_waited_for_as_long_as_asked(tmp_path: Path) -> None:
    path = tmp_path / "liqmap.db"
    open_database(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = check_database(path, busy_timeout_s=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not result.ok
    assert result.detail == f"{path}: locked by another process for more than 0.1 s"
    assert check_database(path).ok, "free again once released"
