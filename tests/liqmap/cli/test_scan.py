"""``liqmap scan ADDRESS...`` against the fake Hyperliquid's accounts, on the test's clock:
one pass, largest known account first, the positions stored, and per coin the notional read
against the open interest; ``--discover``: accounts found on the fake websocket's trades and
the fake leaderboard first, the largest read, a leaderboard that is gone a note."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from liqmap.formats import usd
from liqmap.market.timeframes import MINUTE_MS
from storage.database import open_database
from storage.positions import PositionStore
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.http import Fault, free_port
from tests.fakes.hyperliquid import LEADERBOARD_PATH, FakeHyperliquid
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs
from tests.support.cli import FAST, run


def _notional(fake: FakeHyperliquid, addresses: list[str], coin: str, long: bool) -> float:
    mark = fake.tape(coin).last_price()
    return sum(
        abs(p.szi) * mark
        for a in addresses
        for p in fake.accounts[a]
        if p.coin == coin and (p.szi > 0) == long
    )


def _account_notional(fake: FakeHyperliquid, address: str) -> float:
    return sum(
        _notional(fake, [address], coin, long)
        for coin in ("BTC", "ETH", "SOL")
        for long in (True, False)
    )


def test_a_scan_reads_each_account_once_and_prints_the_coverage_per_coin(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    tuning = replace(FAST, clock=clock)
    with FakeHyperliquid(clock=clock) as fake:
        addresses = fake.open_accounts(4)
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        first = run(["scan", *addresses], tmp_path, env, tuning)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert lines[0] == "pass 1: 4 account(s) read, 0 position(s) skipped"
        for coin in ("BTC", "ETH", "SOL"):
            holders = [a for a in addresses if any(p.coin == coin for p in fake.accounts[a])]
            held = sum(1 for a in holders for p in fake.accounts[a] if p.coin == coin)
            long = _notional(fake, addresses, coin, long=True)
            short = _notional(fake, addresses, coin, long=False)
            oi = fake.tape(coin).open_interest_now()
            line = next(x for x in lines if x.startswith(f"{coin} "))
            assert line.startswith(
                f"{coin:<6} {len(holders)} account(s), {held} position(s), "
                f"long {usd(long)}, short {usd(short)}, coverage "
            ), line
            shown = float(line.split("coverage ")[1].split("%")[0])
            assert shown == pytest.approx(100 * (long + short) / oi, abs=0.006)
        asked = [json.loads(r.body) for r in fake.seen("/info")]
        users = [a["user"] for a in asked if a["type"] == "clearinghouseState"]
        assert sorted(users) == sorted(addresses), "each account read once"

        largest = max(addresses, key=lambda a: _account_notional(fake, a))
        assert largest != addresses[0]
        clock.advance(MINUTE_MS)
        fake.reset_log()
        second = run(["scan", addresses[0], largest, "--coin", "btc"], tmp_path, env, tuning)
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines()[0].startswith("pass 2: 2 account(s) read")
        assert all(not x.startswith(("ETH", "SOL")) for x in second.stdout.splitlines())
        asked = [json.loads(r.body) for r in fake.seen("/info")]
        users = [a["user"] for a in asked if a["type"] == "clearinghouseState"]
        assert users[0] == largest, "the largest known account first"

    db = open_database(tmp_path / "live.db")
    try:
        stale = {k.position.address for k in PositionStore(db).positions() if k.stale}
        last = PositionStore(db).last_pass()
    finally:
        db.close()
    assert stale == set(addresses) - {addresses[0], largest}
    assert last is not None and (last.id, last.accounts, last.weight) == (2, 2, 4.0)
    assert last.finished_ms == NOON + MINUTE_MS, "each pass of the command is finished"


def test_an_address_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["scan", "0x123"], tmp_path, {"LIQMAP_DB": str(tmp_path / "x.db")})
    assert result.returncode == 2
    assert "not an address (0x and 40 hex digits): '0x123'" in result.stderr


def test_an_account_that_never_traded_is_read_and_holds_nothing(tmp_path: Path) -> None:
    clock = Clock(NOON)
    with FakeHyperliquid(clock=clock) as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        result = run(["scan", "0x" + "E" * 40], tmp_path, env, replace(FAST, clock=clock))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "pass 1: 1 account(s) read, 0 position(s) skipped",
        "no open positions",
    ]


def _stored(db_path: Path) -> dict[str, float]:
    """The addresses the database knows, with their size."""
    if not db_path.exists():
        return {}
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT address, notional FROM scan_addresses").fetchall())
    except sqlite3.OperationalError:  # the schema is not there yet
        return {}
    finally:
        conn.close()


def _trading(
    ws: FakeHyperliquidWs, db_path: Path, among: list[str], published: list[dict]
) -> Callable[[float], Awaitable[None]]:
    """``--discover``'s wait: once the command listens to BTC's trades, five trades among
    ``among``, until their accounts are stored (the wait's length is not the test's)."""

    async def sleep(seconds: float) -> None:
        deadline = time.monotonic() + 60
        while "trades:BTC" not in ws.subscriptions():
            assert time.monotonic() < deadline, "never subscribed"
            await asyncio.sleep(0.01)
        published.extend(ws.publish("BTC", 5, among=among))
        users = {u for t in published for u in t["users"]}
        while not users <= set(_stored(db_path)):
            assert time.monotonic() < deadline, "the trades' accounts were never stored"
            await asyncio.sleep(0.01)

    return sleep


def test_scan_discover_finds_accounts_on_trades_and_the_leaderboard_and_reads_the_largest(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake, FakeHyperliquidWs(fake) as ws:
        fake.leaders = fake.open_accounts(3, seed=1)
        traders = fake.open_accounts(6, seed=2)
        published: list[dict] = []
        tuning = replace(FAST, clock=clock, sleep=_trading(ws, db_path, traders, published))
        env = {
            "LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_HYPERLIQUID_WS_URL": ws.url,
            "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": fake.leaderboard_url,
            "LIQMAP_DB": str(db_path),
        }  # fmt: skip
        found = _stored(db_path) or {}
        result = run(["scan", "--discover", "30", "--coin", "BTC", "--limit", "4"],
                     tmp_path, env, tuning)  # fmt: skip
        assert result.returncode == 0, result.stderr
        users = {u for t in published for u in t["users"]}
        lines = result.stdout.splitlines()
        assert lines[:4] == [
            "listening to the trades of BTC for 30 s",
            f"trades: {len(users)} new address(es) on 5 trade(s)",
            "leaderboard: 3 new address(es) of 3 listed",
            "pass 1: 4 account(s) read, 0 position(s) skipped",
        ]
        asked = [json.loads(r.body) for r in fake.seen("/info")]
        read = [a["user"] for a in asked if a["type"] == "clearinghouseState"]
    assert found == {}
    sizes = {a: float(fake.state(a)["marginSummary"]["accountValue"]) for a in fake.leaders}
    for address in users:
        sizes[address] = max(float(t["px"]) * float(t["sz"]) for t in published
                             if address in t["users"])  # fmt: skip
    # ties (a trade's buyer and seller) go by address: all were seen at the same time
    largest = sorted(sizes, key=lambda a: (-sizes[a], a))[:4]
    assert read == largest, "the four largest, largest first"
    stored = _stored(db_path)
    assert set(stored) == set(sizes)
    for address in read:
        assert stored[address] == pytest.approx(_account_notional(fake, address))


@pytest.mark.parametrize("board", ["404", "refused", "malformed"])
def test_scan_discover_without_a_leaderboard_notes_it_and_scans_the_trades(
    tmp_path: Path, board: str
) -> None:
    clock = Clock(NOON)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake, FakeHyperliquidWs(fake) as ws:
        traders = fake.open_accounts(5)
        url = fake.leaderboard_url
        if board == "404":
            fake.inject(Fault(status=404, body="Not Found"), LEADERBOARD_PATH, times=None)
        elif board == "malformed":
            fake.inject(Fault(status=200, body="[]", content_type="application/json"),
                        LEADERBOARD_PATH, times=None)  # fmt: skip
        else:
            url = f"http://127.0.0.1:{free_port()}/Mainnet/leaderboard"
        published: list[dict] = []
        tuning = replace(FAST, clock=clock, sleep=_trading(ws, db_path, traders, published))
        env = {
            "LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_HYPERLIQUID_WS_URL": ws.url,
            "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": url, "LIQMAP_DB": str(db_path),
        }  # fmt: skip
        result = run(["scan", "--discover", "5"], tmp_path, env, tuning)
    assert result.returncode == 0, result.stderr
    users = {u for t in published for u in t["users"]}
    lines = result.stdout.splitlines()
    note = {
        "404": "the leaderboard answered HTTP 404",
        "malformed": "the leaderboard answered without leaderboardRows",
        "refused": "the leaderboard is not reachable (",
    }[board]
    assert lines[0] == "listening to the trades of BTC, ETH, SOL for 5 s"
    assert lines[1] == f"trades: {len(users)} new address(es) on 5 trade(s)"
    assert lines[2].startswith(f"leaderboard: none; note: {note}")
    assert lines[3] == f"pass 1: {len(users)} account(s) read, 0 position(s) skipped"
    assert "error" not in result.stderr.lower() and "Traceback" not in result.stderr


def test_scan_discover_with_the_leaderboard_turned_off_says_so(tmp_path: Path) -> None:
    clock = Clock(NOON)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake, FakeHyperliquidWs(fake) as ws:
        traders = fake.open_accounts(3)
        published: list[dict] = []
        tuning = replace(FAST, clock=clock, sleep=_trading(ws, db_path, traders, published))
        env = {
            "LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_HYPERLIQUID_WS_URL": ws.url,
            "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": "", "LIQMAP_DB": str(db_path),
        }  # fmt: skip
        result = run(["scan", "--discover", "5", "--coin", "btc"], tmp_path, env, tuning)
        assert fake.count(LEADERBOARD_PATH) == 0
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == (
        "leaderboard: not asked (LIQMAP_HYPERLIQUID_LEADERBOARD_URL is empty)"
    )


def test_scan_needs_addresses_or_discover_and_a_listed_coin(tmp_path: Path) -> None:
    result = run(["scan"], tmp_path, {"LIQMAP_DB": str(tmp_path / "x.db")})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "liqmap scan: error: give ADDRESS... or --discover SECONDS; see liqmap scan -h"
    )
    limit = run(["scan", "--discover", "1", "--limit", "0"], tmp_path, {})
    assert limit.returncode == 2 and "must be a whole number from 1, got '0'" in limit.stderr
    with FakeHyperliquid() as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(tmp_path / "x.db")}
        unknown = run(["scan", "--discover", "1", "--coin", "DOGE"], tmp_path, env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: unknown instrument DOGE on hyperliquid"


def test_scan_discover_with_the_trades_unreachable_says_why_and_still_scans(
    tmp_path: Path,
) -> None:
    async def a_second(seconds: float) -> None:  # the refused connection takes a millisecond
        await asyncio.sleep(1.0)

    with FakeHyperliquid() as fake:
        fake.leaders = fake.open_accounts(2)
        env = {
            "LIQMAP_HYPERLIQUID_URL": fake.url,
            "LIQMAP_HYPERLIQUID_WS_URL": f"ws://127.0.0.1:{free_port()}",
            "LIQMAP_HYPERLIQUID_LEADERBOARD_URL": fake.leaderboard_url,
            "LIQMAP_DB": str(tmp_path / "live.db"),
        }
        result = run(["scan", "--discover", "1"], tmp_path, env, replace(FAST, sleep=a_second))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "trades: 0 new address(es) on 0 trade(s)"
    ws_url = env["LIQMAP_HYPERLIQUID_WS_URL"]
    assert lines[2].startswith(f"note: trades: cannot connect to {ws_url}/ws: ")
    assert lines[3:5] == [
        "leaderboard: 2 new address(es) of 2 listed",
        "pass 1: 2 account(s) read, 0 position(s) skipped",
    ]
