"""``liqmap run`` as a process: serves the bot against the fakes and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http import free_port
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram

LIQMAP = str(Path(sys.executable).with_name("liqmap"))
ANN = 1001


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIQMAP_", "TELEGRAM_"))}
    return subprocess.Popen(
        [LIQMAP, "run"], env=clean | env, cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output


def test_run_serves_the_bot_and_stops_on_sigterm(
    tg: FakeTelegram, okx: FakeOkx, tmp_path: Path
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.url,
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_DB": str(tmp_path / "run.db"),
    }
    process = start(env, tmp_path)
    try:
        tg.user_sends(ANN, "/subscribe BTC 0.8")
        tg.wait_for_sync(lambda c: c["method"] == "sendMessage" and c["ok"], timeout=60)
        tg.user_sends(ANN, "/map BTC 1d")
        tg.wait_for_sync(lambda c: c["method"] == "sendPhoto" and c["ok"], timeout=60)
    finally:
        code, output = stop(process)
    assert code == 0, output
    assert "liqmap is running" in output and "liqmap stopped" in output
    assert tg.token not in output
    assert "Traceback" not in output
    # what the bot stored is in the database for the next start
    import sqlite3

    rows = (
        sqlite3.connect(tmp_path / "run.db")
        .execute("SELECT chat_id, instrument, distance_pct FROM subscriptions")
        .fetchall()
    )
    assert rows == [(ANN, "okx:BTC-USDT-SWAP", 0.8)]


def test_run_waits_for_an_unreachable_telegram_and_still_stops_cleanly(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token-abcdefghijklmnopqrstu",
        "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
        "LIQMAP_DB": str(tmp_path / "down.db"),
    }
    process = start(env, tmp_path)
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while not any("Telegram unreachable" in line for line in lines):
        assert time.monotonic() < deadline, "no retry was logged"
        lines.append(process.stdout.readline())
    code, output = stop(process, signal.SIGINT)
    assert code == 0, output
    assert env["TELEGRAM_BOT_TOKEN"] not in "".join(lines) + output


def test_run_refuses_a_rejected_token_without_printing_it(tg: FakeTelegram, tmp_path: Path) -> None:
    wrong = "999999:WRONG-token-abcdefghijklmnopqrst"
    env = {"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_URL": tg.url,
           "LIQMAP_DB": str(tmp_path / "x.db")}  # fmt: skip
    process = start(env, tmp_path)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN was rejected by Telegram" in output
    assert wrong not in output


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    process = start({"LIQMAP_DB": str(tmp_path / "x.db")}, tmp_path)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is required by liqmap run" in output
