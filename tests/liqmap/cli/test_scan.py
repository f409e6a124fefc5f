"""``liqmap scan ADDRESS...`` against the fake Hyperliquid's accounts, on the test's clock:
one pass, largest known account first, the positions stored, and per coin the notional read
against the open interest."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from liqmap.formats import usd
from liqmap.market.timeframes import MINUTE_MS
from storage.database import open_database
from storage.positions import PositionStore
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
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
