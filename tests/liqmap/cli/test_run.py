"""``liqmap run``: serves the bot against the fakes and stops cleanly: on SIGTERM as a process of
its own, else in this process (``tests.support.cli``); the exchanges and Telegram retried and
paced fast in both."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http import Fault, free_port
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import Liqmap, fast_process, run
from tests.support.service import MARKS, wait

ANN = 1001


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def test_run_serves_the_bot_and_stops_on_sigterm(
    tg: FakeTelegram, okx: FakeOkx, tmp_path: Path
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.url,
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_DB": str(tmp_path / "run.db"),
    }
    process = fast_process(["run"], tmp_path, env)
    try:
        tg.user_sends(ANN, "/subscribe BTC 0.8")
        tg.wait_for_sync(lambda c: c["method"] == "sendMessage" and c["ok"], timeout=60)
        tg.user_sends(ANN, "/map BTC 1d")
        tg.wait_for_sync(lambda c: c["method"] == "sendPhoto" and c["ok"], timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "liqmap is running" in output and "liqmap stopped" in output
    assert tg.token not in output
    assert "Traceback" not in output
    # what the bot stored is in the database for the next start
    rows = (
        sqlite3.connect(tmp_path / "run.db")
        .execute("SELECT chat_id, instrument, distance_pct FROM subscriptions")
        .fetchall()
    )
    assert rows == [(ANN, "okx:BTC-USDT-SWAP", 0.8)]


def test_sigterm_during_a_watch_run_stops_quietly_and_in_order(
    tg: FakeTelegram, okx: FakeOkx, tmp_path: Path
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.url,
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_DB": str(tmp_path / "run.db"),
        "LIQMAP_PRICE_SECONDS": "0.2",
    }
    process = fast_process(["run"], tmp_path, env)
    try:
        tg.user_sends(ANN, "/subscribe BTC 0.8")
        tg.wait_for_sync(lambda c: c["method"] == "sendMessage" and c["ok"], timeout=60)
        # OKX holds its price answers: the next watch run waits on one
        okx.inject(Fault(delay=20.0), MARKS, times=None)
        held = okx.count(MARKS)
        wait(lambda: okx.count(MARKS) > held, "a watch run waiting on OKX")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output and "CancelledError" not in output, output
    assert "liqmap stopped" in output
    ours = [line.split(" liqmap: ")[-1] for line in output.splitlines() if " liqmap: " in line]
    assert ours[-4:] == [
        "stopping: no new updates",
        "stopping: jobs stopped",
        "stopping: exchanges closed",
        "liqmap stopped",
    ], output
    assert "watch job cancelled at shutdown" in output


def test_run_waits_for_an_unreachable_telegram_and_still_stops_cleanly(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token-abcdefghijklmnopqrstu",
        "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
        "LIQMAP_DB": str(tmp_path / "down.db"),
    }
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: "Telegram unreachable" in liqmap.output(), "a retry logged")
        result = liqmap.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert env["TELEGRAM_BOT_TOKEN"] not in output


def test_run_refuses_a_rejected_token_without_printing_it(tg: FakeTelegram, tmp_path: Path) -> None:
    wrong = "999999:WRONG-token-abcdefghijklmnopqrst"
    env = {"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_URL": tg.url,
           "LIQMAP_DB": str(tmp_path / "x.db")}  # fmt: skip
    result = run(["run"], tmp_path, env, within=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN was rejected by Telegram" in output
    assert wrong not in output


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, {"LIQMAP_DB": str(tmp_path / "x.db")}, within=60)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is required by liqmap run" in result.stdout + result.stderr


def test_run_scans_the_known_hyperliquid_accounts_while_a_chat_watches_one(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    from storage.database import open_database
    from tests.fakes.hyperliquid import FakeHyperliquid

    with FakeHyperliquid() as hyperliquid:
        addresses = hyperliquid.open_accounts(3, seed=21)
        db = open_database(tmp_path / "run.db")
        for address in addresses:
            db.execute(
                "INSERT INTO scan_addresses (address, last_seen_ms, notional) VALUES (?, 0, 1)",
                [address],
            )
        db.close()
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_URL": tg.url,
            "LIQMAP_HYPERLIQUID_URL": hyperliquid.url,
            "LIQMAP_DB": str(tmp_path / "run.db"),
            "LIQMAP_SCAN_SECONDS": "1",
        }
        process = fast_process(["run"], tmp_path, env)
        try:
            tg.user_sends(ANN, "/subscribe hyperliquid:BTC")
            tg.wait_for_sync(lambda c: c["method"] == "sendMessage" and c["ok"], timeout=60)
            wait(lambda: hyperliquid.info_types().count("clearinghouseState") >= 3, "a pass")
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert "scan pass 1: 3 accounts read" in output, output
    with sqlite3.connect(tmp_path / "run.db") as conn:
        held = {row[0] for row in conn.execute("SELECT address FROM scan_positions")}
    assert held == set(addresses)
