"""The heatmap: every column is the map built at its candle, binned on the heatmap's grid."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.synthetic import market
from liqmap.engine import heatmap as heatmap_module
from liqmap.engine.heatmap import (
    Band,
    Heatmap,
    build_aggregate_heatmap,
    build_heatmap,
    default_edges,
    peak_band,
    price_edges,
    sum_heatmaps,
)
from liqmap.engine.model import FIVE_TIERS, Formula, MarginRule, ModelParams, Tier, build_exposure
from liqmap.engine.series import Candles, OpenInterest
from liqmap.engine.snapshot import VenueData
from tests.support.arrays import assert_close
from tests.support.series import FIVE, MIN, candles, flat, oi_path


def column_maps(
    sources: list[tuple[Candles, OpenInterest, ModelParams]], heatmap: Heatmap
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: every source's ``build_exposure`` at the column's candle, levels pooled
    and binned on the heatmap's edges. The slow, obvious way."""
    bins = len(heatmap.edges) - 1
    long, short = np.zeros((len(heatmap.ts), bins)), np.zeros((len(heatmap.ts), bins))
    for column, time in enumerate(heatmap.ts):
        levels: dict[str, list[np.ndarray]] = {"long": [], "short": [], "lu": [], "su": []}
        for bars, oi, params in sources:
            last = int(np.searchsorted(bars.ts + bars.step_ms, time, side="right"))
            if last == 0:
                continue
            exposure = build_exposure(bars[:last], oi, params)
            levels["long"].append(exposure.long_level)
            levels["lu"].append(exposure.long_usd)
            levels["short"].append(exposure.short_level)
            levels["su"].append(exposure.short_usd)
        for grid, level, usd in ((long, "long", "lu"), (short, "short", "su")):
            if levels[level]:
                where = np.searchsorted(heatmap.edges, np.concatenate(levels[level]), "right") - 1
                inside = (where >= 0) & (where < bins)
                grid[column] = np.bincount(
                    where[inside], np.concatenate(levels[usd])[inside], minlength=bins
                )
    return long, short


def assert_grids_equal(heatmap: Heatmap, long: np.ndarray, short: np.ndarray) -> None:
    scale = max(long.max(initial=0), short.max(initial=0))
    assert scale > 0
    assert_close(heatmap.long, long, rel=1e-9, abs=1e-9 * scale)
    assert_close(heatmap.short, short, rel=1e-9, abs=1e-9 * scale)


PARAMS = {
    "default": ModelParams(),
    "naive": ModelParams().naive(),
    "no-closing": ModelParams(close_on_oi_drop=False),
    "half-life": ModelParams(half_life_hours=3),
    "split": ModelParams(split_by_candle=0.3),
    "five-tiers": ModelParams(tiers=FIVE_TIERS),
    "inverse": ModelParams(margin=MarginRule(0.004, 0.0005, Formula.INVERSE)),
    "bybit": ModelParams(margin=MarginRule(0.005, 0.0, Formula.LINEAR_BYBIT)),
}


@pytest.mark.parametrize("params", PARAMS.values(), ids=PARAMS.keys())
def test_each_column_is_the_map_built_after_its_candle(params: ModelParams) -> None:
    bars, oi = market(minutes=360, seed=4)
    heatmap = build_heatmap(bars, oi, params)
    assert heatmap.long.shape == (360, len(heatmap.edges) - 1)
    assert heatmap.ts.tolist() == (bars.ts + MIN).tolist()
    assert_grids_equal(heatmap, *column_maps([(bars, oi, params)], heatmap))


@pytest.mark.parametrize("params", [PARAMS["default"], PARAMS["half-life"]], ids=["default", "hl"])
def test_fewer_columns_than_candles_sample_the_maps_at_their_candles(params: ModelParams) -> None:
    bars, oi = market(minutes=1000, seed=8)
    heatmap = build_heatmap(bars, oi, params, columns=60)
    every = 17  # ceil(1000 / 60): 59 columns, the last at the last candle
    assert len(heatmap.ts) == 59
    assert heatmap.ts.tolist() == (bars.ts[999 - every * np.arange(59)[::-1]] + MIN).tolist()
    assert heatmap.as_of_ms == bars.ts[-1] + MIN
    assert_grids_equal(heatmap, *column_maps([(bars, oi, params)], heatmap))


def test_levels_taken_in_chunks_add_up_to_the_same_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    bars, oi = market(minutes=500, seed=9)
    whole = build_heatmap(bars, oi, columns=50)
    monkeypatch.setattr(heatmap_module, "CHUNK_LEVELS", 1000)  # 10 candles' levels at a time
    chunked = build_heatmap(bars, oi, columns=50)
    assert_close(chunked.long, whole.long, rel=1e-12, abs=1e-6)
    assert_close(chunked.short, whole.short, rel=1e-12, abs=1e-6)


def test_a_level_lives_from_its_candle_until_the_wick_that_reaches_it() -> None:
    bars = [*flat(4), (100, 100, 97, 100), *flat(2)]  # candle 4 dips to 97
    oi = oi_path(10e6, 10e6, 11e6, *[11e6] * 5)  # candle 1 opens 1M
    edges = np.linspace(90, 110, 201)
    heatmap = build_heatmap(candles(*bars), oi, FIVE, edges=edges)
    at = np.searchsorted(edges, [99.4475, 98.4430, 96.4340, 100.5475], side="right") - 1
    # 100x and 50x longs (99.45, 98.44) are swept by candle 4; 25x (96.43) is not reached
    assert heatmap.long[:, at[0]].tolist() == pytest.approx([0, 1e5, 1e5, 1e5, 0, 0, 0])
    assert heatmap.long[:, at[1]].tolist() == pytest.approx([0, 1e5, 1e5, 1e5, 0, 0, 0])
    assert heatmap.long[:, at[2]].tolist() == pytest.approx([0, 1.25e5, *[1.25e5] * 5])
    assert heatmap.short[:, at[3]].tolist() == pytest.approx([0, *[1e5] * 6])
    assert heatmap.close.tolist() == [100] * 7
    assert heatmap.low.tolist() == [100, 100, 100, 100, 97, 100, 100]


def test_open_interest_falling_halves_what_was_open_from_then_on() -> None:
    oi = oi_path(10e6, 11e6, 11e6, 5.5e6, 5.5e6, 6.5e6, 6.5e6)  # candle 2 closes half
    heatmap = build_heatmap(candles(*flat(6)), oi, FIVE, edges=np.linspace(75, 125, 501))
    assert heatmap.long.sum(axis=1).tolist() == pytest.approx(
        [5e5, 5e5, 2.5e5, 2.5e5, 2.5e5 + 5e5, 2.5e5 + 5e5]
    ), "what opens after the fall (candle 4) is not shrunk by it"
    assert heatmap.short.sum(axis=1).tolist() == heatmap.long.sum(axis=1).tolist()


def test_exposure_fades_at_the_half_life_column_by_column() -> None:
    oi = oi_path(1e6, 2e6, *[2e6] * 180)
    params = ModelParams(tiers=FIVE_TIERS, half_life_hours=1)
    heatmap = build_heatmap(candles(*flat(181)), oi, params, edges=np.linspace(50, 150, 1001))
    total = heatmap.long.sum(axis=1)
    assert total[[0, 60, 120, 180]].tolist() == pytest.approx([5e5, 2.5e5, 1.25e5, 6.25e4])


def test_decay_far_beyond_floating_point_range_stays_exact() -> None:
    bars, oi = market(minutes=240, seed=2)
    params = ModelParams(half_life_hours=0.002)  # 7.2 s: e^-1,400 over the window
    heatmap = build_heatmap(bars, oi, params)
    long, short = column_maps([(bars, oi, params)], heatmap)
    assert np.isfinite(heatmap.long).all() and np.isfinite(heatmap.short).all()
    assert_grids_equal(heatmap, long, short)


def test_open_interest_dropping_to_zero_and_back() -> None:
    oi = oi_path(10e6, 11e6, 0, 0, 1e6, 1e6)
    heatmap = build_heatmap(candles(*flat(5)), oi, FIVE, edges=np.linspace(75, 125, 501))
    assert heatmap.long.sum(axis=1).tolist() == pytest.approx([5e5, 0, 0, 5e5, 5e5])


def test_sources_summed_on_common_columns_equal_their_pooled_levels() -> None:
    first, first_oi = market(minutes=300, seed=5)
    second, second_oi = market(minutes=300, seed=6, price=60_300)
    second = second[90:]  # listed 90 minutes later: nothing of it in the early columns
    params_b = ModelParams(margin=MarginRule(0.005, 0.0, Formula.LINEAR_BYBIT))
    edges = price_edges(55_000, 66_000, 60_000, 0.1)
    times = first.ts[::7] + MIN
    one = build_heatmap(first, first_oi, ModelParams(), edges=edges, times=times)
    other = build_heatmap(second, second_oi, params_b, edges=edges, times=times)
    assert not other.long[:13].any() and np.isnan(other.close[:13]).all()
    both = sum_heatmaps([other, one])
    assert both.close.tolist() == np.where(np.isnan(other.close), one.close, other.close).tolist()
    long, short = column_maps(
        [(first, first_oi, ModelParams()), (second, second_oi, params_b)], both
    )
    assert_grids_equal(both, long, short)
    with pytest.raises(ValueError, match="same column times and price edges"):
        sum_heatmaps([one, build_heatmap(first, first_oi, edges=edges)])


def test_exchanges_aggregated_share_columns_and_bins_and_sum_to_their_pooled_maps() -> None:
    okx, okx_oi = market(minutes=300, seed=5)
    bybit, bybit_oi = market(minutes=300, seed=6, price=60_300)
    bybit = bybit[90:]  # listed 90 minutes later
    bybit_rule = ModelParams(margin=MarginRule(0.005, 0.0, Formula.LINEAR_BYBIT))
    parts = [
        VenueData("okx", okx, okx_oi, ModelParams()),
        VenueData("bybit", bybit, bybit_oi, bybit_rule),
        VenueData("binance", Candles.empty(MIN), OpenInterest.empty(MIN), ModelParams()),
    ]
    heatmap, shares = build_aggregate_heatmap(parts)
    assert heatmap.ts.tolist() == (okx.ts + MIN).tolist(), "the union of the candle closes"
    lows, highs = min(okx.low.min(), bybit.low.min()), max(okx.high.max(), bybit.high.max())
    median = float(np.median([okx.close[-1], bybit.close[-1]]))
    assert heatmap.edges.tolist() == price_edges(lows, highs, median, 0.1).tolist()
    long, short = column_maps([(okx, okx_oi, ModelParams()), (bybit, bybit_oi, bybit_rule)],
                              heatmap)  # fmt: skip
    assert_grids_equal(heatmap, long, short)
    okx_now = column_maps([(okx, okx_oi, ModelParams())], heatmap)
    okx_share = (okx_now[0][-1].sum() + okx_now[1][-1].sum()) / heatmap.total[-1].sum()
    assert [v.exchange for v in shares] == ["okx", "bybit", "binance"]
    assert shares[0].share == pytest.approx(okx_share) and shares[2].share == 0
    assert sum(v.share for v in shares) == pytest.approx(1.0)
    alone, (only,) = build_aggregate_heatmap(parts[:1])
    single = build_heatmap(okx, okx_oi)
    assert np.array_equal(alone.edges, single.edges) and np.array_equal(alone.long, single.long)
    assert only.share == 1.0


def test_price_path_spans_the_candles_since_the_previous_column() -> None:
    bars = candles(*[(100, 100 + i, 100 - i, 100 + i / 10) for i in range(10)])
    heatmap = build_heatmap(bars, oi_path(*[1e6] * 11), FIVE, columns=4)  # every 3rd candle
    assert heatmap.ts.tolist() == [MIN, 4 * MIN, 7 * MIN, 10 * MIN]
    assert heatmap.close.tolist() == pytest.approx([100.0, 100.3, 100.6, 100.9])
    assert heatmap.high.tolist() == [100, 103, 106, 109]
    assert heatmap.low.tolist() == [100, 97, 94, 91]
    assert heatmap.is_empty, "flat open interest opens nothing"


def test_default_edges_cover_the_window_and_a_margin_in_bins_of_the_last_close() -> None:
    bars, _ = market(minutes=1000, seed=3)
    edges = default_edges(bars, ModelParams())
    width = np.diff(edges)
    assert width == pytest.approx(np.full(len(width), bars.close[-1] / 1000))
    assert edges[0] <= bars.low.min() * 0.9 < edges[1]
    assert edges[-2] < bars.high.max() * 1.1 <= edges[-1]
    wide = price_edges(10, 1000, 500, 0.1)  # 90%-1100%: capped at 1,000 wider bins
    assert len(wide) - 1 <= 1000 and wide[0] <= 9 and wide[-1] >= 1100


def test_empty_inputs_give_empty_heatmaps() -> None:
    none = build_heatmap(Candles.empty(MIN), oi_path(1e6, 2e6), FIVE)
    assert none.long.shape == (0, 0) and none.is_empty and none.as_of_ms == 0
    no_oi = build_heatmap(candles(*flat(5)), OpenInterest.empty(MIN), FIVE)
    assert no_oi.long.shape[0] == 5 and no_oi.is_empty and no_oi.close.tolist() == [100] * 5
    early = build_heatmap(
        candles(*flat(5)), oi_path(1e6, 2e6, 3e6), FIVE, times=np.array([-MIN, 0])
    )
    assert early.is_empty and np.isnan(early.close).all()
    assert peak_band(early) is None


def test_bad_column_requests_are_refused() -> None:
    bars, oi = market(minutes=10)
    with pytest.raises(ValueError, match="not both"):
        build_heatmap(bars, oi, columns=3, times=bars.ts + MIN)
    with pytest.raises(ValueError, match="must increase"):
        build_heatmap(bars, oi, times=np.array([2 * MIN, MIN]))
    with pytest.raises(ValueError, match="at least one column"):
        build_heatmap(bars, oi, columns=0)


def test_the_peak_band_is_the_hottest_column_around_its_hottest_bin() -> None:
    tiers = (Tier(20, 1), Tier(21, 1), Tier(22, 1), Tier(5, 0.5))
    params = ModelParams(tiers=tiers, long_share=1.0)
    bars = candles(*flat(4), (100, 100, 95.5, 100))  # the last candle sweeps the 20x long
    heatmap = build_heatmap(
        bars, oi_path(1e6, 2e6, *[2e6] * 4), params, edges=np.linspace(75, 125, 251)
    )
    band = peak_band(heatmap)
    assert band is not None
    # 20x, 21x and 22x longs at 95.43, 95.67 and 95.89 fill three 0.2-wide bins; 5x is alone
    assert (band.low, band.high) == pytest.approx((95.4, 96.0))
    assert band.usd == pytest.approx(1e6 * 3 / 3.5)
    assert band.ts == MIN


def test_a_band_says_where_it_is_from_the_price() -> None:
    band = Band(0, 95.0, 98.0, 1e6)
    assert band.position(100.0) == "2.0% below"
    assert band.position(90.0) == "5.6% above"
    assert band.position(96.0) == "price inside"


def test_a_warm_up_before_the_window_fills_the_first_column() -> None:
    """Issue 16: exposure opened before the window shows from the first column on."""
    bars = [(100.0, 100.5, 99.5, 100.0)] * 120
    oi = oi_path(*[1e6 + 1e5 * min(i, 60) for i in range(121)])
    history = candles(*bars)
    warmed = build_heatmap(history, oi, window_ms=60 * MIN)
    cold = build_heatmap(history[60:], oi[60:])
    assert len(warmed.ts) == len(cold.ts) == 60
    assert np.array_equal(warmed.ts, cold.ts)
    assert cold.is_empty, "no OI opens within the window"
    assert warmed.total[0].sum() > 0
    assert warmed.total[0].sum() == pytest.approx(warmed.total[-1].sum())
