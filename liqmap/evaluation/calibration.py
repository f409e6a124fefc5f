"""The estimated map checked against the real one: where a venue publishes its positions
(Hyperliquid), the real liquidation USD per bin and the real leverage mix are a ground truth.

Three figures per asset: the rank correlation of USD per bin near the price, the share of the
real USD that falls inside the estimate's top clusters, and the real leverage mix by notional
against the model's tiers; and the tier weights fitted to that mix. Pure: no clock, network or
database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from liqmap.engine.clusters import LONG, SHORT, ClusterRules, find_clusters
from liqmap.engine.model import BAND_EDGES, BAND_LABELS, LiquidationMap, ModelParams, Tier
from liqmap.engine.real_layer import RealLayer
from liqmap.evaluation.backtest import TOP_CLUSTERS, History, score_run, spearman, walk_forward
from liqmap.market.positions import Position

NEAR_PCT = 10.0
"""The rank correlation reads the bins within this percentage of the price."""
MIN_REAL_BINS = 5
"""Fewer bins holding real USD than this give no rank correlation: a handful of positions
ranks nothing."""


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman rank correlation of estimated against real USD per bin near the price, over
    both sides' bins together and per side; None where it cannot be told (see
    ``rank_correlation``)."""

    both: float | None
    long: float | None
    short: float | None
    long_bins: int
    short_bins: int
    """Bins of each side holding real USD."""


def rank_correlation(
    estimate: np.ndarray, real: np.ndarray, min_real_bins: int = MIN_REAL_BINS
) -> float | None:
    """Spearman of ``estimate`` against ``real`` (ties take their average rank); None with
    fewer than ``min_real_bins`` non-zero real values, or when either side is constant."""
    estimate = np.asarray(estimate, dtype=float)
    real = np.asarray(real, dtype=float)
    if len(estimate) != len(real):
        raise ValueError(f"{len(estimate)} estimated values against {len(real)} real ones")
    if np.count_nonzero(real) < min_real_bins:
        return None
    rho = spearman(estimate, real)
    return None if math.isnan(rho) else rho


def map_correlation(
    estimate: LiquidationMap, real: RealLayer, near_pct: float = NEAR_PCT
) -> RankCorrelation:
    """The rank correlation of USD per bin within ``near_pct`` of the price: longs on the bins
    below it, shorts on those above (where each side liquidates), and both sides as one series
    of (side, bin) pairs."""
    if len(estimate.edges) != len(real.edges) or not np.allclose(estimate.edges, real.edges):
        raise ValueError("the real layer is not on the estimated map's bins")
    centers, price = estimate.centers, estimate.price
    below = (centers < price) & (centers >= price * (1 - near_pct / 100))
    above = (centers > price) & (centers <= price * (1 + near_pct / 100))
    est = np.concatenate([estimate.long_usd[below], estimate.short_usd[above]])
    got = np.concatenate([real.long_usd[below], real.short_usd[above]])
    longs = int(below.sum())
    return RankCorrelation(
        both=rank_correlation(est, got),
        long=rank_correlation(est[:longs], got[:longs]),
        short=rank_correlation(est[longs:], got[longs:]),
        long_bins=int(np.count_nonzero(got[:longs])),
        short_bins=int(np.count_nonzero(got[longs:])),
    )


@dataclass(frozen=True)
class ClusterShare:
    """How much of the real USD the estimate's top clusters hold, against how much of the
    map's price range they span (what any band that wide would hold on an even map)."""

    clusters: int
    usd_share: float | None
    """Real USD inside the clusters (longs in long clusters, shorts in short ones) over all
    the real USD on the map; None when there is none."""
    range_share: float
    """The clusters' bins over the map's bins."""


def top_cluster_share(
    estimate: LiquidationMap, real: RealLayer, top: int = TOP_CLUSTERS
) -> ClusterShare:
    """The share of the real USD inside the estimate's ``top`` densest clusters of each side
    (the finder's ranking, as the backtest's cluster lift takes them)."""
    clusters = find_clusters(estimate, ClusterRules(limit=top))
    centers = estimate.centers
    in_long = np.zeros(len(centers), dtype=bool)
    in_short = np.zeros(len(centers), dtype=bool)
    for cluster in clusters:
        inside = (centers >= cluster.low) & (centers <= cluster.high)
        if cluster.side == LONG:
            in_long |= inside
        else:
            in_short |= inside
    total = real.total_usd
    held = float(real.long_usd[in_long].sum() + real.short_usd[in_short].sum())
    return ClusterShare(
        clusters=len(clusters),
        usd_share=held / total if total > 0 else None,
        range_share=float((in_long | in_short).sum()) / max(len(centers), 1),
    )


def usd_by_leverage(positions: Iterable[Position]) -> dict[float, float]:
    """The positions' notional (USD value) per leverage, by leverage."""
    usd: dict[float, float] = {}
    for position in positions:
        if position.value > 0 and position.leverage > 0:
            usd[position.leverage] = usd.get(position.leverage, 0.0) + position.value
    return dict(sorted(usd.items()))


def notional_by_leverage(positions: Iterable[Position]) -> dict[float, float]:
    """Each leverage's share of the positions' notional, by leverage."""
    usd = usd_by_leverage(positions)
    total = sum(usd.values())
    return {lev: value / total for lev, value in usd.items()} if total > 0 else {}


def nearest_tier(leverages: Sequence[float], tiers: Sequence[Tier]) -> np.ndarray:
    """The index of the tier nearest each leverage in log space (1x goes to the lowest rung,
    a leverage past the ceiling to the highest)."""
    rungs = np.log([tier.leverage for tier in tiers])
    distance = np.abs(np.log(np.asarray(leverages, dtype=float))[:, None] - rungs)
    index: np.ndarray = distance.argmin(axis=1)
    return index


@dataclass(frozen=True)
class LeverageMix:
    """The real notional per tier of the model against the model's tier weights, both as
    shares summing to 1 (the real ones to 0 without positions)."""

    tiers: tuple[Tier, ...]
    real: tuple[float, ...]
    model: tuple[float, ...]
    real_by_band: tuple[float, ...]
    """The real notional per leverage band (``BAND_LABELS``), each position by its own
    leverage."""
    model_by_band: tuple[float, ...]
    notional: float


def leverage_mix(positions: Iterable[Position], tiers: Sequence[Tier]) -> LeverageMix:
    """The positions' notional on the model's tiers (each at the tier nearest its leverage in
    log space) and by band, against the tiers' weights."""
    usd = usd_by_leverage(positions)
    notional = sum(usd.values())
    shares = {lev: value / notional for lev, value in usd.items()}
    weights = np.array([tier.weight for tier in tiers], dtype=float)
    model = weights / weights.sum()
    real = np.zeros(len(tiers))
    if shares:
        np.add.at(real, nearest_tier(list(shares), tiers), list(shares.values()))
    model_bands = np.searchsorted(BAND_EDGES, [t.leverage for t in tiers], side="left")
    real_bands = np.searchsorted(BAND_EDGES, list(shares), side="left")
    return LeverageMix(
        tiers=tuple(tiers),
        real=tuple(float(x) for x in real),
        model=tuple(float(x) for x in model),
        real_by_band=_by_band(real_bands, list(shares.values())),
        model_by_band=_by_band(model_bands, model),
        notional=notional,
    )


def _by_band(bands: np.ndarray, shares: Sequence[float] | np.ndarray) -> tuple[float, ...]:
    summed = np.bincount(bands, weights=np.asarray(shares, dtype=float), minlength=len(BAND_LABELS))
    return tuple(float(x) for x in summed)


def fitted_tiers(mix: LeverageMix) -> tuple[Tier, ...] | None:
    """The model's rungs weighted by the real notional on each; a rung that holds none is
    dropped, not floored (a weight of nothing adds no level to the map, and a floor would
    invent mass no account showed). None without any real notional."""
    kept = tuple(Tier(t.leverage, w) for t, w in zip(mix.tiers, mix.real, strict=True) if w > 0)
    return kept or None


@dataclass(frozen=True)
class TierScore:
    """The backtest's partial Spearman of each side over every hour it scores."""

    long: float
    short: float

    @property
    def total(self) -> float:
        """Both sides summed: the figure that decides."""
        return self.long + self.short


def tier_score(history: History, params: ModelParams) -> TierScore:
    """The walk forward of ``history`` under ``params``, scored over all its hours."""
    run = walk_forward(history, params)
    return TierScore(score_run(run, LONG).partial, score_run(run, SHORT).partial)


@dataclass(frozen=True)
class TierVerdict:
    """The backtest's score with the model's tiers and with the fitted ones: the fitted are
    kept only if they raise it."""

    current: TierScore
    fitted: TierScore

    @property
    def keep(self) -> bool:
        return keep_fitted(self.current.total, self.fitted.total)


def tier_verdict(history: History, params: ModelParams, fitted: Sequence[Tier]) -> TierVerdict:
    """The backtest of ``history`` with ``params`` as they are, and with the ``fitted`` tiers
    instead of theirs (all else the same)."""
    return TierVerdict(
        current=tier_score(history, params),
        fitted=tier_score(history, replace(params, tiers=tuple(fitted))),
    )


def keep_fitted(current: float, fitted: float) -> bool:
    """Whether fitted tiers replace the current ones: only when their score is higher; an
    undefined score on either side decides nothing, so the current ones stay."""
    return math.isfinite(current) and math.isfinite(fitted) and fitted > current


@dataclass(frozen=True)
class Calibration:
    """One asset's estimated map held against its real positions at one time."""

    positions: int
    """Positions read of the asset (all of them count in the leverage mix)."""
    coverage: float | None
    """Their notional over the open interest."""
    correlation: RankCorrelation
    clusters: ClusterShare
    mix: LeverageMix


def calibrate(
    estimate: LiquidationMap, real: RealLayer, positions: Sequence[Position], tiers: Sequence[Tier]
) -> Calibration:
    """Every figure of one asset: ``real`` on ``estimate``'s bins, ``positions`` those it was
    binned from, ``tiers`` the model's for the asset."""
    return Calibration(
        positions=len(positions),
        coverage=real.coverage,
        correlation=map_correlation(estimate, real),
        clusters=top_cluster_share(estimate, real),
        mix=leverage_mix(positions, tiers),
    )
