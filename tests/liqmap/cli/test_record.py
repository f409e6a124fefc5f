"""``liqmap record`` and ``liqmap run`` recording liquidations against the fakes: in this process
(``tests.support.cli``), and stopped by SIGTERM as a process of its own."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from storage.database import open_database
from storage.stores import Stores
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.liquidation_ws import FakeBinanceWs, FakeBybitWs, FakeOkxWs, FakeWsServer, Liq
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import FAST, Gate, Liqmap, fast_process, run


@pytest.fixture
def sockets() -> Iterator[dict[str, FakeWsServer]]:
    """The three venues' websockets; Binance's sends each liquidation at once (its one a
    second is tested in test_liquidation_stream)."""
    fakes = {"okx": FakeOkxWs(), "binance": FakeBinanceWs(snapshot_ms=0), "bybit": FakeBybitWs()}
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture
def env(
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    sockets: dict[str, FakeWsServer],
    tmp_path: Path,
) -> dict[str, str]:
    """Settings reaching only the fakes."""
    urls = {"okx": okx.url, "binance": binance.url, "bybit": bybit.url}
    return {
        "LIQMAP_DB": str(tmp_path / "record.db"),
        **{f"LIQMAP_{name.upper()}_URL": url for name, url in urls.items()},
        **{f"LIQMAP_{name.upper()}_WS_URL": fake.url for name, fake in sockets.items()},
    }


def until(
    condition: Callable[[], bool], process: subprocess.Popen[str], within: float = 20
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"liqmap ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.02)


def stored(db: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT exchange, instrument, side, amount, usd FROM realized ORDER BY exchange"
        ).fetchall()


def test_record_for_a_while_stores_every_venue_and_sums_up(
    env: dict[str, str], sockets: dict[str, FakeWsServer], tmp_path: Path
) -> None:
    """``--for`` ends the recording when its time is up: here when the test opens the gate that
    stands for that time, once the venues have subscribed and their liquidations are stored
    (whatever the load on the machine, which a real second would not wait for)."""
    gate = Gate()
    args = ["record", "BTC", "all:ETH", "--for", "1"]
    with Liqmap(args, tmp_path, env, replace(FAST, sleep=gate)) as liqmap:
        liqmap.until(
            lambda: (
                sockets["okx"].subscriptions() == {"liquidation-orders:SWAP"}
                and sockets["binance"].subscriptions() == {"ethusdt@forceOrder"}
                and sockets["bybit"].subscriptions() == {"allLiquidation.ETHUSDT"}
            ),
            "every venue's subscription",
        )
        now = int(time.time() * 1000)
        sockets["okx"].push(
            Liq("BTC-USDT-SWAP", "long", 60_000.0, 10, now),
            Liq("ETH-USDT-SWAP", "short", 3_000, 5, now),
        )
        sockets["binance"].push(Liq("ETHUSDT", "long", 3_000.0, 1.5, now))
        sockets["bybit"].push(Liq("ETHUSDT", "short", 3_000.0, 0.5, now))
        liqmap.until(lambda: len(stored(env["LIQMAP_DB"])) == 4, "the liquidations stored")
        assert gate.asked == [1.0], "--for 1 waits one second"
        gate.open()
        result = liqmap.wait(30)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[0] == (
        "recording okx:BTC-USDT-SWAP, okx:ETH-USDT-SWAP, binance:ETHUSDT, bybit:ETHUSDT"
    )
    assert (
        "note: Binance publishes at most one liquidation per symbol a second, the latest" in lines
    )
    assert any(line.endswith("okx:BTC-USDT-SWAP: 1 liquidation (long $6.0K)") for line in lines)
    assert "okx:BTC-USDT-SWAP: 1 liquidation stored ($6.0K), watched" in out
    assert "binance:ETHUSDT: 1 liquidation stored ($4.5K)" in out
    assert sorted(stored(env["LIQMAP_DB"])) == [
        ("binance", "ETHUSDT", "long", 1.5, 4_500.0),
        ("bybit", "ETHUSDT", "short", 0.5, 1_500.0),
        ("okx", "BTC-USDT-SWAP", "long", 0.1, 6_000.0),
        ("okx", "ETH-USDT-SWAP", "short", 0.5, 1_500.0),
    ]


def test_record_stops_cleanly_on_sigterm(
    env: dict[str, str], sockets: dict[str, FakeWsServer], tmp_path: Path
) -> None:
    process = fast_process(["record", "bybit:BTC"], tmp_path, env)
    try:
        until(lambda: sockets["bybit"].subscriptions() == {"allLiquidation.BTCUSDT"}, process)
        sockets["bybit"].push(Liq("BTCUSDT", "long", 60_000.0, 0.2, int(time.time() * 1000)))
        until(lambda: bool(stored(env["LIQMAP_DB"])), process)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "bybit:BTCUSDT: 1 liquidation stored ($12.0K)" in out
    assert sockets["bybit"].connections == 0


def test_record_names_an_unknown_symbol(env: dict[str, str], tmp_path: Path) -> None:
    unknown = run(["record", "BTCC"], tmp_path, env, within=60)
    assert unknown.returncode == 1
    assert "unknown instrument BTCC on okx; did you mean BTC?" in unknown.stderr


def test_record_refuses_a_venue_whose_websocket_host_is_unknown(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Binance's REST goes to a fake, its websocket would go to the public host: not mixed."""
    without = {k: v for k, v in env.items() if k != "LIQMAP_BINANCE_WS_URL"}
    mixed = run(["record", "binance:BTC"], tmp_path, without, within=60)
    assert mixed.returncode == 2
    assert "set LIQMAP_BINANCE_WS_URL to record binance" in mixed.stderr


def test_run_records_what_chats_subscribe_to(
    env: dict[str, str], sockets: dict[str, FakeWsServer], tmp_path: Path
) -> None:
    with FakeTelegram() as tg:
        db = open_database(Path(env["LIQMAP_DB"]))
        stores = Stores(db, lambda: int(time.time() * 1000))
        stores.chats.seen(1001, "private", None)
        stores.chats.subscribe(1001, "binance:BTCUSDT", None)
        stores.close()
        db.close()
        telegram = {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url}
        with Liqmap(["run"], tmp_path, env | telegram) as liqmap:
            liqmap.until(
                lambda: sockets["binance"].subscriptions() == {"btcusdt@forceOrder"},
                "the subscribed instrument's subscription",
            )
            sockets["binance"].push(Liq("BTCUSDT", "short", 60_000.0, 0.1, int(time.time() * 1e3)))
            liqmap.until(lambda: bool(stored(env["LIQMAP_DB"])), "the liquidation stored")
            result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert stored(env["LIQMAP_DB"]) == [("binance", "BTCUSDT", "short", 0.1, 6_000.0)]
    assert sockets["binance"].connections == 0
    assert sockets["okx"].handshakes == 0, "nothing subscribed there"
