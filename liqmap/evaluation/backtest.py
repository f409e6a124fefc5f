"""Walk-forward measurement of how well the map predicts realized liquidations.

For each hour t, the map built from data before t predicts the long exposure between the
hour's open and low (and the short exposure between open and high). Compared with the
realized liquidations of hour t: Spearman, the excursion-only baseline, the partial
Spearman controlling for the excursion, and the lift in hours that entered a top cluster.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from liqmap.engine.clusters import LONG, SHORT, ClusterRules, find_clusters
from liqmap.engine.model import ModelParams, bin_exposure, build_exposure, combine_maps
from liqmap.engine.series import Candles, Liquidations, OpenInterest
from liqmap.engine.snapshot import VenueData
from liqmap.market.instruments import ALL
from liqmap.market.timeframes import HOUR_MS
from liqmap.market.venue_split import VenueSlice, scaled, venue_slices

TOP_CLUSTERS = 3
EXCURSION_BUCKETS = 10


@dataclass(frozen=True, eq=False)
class WalkForward:
    """Per evaluated hour: predicted swept USD, price excursion, realized USD, cluster entry."""

    ts: np.ndarray
    predicted_long: np.ndarray
    predicted_short: np.ndarray
    excursion_long: np.ndarray
    excursion_short: np.ndarray
    realized_long: np.ndarray
    realized_short: np.ndarray
    entered_long: np.ndarray
    entered_short: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def part(self, rows: slice | np.ndarray) -> WalkForward:
        """The hours in a slice, or where a mask (one bool per hour) holds."""
        return WalkForward(**{k: v[rows] for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class SideScore:
    """The figures of one side over a set of hours."""

    spearman: float
    baseline: float
    partial: float
    lift: float
    hours: int
    entered_hours: int


@dataclass(frozen=True)
class PartScore:
    """Model and naive variant, both sides, over one part of the file."""

    name: str
    start_ms: int
    end_ms: int
    hours: int
    long: SideScore
    short: SideScore
    naive_long: SideScore
    naive_short: SideScore


class History(Protocol):
    """What a walk forward reads: candles, open interest and the realized liquidations of each
    candle (a ``CsvHistory``, or a venue's cached market with its recorded liquidations)."""

    @property
    def candles(self) -> Candles: ...

    @property
    def open_interest(self) -> OpenInterest: ...

    @property
    def liquidations(self) -> Liquidations: ...


WARMUP_HOURS = 168
"""The week of bars a walk forward only builds the map from, before it scores any."""


def first_hour(step_ms: int, warmup_hours: float) -> int:
    """Index of the first candle a walk forward scores: the warm-up only builds the map."""
    return max(1, round(warmup_hours * HOUR_MS / step_ms))


def walk_forward(
    history: History,
    params: ModelParams | Sequence[VenueSlice],
    lookback_hours: float = 720,
    warmup_hours: float = WARMUP_HOURS,
    clusters: bool = True,
    hours: np.ndarray | None = None,
) -> WalkForward:
    """Predict every hour after the warm-up from the ``lookback`` before it.

    With venue slices, each venue's map is built from its share of the open interest under
    its own rules, and the maps are summed (the aggregate map of ``split_history``).
    ``hours`` (one bool per candle) restricts the scored hours, e.g. to those a recorder
    watched whole; the maps still see every candle before each hour.
    """
    slices = (VenueSlice("", 1.0, params),) if isinstance(params, ModelParams) else params
    parts = [
        VenueData(s.exchange, history.candles, scaled(history.open_interest, s.share), s.params)
        for s in slices
    ]
    return walk_forward_venues(
        parts, history.liquidations, lookback_hours, warmup_hours, clusters, hours
    )


def walk_forward_venues(
    parts: Sequence[VenueData],
    realized: Liquidations,
    lookback_hours: float = 720,
    warmup_hours: float = WARMUP_HOURS,
    clusters: bool = True,
    hours: np.ndarray | None = None,
) -> WalkForward:
    """The walk forward of maps summed over venues, each from its own candles, open interest
    and rules, against ``realized`` summed over them.

    The scored candles are ``realized.ts`` (every part must have a candle at each); a venue's
    levels are swept by its own prices, while the excursion and cluster entry are measured on
    the median of the venues' prices, around which the summed map is binned.
    """
    step = parts[0].candles.step_ms
    lookback = max(1, round(lookback_hours * HOUR_MS / step))
    scored = np.arange(first_hour(step, warmup_hours), len(realized))
    if hours is not None:
        scored = scored[hours[scored]]
    at = [np.searchsorted(p.candles.ts, realized.ts) for p in parts]
    oi_end = [np.searchsorted(p.oi.ts, realized.ts, side="right") for p in parts]
    o, h, low = (
        np.median([getattr(p.candles, field)[i] for p, i in zip(parts, at, strict=True)], axis=0)
        for field in ("open", "high", "low")
    )
    rows = {k: np.zeros(len(scored)) for k in ("pl", "ps")}
    entered = {k: np.zeros(len(scored), dtype=bool) for k in (LONG, SHORT)}
    rules = ClusterRules(limit=TOP_CLUSTERS)
    for out, t in enumerate(scored):
        exposures = []
        for part, i, oi in zip(parts, at, oi_end, strict=True):
            c = part.candles
            exposure = build_exposure(
                c[max(0, i[t] - lookback) : i[t]], part.oi[: oi[t]], part.params
            )
            rows["pl"][out] += exposure.long_between(c.low[i[t]], c.open[i[t]])
            rows["ps"][out] += exposure.short_between(c.open[i[t]], c.high[i[t]])
            exposures.append(exposure)
        if clusters:
            price = statistics.median(e.price for e in exposures)
            liq_map = combine_maps(
                [bin_exposure(e, p.params, price) for e, p in zip(exposures, parts, strict=True)]
            )
            for cluster in find_clusters(liq_map, rules):
                if cluster.side == LONG and low[t] <= cluster.high:
                    entered[LONG][out] = True
                if cluster.side == SHORT and h[t] >= cluster.low:
                    entered[SHORT][out] = True
    return WalkForward(
        ts=realized.ts[scored],
        predicted_long=rows["pl"],
        predicted_short=rows["ps"],
        excursion_long=(o[scored] - low[scored]) / o[scored],
        excursion_short=(h[scored] - o[scored]) / o[scored],
        realized_long=realized.long_usd[scored],
        realized_short=realized.short_usd[scored],
        entered_long=entered[LONG],
        entered_short=entered[SHORT],
    )


def score_side(
    predicted: np.ndarray, excursion: np.ndarray, realized: np.ndarray, entered: np.ndarray
) -> SideScore:
    return SideScore(
        spearman=spearman(predicted, realized),
        baseline=spearman(excursion, realized),
        partial=partial_spearman(predicted, realized, excursion),
        lift=cluster_lift(entered, excursion, realized),
        hours=len(realized),
        entered_hours=int(entered.sum()),
    )


def score_run(run: WalkForward, which: str) -> SideScore:
    """The figures of one side (``long`` or ``short``) of a run."""
    return score_side(
        getattr(run, f"predicted_{which}"),
        getattr(run, f"excursion_{which}"),
        getattr(run, f"realized_{which}"),
        getattr(run, f"entered_{which}"),
    )


def score_part(name: str, model: WalkForward, naive: WalkForward) -> PartScore:
    return PartScore(
        name=name,
        start_ms=int(model.ts[0]) if len(model) else 0,
        end_ms=int(model.ts[-1]) if len(model) else 0,
        hours=len(model),
        long=score_run(model, LONG),
        short=score_run(model, SHORT),
        naive_long=score_run(naive, LONG),
        naive_short=score_run(naive, SHORT),
    )


def backtest(
    history: History, params: ModelParams | None = None, fit_share: float = 0.75
) -> list[PartScore]:
    """Model and naive variant over the whole file, its first ``fit_share`` and the rest."""
    params = params or ModelParams()
    model = walk_forward(history, params)
    naive = walk_forward(history, params.naive())
    cut = int(len(model) * fit_share)
    return [
        score_part("all", model, naive),
        score_part("fit", model.part(slice(None, cut)), naive.part(slice(None, cut))),
        score_part("check", model.part(slice(cut, None)), naive.part(slice(cut, None))),
    ]


@dataclass(frozen=True)
class VenueScore:
    """The model on the fit and check parts under one venue's rules applied to the whole
    open interest, or (``all``) summed over venues, each with its assumed share."""

    venue: str
    fit_long: SideScore
    fit_short: SideScore
    check_long: SideScore
    check_short: SideScore


def venue_scores(
    history: History, base: ModelParams | None = None, fit_share: float = 0.75
) -> list[VenueScore]:
    """One row per venue of ``venue_slices`` and one for their aggregate, ``all``."""
    slices = venue_slices(base)
    runs = {s.exchange: walk_forward(history, s.params) for s in slices}
    runs[ALL] = walk_forward(history, slices)
    cut = int(len(runs[ALL]) * fit_share)
    rows = []
    for venue, run in runs.items():
        fit, check = run.part(slice(None, cut)), run.part(slice(cut, None))
        scores = (score_run(part, side) for part in (fit, check) for side in (LONG, SHORT))
        rows.append(VenueScore(venue, *scores))
    return rows


def as_dict(parts: list[PartScore]) -> dict[str, dict[str, Any]]:
    return {part.name: asdict(part) for part in parts}


# -- statistics ------------------------------------------------------------------------------


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    average = (starts + ends + 1) / 2
    result = np.empty(len(values))
    result[order] = np.repeat(average, ends - starts)
    return result


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    scale = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / scale) if scale > 0 else float("nan")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation; NaN when either side is constant or there are fewer than 3 values."""
    if len(x) < 3:
        return float("nan")
    return _pearson(ranks(x), ranks(y))


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Rank correlation of x and y with the part explained by z removed."""
    rxy, rxz, ryz = spearman(x, y), spearman(x, z), spearman(y, z)
    denominator = np.sqrt((1 - rxz**2) * (1 - ryz**2))
    return float((rxy - rxz * ryz) / denominator) if denominator > 0 else float("nan")


def cluster_lift(entered: np.ndarray, excursion: np.ndarray, realized: np.ndarray) -> float:
    """Realized USD in hours that entered a cluster over hours of like excursion that did not.

    Hours are bucketed by excursion deciles; in each bucket with both kinds of hour the
    ratio of mean realized USD is taken, and the ratios are averaged weighted by the
    entered hours. 1.0 means entering a cluster tells nothing beyond the excursion.
    """
    if not entered.any() or entered.all():
        return float("nan")
    edges = np.quantile(excursion, np.linspace(0, 1, EXCURSION_BUCKETS + 1)[1:-1])
    bucket = np.searchsorted(edges, excursion, side="right")
    ratios, weights = [], []
    for b in np.unique(bucket):
        inside = bucket == b
        hit, miss = realized[inside & entered], realized[inside & ~entered]
        if len(hit) and len(miss) and miss.mean() > 0:
            ratios.append(hit.mean() / miss.mean())
            weights.append(len(hit))
    return float(np.average(ratios, weights=weights)) if ratios else float("nan")
