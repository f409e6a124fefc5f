"""Max pain: the bin of most long USD below the price and most short USD above, everywhere
a map is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.texts.maps import map_caption
from liqmap.engine.clusters import LONG, SHORT
from liqmap.engine.max_pain import PainBin, max_pain
from liqmap.engine.snapshot import MapSnapshot
from tests.support.cli import run
from tests.support.data import HOURLY
from tests.support.maps import hand_map

# price 100; long USD below (and a larger bin above, which no fall reaches), short USD above
# (and a larger bin below, which no rise reaches)
LONGS = {240: 7.0, 220: 10.0, 221: 10.0, 260: 1000.0}
SHORTS = {280: 3.0, 281: 2.0, 200: 500.0}


def test_each_side_takes_its_largest_bin_the_nearest_on_a_tie() -> None:
    pain = max_pain(hand_map(LONGS, SHORTS))
    assert pain.long == PainBin(pytest.approx(97.1), pytest.approx(97.2), 10.0)
    assert pain.long.price == pytest.approx(97.15)
    assert pain.short == PainBin(pytest.approx(103.0), pytest.approx(103.1), 3.0)
    assert pain.as_json() == {
        LONG: {"price": pain.long.price, "low": pain.long.low, "high": pain.long.high,
               "usd": 10.0},
        SHORT: {"price": pain.short.price, "low": pain.short.low, "high": pain.short.high,
                "usd": 3.0},
    }  # fmt: skip


def test_a_side_without_liquidations_has_no_max_pain() -> None:
    pain = max_pain(hand_map(LONGS, {200: 500.0}))
    assert pain.short is None and pain.long is not None
    assert pain.as_json()["short"] is None
    assert max_pain(hand_map({}, {})).as_json() == {"long": None, "short": None}


def test_the_map_caption_names_both_bands() -> None:
    snapshot = MapSnapshot("BTC-USDT-SWAP", "okx", "7d", "5m", hand_map(LONGS, SHORTS), [])
    caption = map_caption(snapshot, 1_000, 0)
    assert "🎯 Max pain: longs <b>97.10–97.20</b> $10 · shorts <b>103.00–103.10</b> $3" in caption
    one_sided = MapSnapshot("X", "okx", "7d", "5m", hand_map(LONGS, {}), [])
    assert "· shorts none" in map_caption(one_sided, 1_000, 0)
    empty = MapSnapshot("X", "okx", "7d", "5m", hand_map({}, {}), [])
    assert "Max pain" not in map_caption(empty, 1_000, 0)


def test_map_json_has_max_pain_per_side(tmp_path: Path) -> None:
    result = run(["map", "BTC", "--csv", str(HOURLY), "--window", "7d",
                  "--at", "2026-03-19T11:00:00Z", "--json"], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    price, bins = data["price"], data["bins"]
    below = [usd for center, usd in zip(bins, data["long_usd"], strict=True) if center < price]
    above = [usd for center, usd in zip(bins, data["short_usd"], strict=True) if center > price]
    long, short = data["max_pain"]["long"], data["max_pain"]["short"]
    assert long["usd"] == pytest.approx(max(below), abs=0.01)
    assert short["usd"] == pytest.approx(max(above), abs=0.01)
    assert long["low"] < long["price"] < long["high"] <= price < short["low"] < short["price"]
