"""A database file that cannot serve stops liqmap with one line naming LIQMAP_DB, path and cause
(the commands run in this process, through ``tests.support.cli``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from liqmap.errors import ConfigError
from storage import database as database_module
from storage.database import open_database
from storage.migrations import MIGRATIONS
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import Result, run


def missing_folder(tmp_path: Path) -> Path:
    return tmp_path / "nowhere" / "liqmap.db"


def a_folder(tmp_path: Path) -> Path:
    path = tmp_path / "liqmap.db"
    path.mkdir()
    return path


def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "liqmap.db"
    path.write_bytes(bytes(range(256)) * 40)
    return path


def a_text_file(tmp_path: Path) -> Path:
    path = tmp_path / "liqmap.db"
    path.write_text("LIQMAP_DB=liqmap.db\n")
    return path


def truncated(tmp_path: Path) -> Path:
    """A real SQLite file cut short after its first pages, as a failed copy leaves it."""
    path = tmp_path / "liqmap.db"
    db = open_database(path)
    db["filler"].insert_all({"x": "x" * 500} for _ in range(200))
    db.close()
    path.write_bytes(path.read_bytes()[: 4096 * 3])
    return path


def from_a_newer_liqmap(tmp_path: Path) -> Path:
    path = tmp_path / "liqmap.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    return path


Broken = Callable[[Path], Path]
NOT_SQLITE = "not a SQLite database (file is corrupt or of another kind)"
CASES: list[tuple[Broken, Callable[[Path], str]]] = [
    (missing_folder, lambda p: f"the folder {p.parent} does not exist"),
    (a_folder, lambda p: "a folder, not a database file"),
    (garbage, lambda p: NOT_SQLITE),
    (a_text_file, lambda p: NOT_SQLITE),
    (truncated, lambda p: "the file is corrupt (database disk image is malformed)"),
    (from_a_newer_liqmap, lambda p: f"the database has schema version {len(MIGRATIONS) + 1}, "
     f"newer than this liqmap knows ({len(MIGRATIONS)}); upgrade liqmap or point LIQMAP_DB "
     "elsewhere"),
]  # fmt: skip


@pytest.mark.parametrize(("broken", "cause"), CASES, ids=[c[0].__name__ for c in CASES])
def test_a_broken_file_is_named_with_its_cause(
    tmp_path: Path, broken: Broken, cause: Callable[[Path], str]
) -> None:
    path = broken(tmp_path)
    with pytest.raises(ConfigError) as error:
        open_database(path)
    assert str(error.value) == f"LIQMAP_DB {path}: {cause(path)}"


@contextlib.contextmanager
def really_read_only(path: Path) -> Iterator[None]:
    """Make a file or folder read-only for this process: chmod for a user, the immutable
    attribute for root (root ignores permissions, not ``chattr +i``); skip if neither works."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root, and chattr +i is not available to make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "liqmap.db"
    open_database(path).close()
    with really_read_only(path), pytest.raises(ConfigError) as error:
        open_database(path)
    assert str(error.value) == f"LIQMAP_DB {path}: read-only (attempt to write a readonly database)"


@pytest.mark.parametrize("exists", [True, False], ids=["existing file", "new file"])
def test_a_read_only_folder_is_named(tmp_path: Path, exists: bool) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "liqmap.db"
    if exists:
        open_database(path).close()  # closing removes -wal and -shm: the next open makes them
    made = "its -wal and -shm files" if exists else "the database file"
    with really_read_only(folder), pytest.raises(ConfigError) as error:
        open_database(path)
    assert str(error.value) == (
        f"LIQMAP_DB {path}: read-only folder {folder}: SQLite cannot create {made} there"
    )


def up_to_date(path: Path) -> None:
    open_database(path).close()


def older_schema(path: Path) -> None:
    db = Database(sqlite3.connect(path))
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.close()


def empty(path: Path) -> None:
    path.touch()


@pytest.mark.parametrize("make", [up_to_date, older_schema, empty])
def test_a_file_sqlite_can_only_read_is_refused_at_open_not_at_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], None]
) -> None:
    """Simulates a read-only file on any machine, root included: ``mode=ro`` opens the file the
    way SQLite falls back to when the system refuses write access (chmod 444, chattr +i, a
    read-only mount). An up-to-date file is only read while opening, so this checks the
    write probe too."""
    path = tmp_path / "liqmap.db"
    make(path)
    connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", lambda target, **kw: connect(f"file:{target}?mode=ro", uri=True, **kw)
    )
    with pytest.raises(ConfigError) as error:
        open_database(path)
    assert str(error.value) == f"LIQMAP_DB {path}: read-only (attempt to write a readonly database)"


@contextlib.contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """Another connection holding the write lock of ``path`` until the block ends, as another
    process would: SQLite keeps the locks of one process's connections apart too."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("make", [up_to_date, older_schema])
def test_a_file_locked_longer_than_the_timeout_is_named(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    path = tmp_path / "liqmap.db"
    make(path)
    with locked_by_another_process(path), pytest.raises(ConfigError) as error:
        open_database(path, busy_timeout_s=0.2)
    assert str(error.value) == f"LIQMAP_DB {path}: locked by another process for more than 0.2 s"
    db = open_database(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "usable once released"
    db.close()


def test_a_bug_in_a_migration_is_not_blamed_on_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def buggy(db: Database) -> None:
        db.execute("ALTER TABLE no_such_table ADD COLUMN x INTEGER")

    monkeypatch.setattr(database_module, "MIGRATIONS", [*MIGRATIONS, buggy])
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        open_database(tmp_path / "liqmap.db")


def assert_one_config_line(result: Result, path: Path) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: LIQMAP_DB {path}: ")


@pytest.mark.parametrize("broken", [c[0] for c in CASES], ids=[c[0].__name__ for c in CASES])
def test_fetch_stops_at_the_database_before_any_network(
    okx: FakeOkx, tmp_path: Path, broken: Broken
) -> None:
    path = broken(tmp_path)
    result = run(["fetch", "BTC"], tmp_path, {"LIQMAP_DB": str(path), "LIQMAP_OKX_URL": okx.url})
    assert_one_config_line(result, path)
    assert okx.count() == 0


def test_fetch_names_a_read_only_file(okx: FakeOkx, tmp_path: Path) -> None:
    path = tmp_path / "liqmap.db"
    open_database(path).close()
    with really_read_only(path):
        result = run(
            ["fetch", "BTC"], tmp_path, {"LIQMAP_DB": str(path), "LIQMAP_OKX_URL": okx.url}
        )
    assert_one_config_line(result, path)
    assert result.stderr.endswith(": read-only (attempt to write a readonly database)\n")
    assert okx.count() == 0


@pytest.mark.parametrize("broken", [missing_folder, garbage, from_a_newer_liqmap])
def test_run_stops_at_the_database_before_contacting_telegram(
    okx: FakeOkx, tmp_path: Path, broken: Broken
) -> None:
    path = broken(tmp_path)
    with FakeTelegram() as tg:
        env = {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_URL": tg.url,
               "LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(path)}  # fmt: skip
        result = run(["run"], tmp_path, env, within=60)
        assert tg.count() == 0
    assert_one_config_line(result, path)
    assert okx.count() == 0
