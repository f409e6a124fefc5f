"""The model with hand-checked numbers: liquidation prices, opening, closing, sweeping."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from liqmap.engine.model import (
    FIVE_TIERS,
    Exposure,
    Formula,
    MarginRule,
    ModelParams,
    Tier,
    build_exposure,
    build_map,
    in_coins,
    leverage_ladder,
    oi_flows,
)
from liqmap.engine.series import Candles, OpenInterest
from tests.support.series import FIVE, MIN, OKX, candles, flat, oi_path

BINANCE = MarginRule(maintenance=0.004, fee=0.0)


@pytest.mark.parametrize(
    ("leverage", "long_pct", "short_pct"),
    [(10, 9.6, 9.5), (25, 3.6, 3.5), (50, 1.6, 1.5), (100, 0.55, 0.55)],
)
def test_liquidation_distances_match_design(
    leverage: float, long_pct: float, short_pct: float
) -> None:
    lev = np.array([leverage], dtype=float)
    long_distance = (1 - OKX.long_factor(lev)[0]) * 100
    short_distance = (OKX.short_factor(lev)[0] - 1) * 100
    assert long_distance == pytest.approx(long_pct, abs=0.05)
    assert short_distance == pytest.approx(short_pct, abs=0.05)


def test_binance_formula_has_no_fee() -> None:
    lev = np.array([10.0])
    assert BINANCE.long_factor(lev)[0] == pytest.approx(0.9 / 0.996)
    assert BINANCE.short_factor(lev)[0] == pytest.approx(1.1 / 1.004)


def long_levels(exposure: Exposure) -> dict[float, float]:
    return {
        round(float(x), 4): float(u)
        for x, u in zip(exposure.long_level, exposure.long_usd, strict=True)
    }


def short_levels(exposure: Exposure) -> dict[float, float]:
    return {
        round(float(x), 4): float(u)
        for x, u in zip(exposure.short_level, exposure.short_usd, strict=True)
    }


EXPECTED_LONG = {  # entry 100: 100 * (1 - 1/L) / 0.9955, USD = 0.5 * weight * 1,000,000
    80.3616: 50_000, 90.4068: 125_000, 96.4340: 125_000, 98.4430: 100_000, 99.4475: 100_000,
}  # fmt: skip
EXPECTED_SHORT = {  # 100 * (1 + 1/L) / 1.0045
    119.4624: 50_000, 109.5072: 125_000, 103.5341: 125_000, 101.5431: 100_000, 100.5475: 100_000,
}  # fmt: skip


def test_a_single_oi_rise_opens_both_sides_on_every_tier() -> None:
    exposure = build_exposure(candles(*flat(5)), oi_path(10e6, 10e6, 11e6, 11e6, 11e6, 11e6), FIVE)
    assert long_levels(exposure) == pytest.approx(EXPECTED_LONG)
    assert short_levels(exposure) == pytest.approx(EXPECTED_SHORT)
    assert exposure.price == 100 and exposure.as_of_ms == 5 * MIN


def test_the_rise_lands_in_the_right_bins() -> None:
    liq_map = build_map(candles(*flat(5)), oi_path(10e6, 10e6, 11e6, 11e6, 11e6, 11e6), FIVE)
    width = liq_map.edges[1] - liq_map.edges[0]
    assert width == pytest.approx(0.1)
    assert liq_map.edges[0] == pytest.approx(75.0) and liq_map.edges[-1] == pytest.approx(125.0)
    for level, usd in EXPECTED_LONG.items():
        index = int((level - 75.0) // 0.1)
        assert liq_map.long_usd[index] == pytest.approx(usd), level
    for level, usd in EXPECTED_SHORT.items():
        assert liq_map.short_usd[int((level - 75.0) // 0.1)] == pytest.approx(usd), level
    assert liq_map.long_usd.sum() == pytest.approx(500_000)
    assert liq_map.short_usd.sum() == pytest.approx(500_000)
    # each tier shows in its leverage band: 5x and 10x share the lowest band
    assert liq_map.long_by_band.sum(axis=1) == pytest.approx(
        [175_000, 125_000, 100_000, 100_000, 0]
    )


def test_a_later_wick_sweeps_exactly_the_levels_it_crosses() -> None:
    bars = [*flat(3), (100, 100, 97, 100), (100, 103, 100, 100), *flat(1)]
    exposure = build_exposure(
        candles(*bars), oi_path(10e6, 10e6, 11e6, 11e6, 11e6, 11e6, 11e6), FIVE
    )
    # a low of 97 liquidates the 100x and 50x longs (99.45, 98.44), not 25x (96.43)
    assert set(long_levels(exposure)) == {80.3616, 90.4068, 96.4340}
    # a high of 103 liquidates the 100x and 50x shorts (100.55, 101.54), not 25x (103.53)
    assert set(short_levels(exposure)) == {119.4624, 109.5072, 103.5341}


def test_a_wick_touching_a_level_exactly_liquidates_it() -> None:
    level = 100 * OKX.long_factor(np.array([50.0]))[0]
    bars = [*flat(2), (100, 100, level, 100)]
    exposure = build_exposure(candles(*bars), oi_path(1e6, 2e6, 2e6, 2e6), FIVE)
    assert 98.443 not in {round(x, 3) for x in exposure.long_level}
    assert len(exposure.long_level) == 3


def test_positions_opened_after_a_wick_are_not_swept_by_it() -> None:
    bars = [(100, 100, 90, 100), *flat(3)]
    exposure = build_exposure(candles(*bars), oi_path(10e6, 10e6, 11e6, 11e6, 11e6), FIVE)
    assert len(exposure.long_level) == 5


def test_oi_falling_shrinks_exposure_proportionally() -> None:
    exposure = build_exposure(
        candles(*flat(5)), oi_path(10e6, 11e6, 11e6, 10.45e6, 10.45e6, 10.45e6), FIVE
    )
    assert exposure.long_usd.sum() == pytest.approx(0.5 * 1e6 * 0.95)
    assert exposure.short_usd.sum() == pytest.approx(0.5 * 1e6 * 0.95)
    # what opens after the fall is not shrunk by it
    later = build_exposure(
        candles(*flat(5)), oi_path(10e6, 11e6, 10.45e6, 11.45e6, 11.45e6, 11.45e6), FIVE
    )
    assert later.long_usd.sum() == pytest.approx(0.5 * (0.95e6 + 1e6))


@pytest.mark.parametrize(
    "oi",
    [
        oi_path(5e6, 5e6, 5e6, 5e6),
        oi_path(5e6, 4e6, 3e6, 2e6),
        oi_path(5e6),
        OpenInterest.empty(MIN),
    ],
    ids=["flat", "falling", "one-snapshot", "none"],
)
def test_flat_falling_or_missing_oi_gives_an_empty_map(oi: OpenInterest) -> None:
    liq_map = build_map(candles(*flat(3)), oi, FIVE)
    assert liq_map.is_empty
    assert liq_map.price == 100
    assert len(liq_map.edges) == 501


def test_no_candles_gives_an_empty_map() -> None:
    liq_map = build_map(Candles.empty(MIN), oi_path(1e6, 2e6), FIVE)
    assert liq_map.is_empty and liq_map.price == 0


def test_coarser_oi_is_spread_over_its_candles_by_volume() -> None:
    bars = candles(*flat(10), volume=[1, 1, 2, 0, 6, 1, 1, 1, 1, 1])
    opened, keeps = oi_flows(bars, oi_path(1e6, 1.001e6, 1.001e6, step=5 * MIN))
    assert opened.tolist() == pytest.approx([100, 100, 200, 0, 600, 0, 0, 0, 0, 0])
    assert keeps.tolist() == [1.0] * 10


def test_without_volume_the_change_is_spread_evenly_and_falls_shrink_per_candle() -> None:
    opened, keeps = oi_flows(candles(*flat(5)), oi_path(1e6, 0.9e6, step=5 * MIN))
    assert opened.tolist() == [0.0] * 5
    # five equal steps from 1.0M to 0.9M: each keeps its share of the OI before it
    levels = [1e6 - 20_000 * i for i in range(6)]
    expected = [after / before for before, after in itertools.pairwise(levels)]
    assert keeps.tolist() == pytest.approx(expected)
    assert np.prod(keeps) == pytest.approx(0.9)


def test_finer_oi_is_read_at_the_candle_steps() -> None:
    bars = Candles.from_rows(
        5 * MIN, [[0, 100, 100, 100, 100, 1], [5 * MIN, 100, 100, 100, 100, 1]]
    )
    oi = oi_path(*[1e6 + 1000 * i for i in range(11)], step=MIN)
    opened, _ = oi_flows(bars, oi)
    assert opened.tolist() == pytest.approx([5000, 5000])


DAY = 24 * 60 * MIN
HOUR = 60 * MIN


def daily_candles(days: int, volume: list[float] | None = None) -> Candles:
    """Daily candles opening at 00:00 UTC, as OKX's ``1Dutc`` bars do."""
    rows = [[d * DAY, 100, 100, 100, 100, volume[d] if volume else np.nan] for d in range(days)]
    return Candles.from_rows(DAY, rows)


def okx_daily_oi(*levels: float) -> OpenInterest:
    """Daily OI stamped at 16:00 UTC (UTC+8 midnight), as OKX's ``period=1D`` rows are."""
    return OpenInterest.from_rows(DAY, [[16 * HOUR + d * DAY, usd] for d, usd in enumerate(levels)])


def test_daily_oi_at_16_utc_is_spread_over_the_days_it_overlaps() -> None:
    # the rise from day 0 16:00 to day 1 16:00: 8 hours of day 0, 16 hours of day 1
    opened, keeps = oi_flows(daily_candles(3), okx_daily_oi(1e6, 1.3e6))
    assert opened.tolist() == pytest.approx([1e5, 2e5, 0])
    assert keeps.tolist() == [1.0] * 3
    # with volume, by overlap x volume: 8 x 1 against 16 x 4
    opened, _ = oi_flows(daily_candles(3, volume=[1, 4, 1]), okx_daily_oi(1e6, 1.072e6))
    assert opened.tolist() == pytest.approx([8_000, 64_000, 0])


def test_a_fall_between_offset_snapshots_shrinks_each_day_by_its_part() -> None:
    _, keeps = oi_flows(daily_candles(2), okx_daily_oi(1.2e6, 0.9e6))
    # OI at day 1's open is 1.2M - 0.1M = 1.1M; day 0 keeps 1.1/1.2 (its last 8 hours),
    # day 1 keeps 0.9/1.1 up to 16:00 and nothing is known after
    assert keeps.tolist() == pytest.approx([1.1 / 1.2, 0.9 / 1.1])


def test_the_part_of_a_change_outside_the_candles_is_not_counted() -> None:
    bars = Candles.from_rows(DAY, [[DAY, 100, 100, 100, 100, np.nan]])
    opened, _ = oi_flows(bars, okx_daily_oi(1e6, 1.3e6))
    assert opened.tolist() == pytest.approx([2e5]), "8 of the 24 hours were before the candle"
    opened, _ = oi_flows(daily_candles(1), okx_daily_oi(1e6, 1.3e6))
    assert opened.tolist() == pytest.approx([1e5]), "16 of the 24 hours were after it"


def test_a_gap_between_candles_leaves_its_share_to_the_candles_beside_it() -> None:
    rows = [[h * HOUR, 100, 100, 100, 100, 1.0] for h in (0, 1, 3)]  # hour 2 is missing
    bars = Candles.from_rows(HOUR, rows)
    four_hours = OpenInterest.from_rows(4 * HOUR, [[0, 1e6], [4 * HOUR, 1.3e6]])
    opened, _ = oi_flows(bars, four_hours)
    assert opened.tolist() == pytest.approx([1e5, 1e5, 1e5])
    hourly = OpenInterest.from_rows(HOUR, [[h * HOUR, 1e6 + 1e5 * h] for h in range(5)])
    opened, _ = oi_flows(bars, hourly)
    assert opened.tolist() == pytest.approx([1e5, 1e5, 1e5]), "hour 2's own rise is unplaced"


def test_a_daily_map_from_offset_daily_oi_is_not_empty() -> None:
    bars = Candles.from_rows(DAY, [[d * DAY, 100, 101, 99, 100, 10.0] for d in range(30)])
    rising = okx_daily_oi(*[1e6 * 1.01**d for d in range(30)])
    assert not build_map(bars, rising, FIVE).is_empty
    exposure = build_exposure(bars, rising, FIVE)
    # 5x levels sit 20% away, out of reach of 1% wicks: half the rise x the tier's 10% weight
    five_x = exposure.long_usd[exposure.long_tier == 0].sum()
    assert five_x == pytest.approx((rising.usd[-1] - rising.usd[0]) * 0.5 * 0.10)


@pytest.mark.parametrize("offset_minutes", [0, 1, 7, 30, 59])
def test_any_offset_between_oi_and_candles_works(offset_minutes: int) -> None:
    # hourly candles, hourly OI stamped ``offset`` minutes past each hour: the total opened
    # over the covered span is the OI rise, whatever the offset
    rows = [[h * HOUR, 100, 100, 100, 100, 1.0] for h in range(48)]
    bars = Candles.from_rows(HOUR, rows)
    oi = OpenInterest.from_rows(
        HOUR, [[offset_minutes * MIN + h * HOUR, 1e6 + 1e4 * h] for h in range(48)]
    )
    opened, keeps = oi_flows(bars, oi)
    covered_rise = 1e4 * 47
    assert opened.sum() == pytest.approx(covered_rise)
    assert keeps.tolist() == [1.0] * 48
    assert opened[-1] == pytest.approx(1e4 * offset_minutes / 60), "the last candle's part"


def test_the_naive_variant_neither_sweeps_nor_closes() -> None:
    bars = [*flat(3), (100, 100, 90, 100), *flat(1)]
    oi = oi_path(10e6, 10e6, 11e6, 11e6, 10e6, 10e6)
    model = build_exposure(candles(*bars), oi, FIVE)
    naive = build_exposure(candles(*bars), oi, FIVE.naive())
    assert len(model.long_level) == 1  # only the 5x long survives a drop to 90
    assert len(naive.long_level) == 5
    assert naive.long_usd.sum() == pytest.approx(500_000)


def test_exposure_fades_with_age_at_the_half_life() -> None:
    bars = [(100, 100, 100, 100)] * 121
    oi = oi_path(*([1e6, 2e6] + [2e6] * 120))
    aged = build_exposure(candles(*bars), oi, ModelParams(tiers=FIVE_TIERS, half_life_hours=1))
    # opened in the first candle, which closed 120 minutes before the map: a quarter is left
    assert aged.long_usd.sum() == pytest.approx(0.5 * 1e6 * 0.25)


def test_candle_direction_can_tilt_the_split() -> None:
    bars = [(100, 100, 100, 100), (99, 101, 99, 101), (101, 101, 101, 101)]
    params = ModelParams(tiers=(Tier(10, 1),), split_by_candle=0.3)
    exposure = build_exposure(candles(*bars), oi_path(1e6, 1e6, 2e6, 2e6), params)
    assert exposure.long_usd.sum() == pytest.approx(0.8e6)
    assert exposure.short_usd.sum() == pytest.approx(0.2e6)


def test_the_default_ladder_reaches_the_exchanges_125x_cap() -> None:
    ladder = leverage_ladder(3, 125, 48)
    assert ladder[0].leverage == 3 and ladder[-1].leverage == 125
    assert len(ladder) == 48
    assert np.all(np.diff([t.leverage for t in ladder]) > 0)
    assert ModelParams().tiers == ladder


def test_cumulative_curves_run_outward_from_the_price() -> None:
    liq_map = build_map(candles(*flat(5)), oi_path(10e6, 10e6, 11e6, 11e6, 11e6, 11e6), FIVE)
    below = liq_map.centers < 100
    assert liq_map.cum_long[below][-1] == 0  # nothing between the price and 99.5
    at_100x = int((99.4475 - 75.0) // 0.1)
    assert liq_map.cum_long[at_100x] == pytest.approx(100_000)  # a fall to 99.4 takes the 100x
    assert liq_map.cum_long[0] == pytest.approx(500_000)
    assert np.all(np.diff(liq_map.cum_long[below]) <= 0)
    assert liq_map.cum_short[-1] == pytest.approx(500_000)
    assert np.all(liq_map.cum_short[~(liq_map.centers > 100)] == 0)


def oi_layout(oi: OpenInterest, layout: str) -> OpenInterest:
    """The synthetic minute OI as other exchanges could stamp it."""
    if layout == "coarser":
        return OpenInterest(5 * MIN, oi.ts[::5], oi.usd[::5])
    if layout == "offset":  # every 7 minutes, 3 minutes 20 seconds off the candle grid
        return OpenInterest(7 * MIN, oi.ts[::7] + 200_000, oi.usd[::7])
    return oi


@pytest.mark.parametrize("tiers", [FIVE_TIERS, leverage_ladder(3, 125, 48)], ids=["5", "48"])
@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize("formula", list(Formula))
@pytest.mark.parametrize("layout", ["same", "coarser", "offset", "gaps"])
def test_the_array_model_equals_the_plain_python_loop(
    tiers: tuple[Tier, ...], naive: bool, formula: Formula, layout: str
) -> None:
    from benchmarks.reference_loop import build_map_loop
    from benchmarks.synthetic import market

    candles_, oi = market(minutes=3000, seed=7)
    if layout == "gaps":  # two stretches of missing candles, as after an exchange outage
        keep = np.ones(len(candles_), dtype=bool)
        keep[400:460] = keep[2000:2003] = False
        candles_ = Candles(candles_.step_ms, *(getattr(candles_, k)[keep] for k in
                           ("ts", "open", "high", "low", "close", "volume")))  # fmt: skip
    oi = oi_layout(oi, layout)
    params = ModelParams(tiers=tiers, margin=MarginRule(0.004, 0.0005, formula))
    params = params.naive() if naive else params
    liq_map = build_map(candles_, oi, params)
    edges, longs, shorts = build_map_loop(candles_, oi, params)
    assert liq_map.edges == pytest.approx(edges)
    assert liq_map.long_by_band == pytest.approx(np.array(longs), rel=1e-9, abs=1e-6)
    assert liq_map.short_by_band == pytest.approx(np.array(shorts), rel=1e-9, abs=1e-6)
    assert liq_map.long_usd.sum() > 0 and liq_map.short_usd.sum() > 0


def test_in_coins_a_move_of_price_alone_opens_nothing() -> None:
    # 100 coins held throughout while the price steps from 100 to 110: OI in USD rises 10%
    bars = [*flat(2), *flat(3, 110.0)]
    oi = oi_path(10_000, 10_000, 11_000, 11_000, 11_000, 11_000)
    no_sweep = replace(FIVE, sweep=False)
    in_usd = build_exposure(candles(*bars), oi, no_sweep)
    in_coins = build_exposure(candles(*bars), oi, replace(no_sweep, flows_in_coins=True))
    assert in_usd.long_usd.sum() + in_usd.short_usd.sum() == pytest.approx(1_000)
    assert in_coins.long_usd.sum() + in_coins.short_usd.sum() == 0


def test_in_coins_what_opens_is_valued_at_the_candle_price() -> None:
    # 100 coins more at a price of 110: $11,000 opened, half long, wherever it is read
    bars = [*flat(2, 110.0), *flat(3, 110.0)]
    oi = oi_path(11_000, 11_000, 22_000, 22_000, 22_000, 22_000)
    exposure = build_exposure(candles(*bars), oi, replace(FIVE, flows_in_coins=True))
    assert exposure.long_usd.sum() == pytest.approx(5_500)
    assert exposure.short_usd.sum() == pytest.approx(5_500)


def test_in_coins_a_fall_closes_by_the_coins_left() -> None:
    # 100 coins open at 100; the price doubles and OI in USD stays flat: half the coins closed
    bars = [*flat(2), *flat(3, 200.0)]
    oi = oi_path(0, 10_000, 10_000, 10_000, 10_000, 10_000)
    no_sweep = replace(FIVE, sweep=False)
    assert build_exposure(candles(*bars), oi, no_sweep).long_usd.sum() == pytest.approx(5_000)
    in_coins = build_exposure(candles(*bars), oi, replace(no_sweep, flows_in_coins=True))
    assert in_coins.long_usd.sum() == pytest.approx(2_500)


def test_in_coins_reads_each_snapshot_at_the_price_of_its_time() -> None:
    bars = [(100, 105, 95, 102), (102, 110, 100, 108)]
    oi = OpenInterest.from_rows(MIN, [[-MIN, 1_000], [0, 1_000], [MIN, 1_020], [2 * MIN, 1_080]])
    coins = in_coins(oi, candles(*bars))
    # before the first candle: its open; inside a candle: its open; after the last: its close
    assert coins.usd == pytest.approx([10, 10, 10, 10])


@pytest.mark.parametrize("formula", list(Formula))
@pytest.mark.parametrize("side", ["long", "short"])
def test_a_bankruptcy_price_becomes_the_trigger_price_of_the_same_position(
    formula: Formula, side: str
) -> None:
    """Bankruptcy is the rule with no maintenance and no fee; the trigger comes back exactly
    for the linear and inverse rules, within m/(L-1) of the price for Bybit's (entry as B)."""
    rule = MarginRule(0.005, 0.0005 if formula is Formula.LINEAR else 0.0, formula)
    broke = MarginRule(0.0, 0.0, formula)
    entry, leverage = 60_000.0, np.array([3.0, 10.0, 50.0, 125.0])
    factor = "long_factor" if side == "long" else "short_factor"
    trigger = entry * getattr(rule, factor)(leverage)
    bankruptcy = entry * getattr(broke, factor)(leverage)
    found = np.array([rule.trigger_from_bankruptcy(side, b) for b in bankruptcy])
    error = np.abs(found / trigger - 1)
    bound = rule.maintenance / (leverage - 1) if formula is Formula.LINEAR_BYBIT else 1e-12
    assert np.all(error <= bound)
    assert np.all((found > bankruptcy) if side == "long" else (found < bankruptcy))
