"""``liqmap map hyperliquid:BTC`` with the positions ``liqmap scan`` stored in ``LIQMAP_DB``:
the summary gives the real layer beside the clusters, and ``--json`` its USD per bin on the
map's bins, equal to the stored positions binned, with the coverage; an OKX map's real fields
are null."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from liqmap.charts.map_chart import REAL
from liqmap.formats import usd
from liqmap.market.timeframes import HOUR_MS
from storage.database import open_database
from storage.positions import PositionStore
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx
from tests.support.cli import FAST, run
from tests.support.png import colour_pixels
from tests.support.recorded_oi import record_btc_open_interest

REAL_FIELDS = (
    "real_long_usd", "real_short_usd", "coverage", "real_positions", "real_stale", "real_read_ms"
)  # fmt: skip


def test_the_map_gives_the_scanned_positions_binned_with_coverage_and_stale_ones(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    tuning = replace(FAST, clock=clock)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(db_path)}
        addresses = fake.open_accounts(60)
        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        clock.advance(HOUR_MS)
        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        open_interest = fake.tape("BTC").open_interest_now()
        first = run(["scan", *addresses], tmp_path, env, tuning)
        assert first.returncode == 0, first.stderr
        clock.advance(60_000)
        again = run(["scan", *addresses[:30]], tmp_path, env, tuning)
        assert again.returncode == 0, again.stderr
        args = ["map", "hyperliquid:BTC", "--window", "1d"]
        built = run([*args, "--json"], tmp_path, env, tuning)
        assert built.returncode == 0, built.stderr
        text = run([*args, "--out", str(tmp_path / "btc.png")], tmp_path, env, tuning)
        assert text.returncode == 0, text.stderr
    data = json.loads(built.stdout)
    known = PositionStore(open_database(db_path)).positions("BTC")
    assert any(k.stale for k in known) and not all(k.stale for k in known)

    width = data["bin_width"]
    edges = np.append(np.array(data["bins"]) - width / 2, data["bins"][-1] + width / 2)
    inside = [
        k for k in known
        if k.position.liquidation is not None and edges[0] <= k.position.liquidation < edges[-1]
    ]  # fmt: skip
    assert inside, "the fake's positions liquidate within the map"
    for side, field in (("long", "real_long_usd"), ("short", "real_short_usd")):
        mine = [k.position for k in inside if k.position.side == side]
        expected = np.zeros(len(data["bins"]))
        np.add.at(
            expected, np.searchsorted(edges, [p.liquidation for p in mine], "right") - 1,
            [p.value for p in mine],
        )  # fmt: skip
        assert len(data[field]) == len(data["bins"])
        np.testing.assert_allclose(data[field], expected, atol=0.01)
        assert sum(data[field]) == pytest.approx(sum(p.value for p in mine), abs=0.5)
    assert data["coverage"] == pytest.approx(
        sum(k.position.value for k in known) / open_interest, rel=1e-3
    )
    assert data["real_positions"] == len(inside)
    assert data["real_stale"] == sum(1 for k in inside if k.stale) > 0
    assert data["real_read_ms"] == min(k.position.read_ms for k in inside) == NOON + HOUR_MS

    lines = text.stdout.splitlines()
    total = sum(k.position.value for k in inside)
    real = next(line for line in lines if line.startswith("real positions: "))
    assert real.startswith(f"real positions: {len(inside):,} liquidate on this map, {usd(total)}")
    assert real.endswith(f"; scanned {data['coverage']:.1%} of open interest")
    assert any(
        line.startswith("real positions read ") and line.endswith(
            f", {data['real_stale']:,} stale (not in the latest scan pass)"
        )
        for line in lines
    )  # fmt: skip
    assert any(line.startswith("densest real: longs ") for line in lines)
    assert lines[1] == "no open-interest build-up in this window: nothing to map", (
        "two snapshots of open interest an hour apart: the estimate is empty, the real layer not"
    )
    assert lines.index(real) == 2 and lines[5].startswith("note: built from 1.0 h")
    assert colour_pixels((tmp_path / "btc.png").read_bytes(), REAL) > 100, "the chart draws it"


def test_before_any_scan_the_summary_says_how_to_start_and_the_json_is_null(
    tmp_path: Path,
) -> None:
    clock = Clock(NOON)
    tuning = replace(FAST, clock=clock)
    db_path = tmp_path / "live.db"
    with FakeHyperliquid(clock=clock) as fake:
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(db_path)}
        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        clock.advance(HOUR_MS)
        assert record_btc_open_interest(fake.url, db_path, clock) == 1
        args = ["map", "hyperliquid:BTC", "--window", "1d"]
        built = run([*args, "--json"], tmp_path, env, tuning)
        text = run([*args, "--out", str(tmp_path / "btc.png")], tmp_path, env, tuning)
    assert {name: json.loads(built.stdout)[name] for name in REAL_FIELDS} == dict.fromkeys(
        REAL_FIELDS
    )
    assert (
        "real positions: none of BTC scanned yet (liqmap scan ADDRESS, or liqmap run for a "
        "watched instrument)"
    ) in text.stdout.splitlines()


def test_a_map_of_a_venue_that_hides_positions_has_null_real_fields(tmp_path: Path) -> None:
    with FakeOkx() as okx:
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        built = run(["map", "ETH", "--window", "1d", "--json"], tmp_path, env)
        text = run(["map", "ETH", "--window", "1d"], tmp_path, env)
    assert built.returncode == 0, built.stderr
    data = json.loads(built.stdout)
    assert {name: data[name] for name in REAL_FIELDS} == dict.fromkeys(REAL_FIELDS)
    assert "real" not in text.stdout
    assert colour_pixels((tmp_path / "ETH-USDT-SWAP-1d.png").read_bytes(), REAL) == 0
