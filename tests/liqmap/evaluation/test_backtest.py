"""The walk-forward measurement: its statistics, and the figures on the shared hourly file.

The figures are measured on the file's first 1,200 hours (50 days: a week of warm-up, then
774 hours to fit and 258 to check), the whole file with ``LIQMAP_TEST_SIZE=full``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqmap.engine.model import FIVE_TIERS, Formula, ModelParams
from liqmap.engine.series import Candles, Liquidations, OpenInterest
from liqmap.evaluation.backtest import (
    backtest,
    cluster_lift,
    partial_spearman,
    ranks,
    spearman,
    venue_scores,
    walk_forward,
)
from liqmap.exchanges.csv_source import CsvHistory, load_csv
from liqmap.market.venue_split import scaled, venue_params, venue_slices
from tests.support.data import HOURLY, hourly
from tests.support.size import sized

pytestmark = pytest.mark.slow

HOUR = 3_600_000
MEASURED_HOURS = sized(1200, None)
"""The hours of the file the backtest figures are measured on (None: all of them)."""
AGGREGATE_HOURS = sized(200, 400)
"""The hours the aggregate walk forward is checked on, against each venue's alone."""


def test_ranks_share_ties() -> None:
    assert ranks(np.array([10.0, 0.0, 0.0, 5.0, 0.0])).tolist() == [5.0, 2.0, 2.0, 4.0, 2.0]


def test_spearman_of_monotone_and_reversed_and_constant() -> None:
    x = np.arange(20.0)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert np.isnan(spearman(x, np.ones(20)))


def test_partial_spearman_removes_what_the_control_explains() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=5000)
    y = z + 0.1 * rng.normal(size=5000)
    only_z = z + 0.1 * rng.normal(size=5000)
    assert spearman(only_z, y) > 0.9
    assert abs(partial_spearman(only_z, y, z)) < 0.05
    own = rng.normal(size=5000)
    both = z + own
    assert partial_spearman(own, both, z) > 0.8


def test_cluster_lift_compares_hours_of_like_excursion() -> None:
    rng = np.random.default_rng(1)
    excursion = rng.uniform(0, 0.02, 4000)
    entered = rng.random(4000) < 0.2
    realized = excursion * 1e8 * np.where(entered, 2.0, 1.0)
    assert cluster_lift(entered, excursion, realized) == pytest.approx(2.0, rel=0.05)
    # entering tracks a larger excursion but adds nothing: the lift stays near 1
    entered = excursion > 0.015
    assert cluster_lift(entered, excursion, excursion * 1e8) == pytest.approx(1.0, abs=0.15)


def test_walk_forward_predicts_from_the_hours_before_only() -> None:
    count = 12
    ts = np.arange(count, dtype=np.int64) * HOUR
    price = np.full(count, 100.0)
    low = price.copy()
    low[10] = 97.0  # hour 10 drops to 97: it should sweep the 100x and 50x longs of hour 2
    candles = Candles(HOUR, ts, price, price.copy(), low, price.copy(), np.full(count, np.nan))
    oi_usd = np.full(count + 1, 1e9)
    oi_usd[3:] += 1e6  # opened during hour 2
    oi = OpenInterest(HOUR, np.arange(count + 1, dtype=np.int64) * HOUR, oi_usd)
    realized = Liquidations(ts, np.arange(count, dtype=float), np.zeros(count))
    run = walk_forward(
        CsvHistory("t", candles, oi, realized),
        ModelParams(tiers=FIVE_TIERS),
        warmup_hours=1,
        clusters=False,
    )
    assert run.ts.tolist() == ts[1:].tolist()
    assert run.predicted_long[run.ts == 10 * HOUR][0] == pytest.approx(0.5 * 1e6 * 0.4)
    assert np.all(run.predicted_long[run.ts != 10 * HOUR] == 0)
    assert run.excursion_long[run.ts == 10 * HOUR][0] == pytest.approx(0.03)
    assert run.realized_long.tolist() == list(range(1, count))


@pytest.fixture(scope="module")
def measured() -> CsvHistory:
    return hourly(0, MEASURED_HOURS)


@pytest.fixture(scope="module")
def report(measured: CsvHistory) -> dict:
    parts = backtest(measured)
    return {part.name: part for part in parts}


def test_the_parts_split_the_file_three_to_one(report: dict) -> None:
    assert report["fit"].hours + report["check"].hours == report["all"].hours
    assert report["check"].hours == pytest.approx(report["all"].hours / 4, abs=1)
    assert report["fit"].end_ms < report["check"].start_ms


@pytest.mark.parametrize("part", ["fit", "check"])
def test_the_map_predicts_beyond_the_price_move_and_the_naive_map_does_not(
    report: dict, part: str
) -> None:
    scores = report[part]
    for model, naive in ((scores.long, scores.naive_long), (scores.short, scores.naive_short)):
        assert model.partial > 0.3
        assert naive.partial < 0.1
        assert model.partial > naive.partial + 0.25
        assert model.lift > 1.5
        assert model.baseline == naive.baseline


def test_venue_slices_give_each_venue_its_rules_and_normalised_share() -> None:
    slices = venue_slices(shares={"okx": 1.0, "bybit": 3.0})
    assert [(s.exchange, s.share) for s in slices] == [("bybit", 0.75), ("okx", 0.25)]
    bybit, okx = (s.params.margin for s in slices)
    assert (bybit.formula, bybit.maintenance, bybit.fee) == (Formula.LINEAR_BYBIT, 0.005, 0.0)
    assert (okx.formula, okx.maintenance, okx.fee) == (Formula.LINEAR, 0.004, 0.0005)
    assert venue_params("okx") == ModelParams(), "the default model is OKX's BTC-USDT rule"
    assert sum(s.share for s in venue_slices()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shares"):
        venue_slices(shares={"okx": 0.0})


def test_the_aggregate_walk_forward_sums_each_venue_on_its_share(tmp_path: Path) -> None:
    part = tmp_path / "part.csv"
    part.write_text("\n".join(HOURLY.read_text().splitlines()[: AGGREGATE_HOURS + 1]) + "\n")
    history = load_csv(part)
    slices = venue_slices()
    summed = walk_forward(history, slices, lookback_hours=120, warmup_hours=48)
    candles, oi, realized = history.candles, history.open_interest, history.liquidations
    shares = [CsvHistory("t", candles, scaled(oi, s.share), realized) for s in slices]
    alone = [
        walk_forward(share, s.params, 120, 48, clusters=False)
        for share, s in zip(shares, slices, strict=True)
    ]
    assert summed.predicted_long == pytest.approx(sum(run.predicted_long for run in alone))
    assert summed.predicted_short == pytest.approx(sum(run.predicted_short for run in alone))
    assert summed.predicted_long.sum() > 0 and summed.entered_long.any()
    rules = {s.params.margin for s in slices}
    assert len(rules) == 3, "each venue keeps its own formula"
    whole = walk_forward(history, ModelParams(), lookback_hours=120, warmup_hours=48)
    single = walk_forward(history, venue_slices(shares={"okx": 1.0}), 120, 48)
    assert np.array_equal(single.predicted_long, whole.predicted_long)
    assert np.array_equal(single.entered_short, whole.entered_short)


@pytest.fixture(scope="module")
def by_venue(measured: CsvHistory) -> dict:
    return {row.venue: row for row in venue_scores(measured)}


def test_the_backtest_measures_each_venue_and_the_aggregate(report: dict, by_venue: dict) -> None:
    assert list(by_venue) == ["binance", "bybit", "okx", "all"]
    okx = by_venue["okx"]
    assert okx.fit_long == report["fit"].long and okx.check_short == report["check"].short
    for row in by_venue.values():
        for side in (row.fit_long, row.fit_short, row.check_long, row.check_short):
            assert side.partial > 0.3 and side.lift > 1.5
    assert by_venue["all"].fit_long != okx.fit_long, "the aggregate is its own map"
