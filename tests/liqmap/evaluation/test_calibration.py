"""The estimate held against the real positions: rank correlation per bin, the real USD in the
estimate's top clusters, the real leverage mix on the model's tiers, and the keep-or-discard
rule for tiers fitted to it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from liqmap.engine.model import BAND_LABELS, ModelParams, Tier, build_exposure, leverage_ladder
from liqmap.engine.real_layer import RealLayer, RealLevel, bin_real
from liqmap.evaluation.backtest import backtest
from liqmap.evaluation.calibration import (
    MIN_REAL_BINS,
    fitted_tiers,
    keep_fitted,
    leverage_mix,
    map_correlation,
    nearest_tier,
    notional_by_leverage,
    rank_correlation,
    tier_verdict,
    top_cluster_share,
)
from liqmap.market.positions import Position
from tests.support.data import hourly
from tests.support.maps import hand_map

usd_bins = st.lists(st.integers(0, 50).map(lambda k: k * 1e5), min_size=8, max_size=120)
"""USD per bin, with ties (zeros above all)."""
increasing = st.sampled_from(
    [lambda x: 3 * x + 7, lambda x: x**3, lambda x: np.sqrt(x), lambda x: np.log1p(x)]
)


def _has_enough(real: list[float]) -> bool:
    return bool(np.count_nonzero(real) >= MIN_REAL_BINS) and len(set(real)) > 1


@given(usd_bins, increasing)
def test_any_increasing_transform_ranks_alike(real: list[float], transform) -> None:
    assume(_has_enough(real))
    estimate = transform(np.array(real))
    assert rank_correlation(estimate, np.array(real)) == pytest.approx(1.0)


@given(usd_bins, increasing)
def test_a_reversed_order_ranks_minus_one(real: list[float], transform) -> None:
    assume(_has_enough(real))
    estimate = -transform(np.array(real))
    assert rank_correlation(estimate, np.array(real)) == pytest.approx(-1.0)


def _brute_ranks(values: list[float]) -> np.ndarray:
    """Ranks from 1 by counting, ties at their average rank."""
    return np.array(
        [sum(w < v for w in values) + (sum(w == v for w in values) + 1) / 2 for v in values]
    )


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=8, max_size=60))
def test_ties_take_their_average_rank_and_the_figure_stays_within_one(pairs) -> None:
    estimate = [float(a) for a, _ in pairs]
    real = [float(b) for _, b in pairs]
    rho = rank_correlation(np.array(estimate), np.array(real))
    rx, ry = _brute_ranks(estimate), _brute_ranks(real)
    if np.count_nonzero(real) < MIN_REAL_BINS or rx.std() == 0 or ry.std() == 0:
        assert rho is None
    else:
        assert rho is not None and -1.0 - 1e-12 <= rho <= 1.0 + 1e-12
        assert rho == pytest.approx(float(np.corrcoef(rx, ry)[0, 1]))


def test_too_few_real_bins_or_a_flat_side_give_none_not_a_number() -> None:
    estimate = np.arange(20.0)
    real = np.zeros(20)
    real[[2, 5, 9, 11]] = 1e6  # four bins: fewer than MIN_REAL_BINS
    assert rank_correlation(estimate, real) is None
    real[14] = 2e6
    assert rank_correlation(estimate, real) is not None
    assert rank_correlation(np.zeros(20), real) is None, "an empty estimate ranks nothing"
    with pytest.raises(ValueError, match="19 estimated values against 20"):
        rank_correlation(estimate[1:], real)


def _layer(longs: dict[int, float], shorts: dict[int, float]) -> RealLayer:
    """A real layer on ``hand_map``'s bins (bin i spans 75 + 0.1 i), a level per bin."""
    edges = 75.0 + 0.1 * np.arange(501)
    levels = [RealLevel("long", 75.05 + 0.1 * i, usd, 1) for i, usd in longs.items()]
    levels += [RealLevel("short", 75.05 + 0.1 * i, usd, 1) for i, usd in shorts.items()]
    return bin_real(edges, levels, coverage=0.1)


def test_the_correlation_reads_each_side_where_it_liquidates_within_ten_percent() -> None:
    # longs below the price (bins 150..249 are 90..100), shorts above (250..349 are 100..110)
    longs = {150 + 9 * k: 1e5 * (k + 1) for k in range(10)}
    shorts = {251 + 9 * k: 2e5 * (10 - k) for k in range(10)}
    estimate = hand_map({**longs, 100: 9e9}, shorts)  # bin 100 (85) lies beyond the 10%
    real = _layer(
        {i: usd / 3 for i, usd in longs.items()}, {i: usd / 3 for i, usd in shorts.items()}
    )
    got = map_correlation(estimate, real)
    assert got.long == pytest.approx(1.0) and got.short == pytest.approx(1.0)
    assert got.both == pytest.approx(1.0)
    rooted = _layer(
        {i: usd / 3 for i, usd in longs.items()}, {i: usd**0.5 for i, usd in shorts.items()}
    )
    got = map_correlation(estimate, rooted)
    assert got.long == pytest.approx(1.0) and got.short == pytest.approx(1.0)
    assert got.both is not None and got.both < 1.0, (
        "both sides rank as one series: each side's USD against the other's"
    )
    assert (got.long_bins, got.short_bins) == (10, 10)

    rising = hand_map({150 + k: 1e5 * (k + 1) for k in range(100)}, {})
    falling = _layer({150 + k: 1e5 * (100 - k) for k in range(100)}, {})
    got = map_correlation(rising, falling)
    assert got.long == pytest.approx(-1.0)
    assert got.short is None, "no real shorts: nothing to rank"


def test_the_real_layer_must_lie_on_the_maps_bins() -> None:
    other = bin_real(np.linspace(75.0, 125.0, 401), [], coverage=None)
    with pytest.raises(ValueError, match="not on the estimated map's bins"):
        map_correlation(hand_map({}, {}), other)


def test_the_top_cluster_share_counts_real_usd_inside_the_estimates_densest_bands() -> None:
    # long bands of 5 bins at 90, 92, 94 and 96 (densest last), a short band at 106.8
    bands = {150: 1e6, 170: 2e6, 190: 3e6, 210: 4e6}
    longs = {start + k: usd for start, usd in bands.items() for k in range(5)}
    estimate = hand_map(longs, {318 + k: 5e6 for k in range(5)})
    real = _layer(
        {151: 7e5, 172: 3e5, 212: 1e6, 240: 5e5},  # 151 sits in the weakest band: not a top 3
        {320: 2e6, 400: 1e6},
    )
    share = top_cluster_share(estimate, real, top=3)
    assert share.clusters == 4, "three long bands and the short one"
    assert share.usd_share == pytest.approx((3e5 + 1e6 + 2e6) / 5.5e6)
    assert share.range_share == pytest.approx(20 / 500)
    assert top_cluster_share(estimate, real, top=4).usd_share == pytest.approx(4e6 / 5.5e6)
    assert top_cluster_share(estimate, _layer({}, {}), top=3).usd_share is None


def _position(leverage: float, value: float, side: str = "long") -> Position:
    return Position(
        "0x" + "1" * 40, "BTC", side, value / 100, 100.0, leverage, "cross", value,  # type: ignore[arg-type]
        value, 50.0, 1,
    )  # fmt: skip


TIERS = (Tier(3, 1.0), Tier(5, 1.0), Tier(10, 2.0), Tier(20, 1.0), Tier(40, 0.0))


def test_each_leverage_goes_to_the_nearest_tier_in_log_space() -> None:
    # 7x: ln 7 - ln 5 = 0.336 < ln 10 - ln 7 = 0.357; 14x: ln 14 - ln 10 = 0.336 < 0.357
    got = nearest_tier([1, 3, 4, 7, 7.2, 14, 15, 28.3, 100], TIERS)
    assert got.tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 4]


def test_the_real_mix_by_notional_against_the_normalised_tier_weights() -> None:
    positions = [_position(1, 1e5), _position(10, 3e5, "short"), _position(10, 1e5),
                 _position(25, 5e5), _position(7, 0.0)]  # fmt: skip
    assert notional_by_leverage(positions) == pytest.approx({1: 0.1, 10: 0.4, 25: 0.5})
    mix = leverage_mix(positions, TIERS)
    assert mix.notional == pytest.approx(1e6)
    assert mix.real == pytest.approx((0.1, 0.0, 0.4, 0.5, 0.0))
    assert mix.model == pytest.approx((0.2, 0.2, 0.4, 0.2, 0.0))
    # bands ≤10x, 10-25x, 25-50x, 50-100x, >100x: each position by its own leverage
    assert len(mix.real_by_band) == len(BAND_LABELS)
    assert mix.real_by_band == pytest.approx((0.5, 0.5, 0.0, 0.0, 0.0))
    assert mix.model_by_band == pytest.approx((0.8, 0.2, 0.0, 0.0, 0.0))
    empty = leverage_mix([], TIERS)
    assert empty.notional == 0 and sum(empty.real) == 0 and sum(empty.real_by_band) == 0


@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(0.5, 300.0), st.sampled_from([0.0, -3.0, math.nan])),
            st.one_of(st.floats(0.0, 1e9), st.sampled_from([-1e6, math.nan])),
        ),
        max_size=30,
    )
)
def test_any_positions_give_shares_that_sum_to_one_or_nothing(drawn) -> None:
    positions = [_position(lev, value) for lev, value in drawn]
    counted = [(lev, v) for lev, v in drawn if lev > 0 and v > 0]
    mix = leverage_mix(positions, TIERS)
    want = 1.0 if counted else 0.0
    assert sum(mix.real) == pytest.approx(want) and sum(mix.real_by_band) == pytest.approx(want)
    assert min(mix.real) >= 0 and mix.notional == pytest.approx(sum(v for _, v in counted))
    fitted = fitted_tiers(mix)
    if counted:
        assert fitted is not None and sum(t.weight for t in fitted) == pytest.approx(1.0)
        assert all(t.weight > 0 for t in fitted)
    else:
        assert fitted is None


def test_fitted_tiers_are_the_real_mix_on_the_rungs_that_hold_some() -> None:
    positions = [_position(1, 1e5), _position(10, 4e5), _position(25, 5e5)]
    fitted = fitted_tiers(leverage_mix(positions, TIERS))
    assert fitted is not None
    assert [t.leverage for t in fitted] == [3, 10, 20]
    assert [t.weight for t in fitted] == pytest.approx([0.1, 0.4, 0.5])
    assert fitted_tiers(leverage_mix([], TIERS)) is None


def test_a_rung_dropped_for_holding_nothing_changes_no_level_of_the_map() -> None:
    history = hourly(0, 300)
    ladder = leverage_ladder(3, 40, 12)
    weights = [0.0 if k % 3 else 1.0 + k for k in range(len(ladder))]
    with_zeros = tuple(Tier(t.leverage, w) for t, w in zip(ladder, weights, strict=True))
    dropped = tuple(t for t in with_zeros if t.weight > 0)
    a = build_exposure(history.candles, history.open_interest, ModelParams(tiers=with_zeros))
    b = build_exposure(history.candles, history.open_interest, ModelParams(tiers=dropped))
    assert a.long_usd.sum() == pytest.approx(b.long_usd.sum())
    kept = a.long_usd > 0
    assert sorted(a.long_level[kept].tolist()) == pytest.approx(sorted(b.long_level.tolist()))


@pytest.mark.parametrize(
    ("current", "fitted", "keep"),
    [(0.70, 0.74, True), (0.74, 0.70, False), (0.70, 0.70, False),
     (math.nan, 0.70, False), (0.70, math.nan, False)],
)  # fmt: skip
def test_fitted_tiers_are_kept_only_when_they_raise_the_score(current, fitted, keep) -> None:
    assert keep_fitted(current, fitted) is keep


@pytest.mark.slow
def test_the_verdict_scores_both_tier_sets_as_the_backtest_does_and_keeps_the_higher() -> None:
    history = hourly(0, 400)
    coarse = (Tier(3, 1.0), Tier(100, 1.0))
    ladder = ModelParams().tiers
    rising = tier_verdict(history, ModelParams(tiers=coarse), ladder)
    falling = tier_verdict(history, ModelParams(tiers=ladder), coarse)
    for tiers, score in ((coarse, rising.current), (ladder, rising.fitted)):
        everything = backtest(history, ModelParams(tiers=tiers))[0]
        assert (score.long, score.short) == pytest.approx(
            (everything.long.partial, everything.short.partial)
        )
    assert falling.current == rising.fitted and falling.fitted == rising.current
    assert rising.fitted.total != rising.current.total
    assert rising.keep is (rising.fitted.total > rising.current.total)
    assert falling.keep is not rising.keep, "one of the two raises the score, the other lowers it"
