"""``liqmap map hyperliquid:BTC`` against the fake Hyperliquid, on the test's clock: no map
until two snapshots of open interest are recorded (Hyperliquid publishes no OI history), then
a map whose note says how many hours of recorded OI it stands on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from liqmap.market.timeframes import HOUR_MS
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.support.cli import FAST, run
from tests.support.recorded_oi import record_btc_open_interest


def test_a_hyperliquid_map_waits_for_two_recorded_snapshots_then_says_the_hours(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    tuning = replace(FAST, clock=clock)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(db_path)}
        args = ["map", "hyperliquid:BTC", "--window", "1d", "--json"]

        first = run(args, tmp_path, env, tuning)
        assert first.returncode == 1
        assert first.stderr == (
            "error: hyperliquid publishes no open-interest history; liqmap records it at each "
            "refresh of a watched instrument and has 0 snapshot(s) of BTC so far; a map needs "
            "at least 2\n"
        )
        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        clock.advance(HOUR_MS)
        assert "has 1 snapshot(s) of BTC" in run(args, tmp_path, env, tuning).stderr

        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        built = run(args, tmp_path, env, tuning)
    assert built.returncode == 0, built.stderr
    data = json.loads(built.stdout)
    assert data["source"] == "hyperliquid" and data["instrument"] == "BTC"
    assert data["notes"] == ["built from 1.0 h of recorded open interest (2 snapshots)"]


def test_fetch_hyperliquid_caches_the_candles_and_says_the_service_records_the_oi(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    tuning = replace(FAST, clock=clock)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(db_path)}
        args = ["fetch", "hyperliquid:BTC", "--window", "1d"]
        result = run(args, tmp_path, env, tuning)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "BTC on hyperliquid, 1d at 1m:"
        assert lines[1].startswith("  1,440 candles ")
        assert lines[2] == (
            "  open interest: hyperliquid publishes no history; liqmap run records it at each "
            "refresh of a watched instrument (0 snapshot(s) of BTC so far)"
        )
        assert lines[3:] == [f"  cached in {db_path}"]

        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        again = run(args, tmp_path, env, tuning)
    assert again.returncode == 0, again.stderr
    assert "(1 snapshot(s) of BTC so far)" in again.stdout
