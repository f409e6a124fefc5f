"""``liqmap doctor`` run as a user runs it, against the fake exchanges and the fake Telegram: in
this process (``tests.support.cli``), and as a process of its own where its exit status is what
a HEALTHCHECK reads, or where it must run without root's right to write to read-only files."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from liqmap.market.timeframes import MINUTE_MS
from storage.database import open_database
from storage.heartbeat import beat, heartbeat_path
from storage.migrations import MIGRATIONS
from tests.conftest import NOON
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import IP_BAN, FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.http import free_port
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import FAST, LIQMAP, Result, clean_environ, run
from tests.support.service import wait

WRONG_TOKEN = "999999:WRONG-token-abcdefghijklmnopqrst"


def doctor(
    env: dict[str, str],
    cwd: Path,
    *args: str,
    verbose: bool = False,
    busy_timeout: float | None = None,
) -> Result:
    tuning = replace(FAST, database_busy_timeout=busy_timeout)
    return run([*(["-v"] if verbose else []), "doctor", *args], cwd, env, tuning)


def doctor_process(
    env: dict[str, str], cwd: Path, *args: str, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """``liqmap doctor`` as a process of its own, run under ``prefix`` if given."""
    command = [*prefix, LIQMAP, "doctor", *args]
    return subprocess.run(command, env=clean_environ() | env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def modes_bind() -> list[str] | None:
    """A command prefix under which a file's mode binds this user: nothing for most users;
    for root, ``setpriv`` dropping the capability to override it (None if it cannot)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override", "--inh-caps=-dac_override"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    return prefix if probe.returncode == 0 else None


def line(result: Result | subprocess.CompletedProcess[str], name: str) -> str:
    """The output line of check ``name``."""
    found = [text for text in result.stdout.splitlines() if text[6:].split(" ")[0] == name]
    assert len(found) == 1, result.stdout
    return found[0]


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database as ``liqmap run`` leaves it: every migration applied."""
    path = tmp_path / "liqmap.db"
    open_database(path).close()
    return path


@pytest.fixture
def env(
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    hyperliquid: FakeHyperliquid,
    tg: FakeTelegram,
    db_path: Path,
) -> dict[str, str]:
    """Settings reaching every fake: all checks pass."""
    return {
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_BINANCE_URL": binance.url,
        "LIQMAP_BYBIT_URL": bybit.url,
        "LIQMAP_HYPERLIQUID_URL": hyperliquid.url,
        "TELEGRAM_API_URL": tg.url,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "LIQMAP_DB": str(db_path),
    }


@pytest.mark.fixed_clock  # the fakes' markets stand still, so the price set here is served
def test_everything_reachable_passes_every_check(
    env: dict[str, str], okx: FakeOkx, tg: FakeTelegram, db_path: Path, tmp_path: Path
) -> None:
    okx.tape("BTC-USDT-SWAP").set_price(65432.1)
    result = doctor(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    names = ["config", "database", "okx", "binance", "bybit", "hyperliquid", "telegram"]
    assert all(line(result, name).startswith("ok    ") for name in names), result.stdout
    assert f"{db_path}: schema {len(MIGRATIONS)}," in line(result, "database")
    assert line(result, "database").endswith(", writable")
    assert "BTC-USDT-SWAP 65,432.10 (mark)" in line(result, "okx")
    assert "BTCUSDT" in line(result, "binance") and "BTCUSDT" in line(result, "bybit")
    hyperliquid_line = r"ok    hyperliquid 3 instruments; BTC [\d,]+\.\d\d \(last\)"
    assert re.fullmatch(hyperliquid_line, line(result, "hyperliquid"))
    assert "@liqmap_test_bot" in line(result, "telegram")
    assert result.stdout.splitlines()[-1] == "all checks passed"
    assert tg.token not in result.stdout + result.stderr


def test_a_rejected_token_fails_without_being_shown(env: dict[str, str], tmp_path: Path) -> None:
    result = doctor(env | {"TELEGRAM_BOT_TOKEN": WRONG_TOKEN}, tmp_path, verbose=True)
    assert result.returncode == 1
    assert line(result, "telegram").startswith("FAIL  telegram  the token was rejected")
    assert line(result, "okx").startswith("ok")
    assert WRONG_TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_token_fails_the_telegram_check_only(env: dict[str, str], tmp_path: Path) -> None:
    result = doctor(env | {"TELEGRAM_BOT_TOKEN": ""}, tmp_path)
    assert result.returncode == 1
    assert line(result, "telegram") == (
        "FAIL  telegram  TELEGRAM_BOT_TOKEN is not set (liqmap run needs it)"
    )
    assert result.stdout.splitlines()[-1] == "1 of 8 checks failed"


def test_an_unreachable_telegram_is_told_apart_from_a_rejected_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    result = doctor(env | {"TELEGRAM_API_URL": api}, tmp_path)
    assert result.returncode == 1
    assert line(result, "telegram").startswith(f"FAIL  telegram  Telegram not reachable at {api}")


@pytest.mark.parametrize("down", ["okx", "binance", "bybit", "hyperliquid"])
def test_an_unreachable_exchange_fails_alone(
    env: dict[str, str], tmp_path: Path, down: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = doctor(env | {f"LIQMAP_{down.upper()}_URL": url}, tmp_path)
    assert result.returncode == 1
    assert line(result, down) == f"{'FAIL':<6}{down:<9} not reachable at {url}"
    failed = [text for text in result.stdout.splitlines() if text.startswith("FAIL")]
    assert len(failed) == 1, result.stdout
    assert "Traceback" not in result.stderr


def test_a_bybit_ip_ban_fails_the_bybit_check_saying_until_when(
    bybit: FakeBybit, env: dict[str, str], tmp_path: Path
) -> None:
    bybit.inject(IP_BAN, "/v5/market/instruments-info", times=None)
    result = doctor(env, tmp_path)
    banned = r"IP banned by Bybit \(HTTP 403\), not called again until \d\d:\d\d UTC"
    assert re.fullmatch(
        f"FAIL  bybit     {banned} at {re.escape(bybit.url)}", line(result, "bybit")
    )
    asked = [tuple(sorted(r.query.items())) for r in bybit.seen()]
    assert len(asked) == len(set(asked)), "one load of the markets, not retried"


def test_offline_makes_no_network_request(
    env: dict[str, str],
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    tg: FakeTelegram,
    tmp_path: Path,
) -> None:
    result = doctor(env, tmp_path, "--offline")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = [text.split()[1] for text in result.stdout.splitlines()[:-1]]
    assert checks == ["config", "database", "service"]
    assert line(result, "service") == "ok    service   no heartbeat: liqmap run is not running here"
    assert okx.count() == binance.count() == bybit.count() == tg.count() == 0


def test_offline_passes_without_a_token_or_a_database_yet(
    env: dict[str, str], tmp_path: Path
) -> None:
    """What a container HEALTHCHECK sees before the first start has created the file: the
    exit status of the process."""
    new = tmp_path / "new.db"
    result = doctor_process(
        env | {"TELEGRAM_BOT_TOKEN": "", "LIQMAP_DB": str(new)}, tmp_path, "--offline"
    )
    assert result.returncode == 0, result.stdout
    assert line(result, "database") == (
        f"ok    database  {new}: not there yet; liqmap run creates it at first start"
    )
    assert not new.exists()


def test_offline_fails_when_the_service_stalled_saying_how_long_ago_it_beat(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    """A ``liqmap run`` whose event loop hangs stops beating: the container turns unhealthy."""
    beat(heartbeat_path(db_path), NOON - 5 * MINUTE_MS)
    stalled = run(["doctor", "--offline"], tmp_path, env, replace(FAST, clock=Clock(NOON)))
    assert stalled.returncode == 1
    assert line(stalled, "service") == (
        "FAIL  service   liqmap run last beat 300 s ago (stalled: more than 90 s); restart it"
    )
    beat(heartbeat_path(db_path), NOON - 20_000)
    alive = run(["doctor", "--offline"], tmp_path, env, replace(FAST, clock=Clock(NOON)))
    assert alive.returncode == 0, alive.stdout
    assert line(alive, "service") == "ok    service   liqmap run beat 20 s ago"


def test_bad_configuration_is_a_failed_check_not_a_crash(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = doctor(env | {"LIQMAP_REFRESH_SECONDS": "abc"}, tmp_path)
    assert result.returncode == 1
    assert line(result, "config") == (
        "FAIL  config    LIQMAP_REFRESH_SECONDS must be a positive number of seconds, got 'abc'"
    )
    assert result.stdout.splitlines()[-1] == "1 check failed; the others need a valid configuration"
    assert "Traceback" not in result.stderr
    assert env["TELEGRAM_BOT_TOKEN"] not in result.stdout + result.stderr


def test_a_corrupt_database_fails_naming_its_path(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    db_path.write_bytes(b"these bytes are no SQLite database " * 200)
    result = doctor(env, tmp_path, "--offline")
    assert result.returncode == 1
    assert line(result, "database") == (
        f"FAIL  database  {db_path}: not a SQLite database (file is corrupt or of another kind)"
    )


def test_a_locked_database_fails_as_locked(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = doctor(env, tmp_path, "--offline", busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert line(result, "database").startswith(
        f"FAIL  database  {db_path}: locked by another process"
    )


def test_a_read_only_database_fails_as_read_only(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    prefix = modes_bind()
    if prefix is None:
        pytest.skip("root writes to read-only files, and setpriv cannot drop that right here")
    db_path.chmod(0o444)
    result = doctor_process(env, tmp_path, "--offline", prefix=prefix)
    assert result.returncode == 1
    assert line(result, "database").startswith(f"FAIL  database  {db_path}: read-only")


def test_a_database_from_a_newer_liqmap_fails(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    set_schema(db_path, len(MIGRATIONS) + 1)
    result = doctor(env, tmp_path, "--offline")
    assert result.returncode == 1
    assert line(result, "database") == (
        f"FAIL  database  {db_path}: schema {len(MIGRATIONS) + 1} is newer than this liqmap "
        f"knows ({len(MIGRATIONS)}); upgrade liqmap or point LIQMAP_DB elsewhere"
    )


def test_an_older_database_passes_and_is_left_unmigrated(
    env: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    set_schema(db_path, 3)
    before = db_path.read_bytes()
    result = doctor(env, tmp_path, "--offline")
    assert result.returncode == 0, result.stdout
    assert f"schema 3 (will be migrated to {len(MIGRATIONS)} at start)" in line(result, "database")
    assert db_path.read_bytes() == before


def test_a_database_in_a_missing_folder_fails(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "liqmap.db"
    result = doctor(env | {"LIQMAP_DB": str(path)}, tmp_path, "--offline")
    assert result.returncode == 1
    assert line(result, "database") == (
        f"FAIL  database  {path}: no such file, and no folder {path.parent}"
    )


def set_schema(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def set_webhook(tg: FakeTelegram, url: str) -> None:
    """Set the fake's webhook as a client would (a form POST of setWebhook)."""
    import urllib.parse
    import urllib.request

    form = urllib.parse.urlencode({"url": url, "secret_token": "s3cret"}).encode()
    with urllib.request.urlopen(f"{tg.url}{tg.path('setWebhook')}", form, timeout=10) as answer:
        assert answer.status == 200


def test_in_webhook_mode_the_webhook_is_checked_with_telegram(
    env: dict[str, str], tg: FakeTelegram, tmp_path: Path
) -> None:
    url = "https://bot.example.test/liqmap-hook"
    webhook_env = env | {"LIQMAP_WEBHOOK_URL": url, "LIQMAP_WEBHOOK_SECRET": "Wh-secret_0123"}
    polling = doctor(env, tmp_path)
    assert "webhook" not in [text[6:].split(" ")[0] for text in polling.stdout.splitlines()]

    unset = doctor(webhook_env, tmp_path)
    assert line(unset, "webhook") == "ok    webhook   not set yet: liqmap run sets it at start"

    set_webhook(tg, url)
    idle = doctor(webhook_env, tmp_path)
    assert line(idle, "webhook") == f"ok    webhook   Telegram posts to {url}; 0 update(s) waiting"

    tg.user_sends(1001, "/start")  # the fake has no route to the bot: the post fails
    wait(lambda: bool(tg.webhook_posts()), "a failed post")
    stuck = doctor(webhook_env, tmp_path)
    assert stuck.returncode == 1
    assert line(stuck, "webhook").startswith(f"FAIL  webhook   1 update(s) waiting at {url}; "
                                             "Telegram's last post failed: ")  # fmt: skip

    set_webhook(tg, "https://elsewhere.example.test/hook")
    taken = doctor(webhook_env, tmp_path)
    assert "Telegram posts to https://elsewhere.example.test/hook, not LIQMAP_WEBHOOK_URL" in (
        line(taken, "webhook")
    )
    assert "Wh-secret_0123" not in unset.stdout + idle.stdout + stuck.stdout + taken.stdout
