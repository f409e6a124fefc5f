"""The liquidation map model: candles and open interest in, surviving liquidation levels out.

Pure numpy over whole arrays; no clock, network or storage. See docs/architecture.md
section 2: OI rises open positions near the candle's price, split long/short and across a
ladder of leverages; OI falls close them proportionally; a later wick through a level
liquidates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from liqmap.engine.series import Candles, OpenInterest


@dataclass(frozen=True)
class Tier:
    """A leverage and the relative share of new exposure assumed to use it."""

    leverage: float
    weight: float


def leverage_ladder(lowest: float, highest: float, rungs: int) -> tuple[Tier, ...]:
    """``rungs`` leverages spaced evenly in log between two bounds, equally weighted."""
    leverages = np.unique(np.round(np.geomspace(lowest, highest, rungs), 1))
    return tuple(Tier(float(leverage), 1.0) for leverage in leverages)


FIVE_TIERS = (Tier(5, 0.10), Tier(10, 0.25), Tier(25, 0.25), Tier(50, 0.20), Tier(100, 0.20))
"""A common five-tier guess at traders' leverage; the default ladder measured better (README)."""

DEFAULT_TIERS = leverage_ladder(3, 125, 48)
"""3x to the exchanges' 125x cap: tuned on the first 3/4 of the hourly file in data/."""

BAND_EDGES = (10.0, 25.0, 50.0, 100.0)
BAND_LABELS = ("≤10x", "10-25x", "25-50x", "50-100x", ">100x")
"""Leverage bands the map reports (and the chart shades) instead of every rung."""


class Formula(StrEnum):
    """How an exchange computes the liquidation price of an isolated first-tier position.

    See docs/architecture.md: the rules differ by contract kind and exchange.
    """

    LINEAR = "linear"
    """USDT-margined, maintenance valued at the mark (OKX, Binance): long E(1-1/L)/(1-m-f)."""
    LINEAR_BYBIT = "linear_bybit"
    """USDT-margined, maintenance valued at entry (Bybit): long E(1-1/L+m)."""
    INVERSE = "inverse"
    """Coin-margined (OKX BTC-USD, Bybit BTCUSD and quarterlies): long E(1+m+f)/(1+1/L)."""


@dataclass(frozen=True)
class MarginRule:
    """The liquidation formula, first-tier maintenance-margin rate and fee counted in it.

    OKX counts the taker fee in the requirement; Binance's and Bybit's first tier do not
    (fee 0).
    """

    maintenance: float = 0.004
    fee: float = 0.0005
    formula: Formula = Formula.LINEAR

    def long_factor(self, leverage: np.ndarray) -> np.ndarray:
        """Liquidation price of a long over its entry price."""
        m = self.maintenance + self.fee
        if self.formula is Formula.INVERSE:
            return (1 + m) / (1 + 1 / leverage)
        if self.formula is Formula.LINEAR_BYBIT:
            return 1 - 1 / leverage + m
        return (1 - 1 / leverage) / (1 - m)

    def short_factor(self, leverage: np.ndarray) -> np.ndarray:
        """Liquidation price of a short over its entry price (infinite at 1x inverse)."""
        m = self.maintenance + self.fee
        if self.formula is Formula.INVERSE:
            with np.errstate(divide="ignore"):
                return (1 - m) / (1 - 1 / leverage)
        if self.formula is Formula.LINEAR_BYBIT:
            return 1 + 1 / leverage - m
        return (1 + 1 / leverage) / (1 + m)

    def trigger_from_bankruptcy(self, side: str, price: float) -> float:
        """The liquidation (trigger) price of a position whose bankruptcy price is ``price``.

        Bankruptcy is where the margin is gone: the formula with no maintenance and no fee.
        Dividing the two gives the trigger without the entry or leverage, exactly for the
        linear and inverse rules: long B/(1-m-f), short B/(1+m+f); inverse long B(1+m+f),
        short B(1-m-f). Bybit's linear rule values the margin at entry (T = B ± m·E), so the
        entry is taken as B: long B(1+m), short B(1-m), off the trigger by under
        m/(L-1) of the price (0.01% at 50x, 0.25% at 3x with m = 0.5%).
        """
        m = self.maintenance + self.fee
        up = side == "long"
        if self.formula is Formula.LINEAR:
            return price / (1 - m) if up else price / (1 + m)
        return price * (1 + m) if up else price * (1 - m)


@dataclass(frozen=True)
class ModelParams:
    """Everything the model assumes; the defaults are tuned by ``liqmap backtest``."""

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    margin: MarginRule = field(default_factory=MarginRule)
    long_share: float = 0.5
    """Share of new exposure assumed long."""
    split_by_candle: float = 0.0
    """How much a candle's direction tilts the split: share += this * (close-open)/range."""
    half_life_hours: float | None = None
    """Exposure fades with age at this half-life; None keeps it until closed or swept."""
    sweep: bool = True
    """Remove levels a later candle's wick crossed (liquidated)."""
    close_on_oi_drop: bool = True
    """Shrink all open exposure proportionally when open interest falls."""
    flows_in_coins: bool = False
    """Read opening and closing from open interest in coins (USD over the price then), so a
    move of price alone opens nothing; off: from the change of OI in USD (measured better)."""
    bin_pct: float = 0.1
    """Width of a price bin in percent of the current price."""
    range_pct: float = 25.0
    """The map spans this percentage below and above the current price."""

    def naive(self) -> ModelParams:
        """The variant several open-source maps use: no sweeping, no closing on OI falls."""
        return replace(self, sweep=False, close_on_oi_drop=False)

    def band_of_tier(self) -> np.ndarray:
        leverage = np.array([tier.leverage for tier in self.tiers])
        return np.searchsorted(np.array(BAND_EDGES), leverage, side="left")


@dataclass(frozen=True, eq=False)
class Exposure:
    """Surviving liquidation levels: price, USD and tier index, per side."""

    price: float
    as_of_ms: int
    long_level: np.ndarray
    long_usd: np.ndarray
    long_tier: np.ndarray
    short_level: np.ndarray
    short_usd: np.ndarray
    short_tier: np.ndarray

    def long_between(self, low: float, high: float) -> float:
        """USD of long levels in ``[low, high]``: what a drop from high to low liquidates."""
        inside = (self.long_level >= low) & (self.long_level <= high)
        return float(self.long_usd[inside].sum())

    def short_between(self, low: float, high: float) -> float:
        """USD of short levels in ``[low, high]``: what a rise from low to high liquidates."""
        inside = (self.short_level >= low) & (self.short_level <= high)
        return float(self.short_usd[inside].sum())


@dataclass(frozen=True, eq=False)
class LiquidationMap:
    """Liquidation USD per price bin and side, per leverage band, as of a time and price."""

    price: float
    as_of_ms: int
    edges: np.ndarray
    long_by_band: np.ndarray
    """Shape (bands, bins)."""
    short_by_band: np.ndarray
    bands: tuple[str, ...] = BAND_LABELS

    @property
    def centers(self) -> np.ndarray:
        centers: np.ndarray = (self.edges[:-1] + self.edges[1:]) / 2
        return centers

    @property
    def long_usd(self) -> np.ndarray:
        usd: np.ndarray = self.long_by_band.sum(axis=0)
        return usd

    @property
    def short_usd(self) -> np.ndarray:
        usd: np.ndarray = self.short_by_band.sum(axis=0)
        return usd

    @property
    def cum_long(self) -> np.ndarray:
        """Long USD liquidated by a fall from the price down to each bin (0 above the price)."""
        below = self.centers < self.price
        return np.cumsum(np.where(below, self.long_usd, 0.0)[::-1])[::-1] * below

    @property
    def cum_short(self) -> np.ndarray:
        """Short USD liquidated by a rise from the price up to each bin (0 below the price)."""
        above = self.centers > self.price
        return np.cumsum(np.where(above, self.short_usd, 0.0)) * above

    @property
    def is_empty(self) -> bool:
        return not (self.long_by_band.any() or self.short_by_band.any())


def oi_flows(candles: Candles, oi: OpenInterest) -> tuple[np.ndarray, np.ndarray]:
    """Per candle: open interest opened (>= 0, in OI's unit) and the share of earlier exposure
    that survives closing.

    Snapshots are aligned to candles by time, not by exact stamps, so OI may come finer,
    coarser or offset from the candle grid (OKX stamps daily OI at 16:00 UTC). Time is cut
    at every candle boundary and snapshot into segments; each OI change between two
    snapshots is spread over its segments by duration x the candle's volume (duration alone
    where the interval has no volume). The part of an interval before the first candle or
    after the last gets the interval's mean volume and its share is dropped: that exposure
    was opened outside the window. A gap between candles (an exchange outage) gets none:
    the change goes to the candles beside it.
    """
    n = len(candles)
    opened = np.zeros(n)
    keeps = np.ones(n)
    if n == 0 or len(oi) < 2:
        return opened, keeps
    starts = candles.ts
    ends = starts + candles.step_ms
    first = max(int(np.searchsorted(oi.ts, starts[0], side="right")) - 1, 0)
    last = min(int(np.searchsorted(oi.ts, ends[-1], side="left")), len(oi) - 1)
    if last <= first:
        return opened, keeps
    snap_ts, snap_usd = oi.ts[first : last + 1], oi.usd[first : last + 1]
    contiguous = ends[-1] - starts[0] == n * candles.step_ms
    bounds = np.append(starts, ends[-1]) if contiguous else _merged(starts, ends)
    cuts = _merged(bounds, snap_ts)
    cuts = cuts[(cuts >= snap_ts[0]) & (cuts <= snap_ts[-1])]
    seg_start, length = cuts[:-1], np.diff(cuts).astype(np.float64)
    interval: NDArray[np.intp] = np.searchsorted(snap_ts, seg_start, side="right") - 1
    if contiguous:
        candle = np.minimum((seg_start - starts[0]) // candles.step_ms, n - 1)
    else:
        candle = np.searchsorted(starts, seg_start, side="right") - 1
    covered = (candle >= 0) & (seg_start < ends[np.maximum(candle, 0)])
    volume = np.where(covered, candles.volume[np.maximum(candle, 0)], 0.0)
    density = np.where(np.isfinite(volume) & (volume > 0), volume, 0.0)
    intervals = len(snap_ts) - 1

    def per_interval(values: np.ndarray) -> np.ndarray:
        return np.bincount(interval, weights=values, minlength=intervals)[interval]

    outside = (seg_start < starts[0]) | (seg_start >= ends[-1])
    covered_time = per_interval(np.where(covered, length, 0.0))
    mean_density = per_interval(length * density) / np.where(covered_time > 0, covered_time, 1)
    weight = np.where(covered, length * density, np.where(outside, length * mean_density, 0))
    weight = np.where(mean_density > 0, weight, np.where(covered | outside, length, 0))
    total = per_interval(weight)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    delta = np.diff(snap_usd)[interval] * share
    before = np.cumsum(delta) - delta
    opening = np.maximum.accumulate(np.where(_starts(interval), np.arange(len(interval)), 0))
    level = snap_usd[interval] + before - before[opening]  # OI at each segment's start
    per_candle = np.bincount(candle[covered], weights=delta[covered], minlength=n)
    inside = np.flatnonzero(covered)
    first_segment = inside[_changes(candle[inside])]
    start_level = np.zeros(n)
    start_level[candle[first_segment]] = level[first_segment]
    opened = np.maximum(per_candle, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(start_level > 0, (start_level + per_candle) / start_level, 1.0)
    keeps = np.where(per_candle < 0, np.clip(kept, 0.0, 1.0), 1.0)
    return opened, keeps


def in_coins(oi: OpenInterest, candles: Candles) -> OpenInterest:
    """Open interest in coins: each snapshot's USD over the price at its time (the open of
    the candle it falls in; the first open before the candles, the last close after them)."""
    if not len(candles):
        return oi
    inside = np.searchsorted(candles.ts, oi.ts, side="right") - 1
    candle = np.clip(inside, 0, len(candles) - 1)
    after = oi.ts >= candles.ts[-1] + candles.step_ms
    price = np.where(after, candles.close[-1], candles.open[candle])
    return OpenInterest(oi.step_ms, oi.ts, oi.usd / price)


def build_exposure(candles: Candles, oi: OpenInterest, params: ModelParams) -> Exposure:
    """Surviving liquidation levels after the last candle.

    Per candle, the ladder's levels on a side are ordered by distance from entry, so a
    later wick sweeps the nearest ones first and the survivors are a prefix of the far
    ones: only surviving (candle, tier) pairs are ever built.
    """
    n = len(candles)
    price = float(candles.close[-1]) if n else 0.0
    as_of = int(candles.ts[-1]) + candles.step_ms if n else 0
    opened, keeps = oi_flows(candles, in_coins(oi, candles) if params.flows_in_coins else oi)
    rows = np.flatnonzero(opened > 0)
    entry = (candles.high[rows] + candles.low[rows] + candles.close[rows]) / 3
    if params.flows_in_coins:
        opened[rows] *= entry

    alive = opened[rows]
    if params.close_on_oi_drop and rows.size:
        log_kept = np.cumsum(np.log(np.maximum(keeps, 1e-300)))
        alive = alive * np.exp(log_kept[-1] - log_kept[rows])
    if params.half_life_hours and rows.size:
        age_hours = (as_of - (candles.ts[rows] + candles.step_ms)) / 3_600_000
        alive = alive * np.exp2(-age_hours / params.half_life_hours)
    long_share = np.full(rows.size, params.long_share)
    if params.split_by_candle and rows.size:
        o, h, low, c = (candles.open[rows], candles.high[rows], candles.low[rows],
                        candles.close[rows])  # fmt: skip
        span = np.where(h > low, h - low, 1.0)
        long_share = np.clip(long_share + params.split_by_candle * (c - o) / span, 0.0, 1.0)

    leverage = np.array([tier.leverage for tier in params.tiers])
    weight = np.array([tier.weight for tier in params.tiers])
    weight = weight / weight.sum()
    if params.sweep and rows.size:
        later_low, later_high = _later_extremes(candles.low, candles.high)
        long_reach, short_reach = later_low[rows] / entry, later_high[rows] / entry
    else:
        long_reach = np.full(rows.size, np.inf)
        short_reach = np.full(rows.size, -np.inf)
    long_level, long_usd, long_tier = _survivors(
        entry, alive * long_share, params.margin.long_factor(leverage), weight, long_reach, +1
    )
    short_level, short_usd, short_tier = _survivors(
        entry, alive * (1 - long_share), params.margin.short_factor(leverage), weight,
        short_reach, -1,
    )  # fmt: skip
    return Exposure(
        price, as_of, long_level, long_usd, long_tier, short_level, short_usd, short_tier
    )


def bin_exposure(
    exposure: Exposure, params: ModelParams, price: float | None = None
) -> LiquidationMap:
    """Sum surviving levels into bins of ``bin_pct`` around the price, per side and band.

    ``price`` centres the bins elsewhere than the exposure's own last close: maps of several
    exchanges binned around one price add up bin by bin (``combine_maps``).
    """
    bands = len(BAND_LABELS)
    price = exposure.price if price is None else price
    if price <= 0:
        empty = np.zeros((bands, 0))
        return LiquidationMap(0.0, exposure.as_of_ms, np.zeros(1), empty, empty)
    half = max(1, round(params.range_pct / params.bin_pct))
    width = price * params.bin_pct / 100
    low_edge = price - half * width
    band = params.band_of_tier()

    def side(level: np.ndarray, usd: np.ndarray, tier: np.ndarray) -> np.ndarray:
        index = np.floor((level - low_edge) / width).astype(np.int64)
        inside = (index >= 0) & (index < 2 * half)
        flat = band[tier[inside]] * (2 * half) + index[inside]
        weights = usd[inside]
        return np.bincount(flat, weights, minlength=bands * 2 * half).reshape(bands, 2 * half)

    return LiquidationMap(
        price=price,
        as_of_ms=exposure.as_of_ms,
        edges=low_edge + width * np.arange(2 * half + 1),
        long_by_band=side(exposure.long_level, exposure.long_usd, exposure.long_tier),
        short_by_band=side(exposure.short_level, exposure.short_usd, exposure.short_tier),
    )


def combine_maps(maps: list[LiquidationMap]) -> LiquidationMap:
    """The bin-by-bin sum of maps binned on the same edges (one per exchange)."""
    first = maps[0]
    return LiquidationMap(
        price=first.price,
        as_of_ms=max(m.as_of_ms for m in maps),
        edges=first.edges,
        long_by_band=sum((m.long_by_band for m in maps), np.zeros_like(first.long_by_band)),
        short_by_band=sum((m.short_by_band for m in maps), np.zeros_like(first.short_by_band)),
        bands=first.bands,
    )


def build_map(
    candles: Candles, oi: OpenInterest, params: ModelParams | None = None
) -> LiquidationMap:
    """The liquidation map after the last candle."""
    params = params or ModelParams()
    return bin_exposure(build_exposure(candles, oi, params), params)


def _survivors(
    entry: np.ndarray,
    usd: np.ndarray,
    factor: np.ndarray,
    weight: np.ndarray,
    reach: np.ndarray,
    direction: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels ``entry * factor`` beyond each row's ``reach`` (in entry units), with USD.

    ``direction`` +1: longs, which survive while their level is below the reach; -1: shorts,
    above it. Far levels first, so the survivors of a row are a prefix of the ladder.
    """
    order = np.argsort(direction * factor, kind="stable")
    ladder = direction * factor[order]
    count = np.searchsorted(ladder, direction * reach, side="left")
    count = np.where(usd > 0, count, 0)
    row = np.repeat(np.arange(len(entry)), count)
    rung = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    tier = order[rung]
    return entry[row] * factor[tier], usd[row] * weight[tier], tier


def _starts(ordered: np.ndarray) -> np.ndarray:
    """Where a sorted array takes a new value (True at the first of each run)."""
    return np.concatenate(([True], ordered[1:] != ordered[:-1]))


def _changes(ordered: np.ndarray) -> NDArray[np.intp]:
    """Indices where a sorted array takes a new value."""
    return np.flatnonzero(_starts(ordered))


def _merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays (a linear merge: timsort finds the two runs)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")
    return both[_changes(both)]


def _later_extremes(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candle, the lowest low and highest high of all candles after it."""
    later_low = np.empty_like(low)
    later_high = np.empty_like(high)
    later_low[-1], later_high[-1] = np.inf, -np.inf
    later_low[:-1] = np.minimum.accumulate(low[:0:-1])[::-1]
    later_high[:-1] = np.maximum.accumulate(high[:0:-1])[::-1]
    return later_low, later_high
