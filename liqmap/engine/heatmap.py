"""The liquidation heatmap: the map as it stood at each time, on one fixed price grid.

Pure numpy over whole arrays; no clock, network or storage. Column ``c`` holds exactly what
``build_exposure`` gives after that column's candle, binned on the heatmap's edges, longs
and shorts apart. It is built from the lifetimes of the levels rather than one map per
column: a level (candle ``i``, leverage rung, side) is born after candle ``i`` with USD
``u`` and lives until the first later candle whose wick reaches it (that candle's column no
longer has it); at column ``t`` it holds ``u * K[t] / K[i]``, where ``K`` is the running
product of the OI-closing factors (times the half-life's decay, which factors the same
way). So a bin's USD at column ``t`` is ``K[t]`` times the sum of ``u / K[birth]`` over its
live levels: a difference array along time, summed cumulatively, times ``K``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from liqmap.engine.model import ModelParams, oi_flows
from liqmap.engine.series import Candles, OpenInterest
from liqmap.engine.snapshot import VenueData, VenueShare

MAX_COLUMNS = 2_160
"""Default column cap: 7d of 5m candles gets one per candle, 30d of 1m one per 20 minutes."""
MAX_BINS = 1_000
"""Default price bins are widened past ``bin_pct`` when the range would need more."""
MARGIN_PCT = 10.0
"""Default price range: the window's low to high, widened by this much each side."""
CHUNK_LEVELS = 1 << 17
"""Levels handled at once (both sides of a run of candles): bounds the working memory."""
LOG_SPAN = 600.0
"""Most ``ln K`` may fall within one block of columns, so ``exp`` neither overflows nor
underflows (float64 reaches e^709)."""


@dataclass(frozen=True, eq=False)
class Heatmap:
    """Liquidation USD per price bin and side over time, with the price path.

    ``long`` and ``short`` have shape (columns, bins). Column ``c`` is the map after the
    candle that closed by ``ts[c]`` and covers the ``column_ms`` before it; ``close``,
    ``high`` and ``low`` are that candle's close and the range of the candles closed in
    that span (NaN where there were none).
    """

    ts: np.ndarray
    column_ms: int
    edges: np.ndarray
    long: np.ndarray
    short: np.ndarray
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    as_of_ms: int

    @property
    def total(self) -> np.ndarray:
        total: np.ndarray = self.long + self.short
        return total

    @property
    def centers(self) -> np.ndarray:
        centers: np.ndarray = (self.edges[:-1] + self.edges[1:]) / 2
        return centers

    @property
    def is_empty(self) -> bool:
        return not (self.long.any() or self.short.any())


@dataclass(frozen=True)
class Band:
    """The hottest stretch of the heatmap: contiguous bins of one column near its peak."""

    ts: int
    low: float
    high: float
    usd: float

    def position(self, price: float) -> str:
        """Where the band is from ``price``: ``2.2% below``, ``1.0% above`` or ``price inside``."""
        if self.high < price:
            return f"{(price - self.high) / price:.1%} below"
        if self.low > price:
            return f"{(self.low - price) / price:.1%} above"
        return "price inside"


def build_heatmap(
    candles: Candles,
    oi: OpenInterest,
    params: ModelParams | None = None,
    columns: int | None = None,
    edges: np.ndarray | None = None,
    times: np.ndarray | None = None,
    window_ms: int | None = None,
) -> Heatmap:
    """The map after each column's candle, binned on one price grid.

    ``window_ms``: the columns cover only the last ``window_ms`` up to the last close; the
    candles before are a warm-up, so the first column holds what was open then rather than
    starting empty.

    ``columns``: at most this many, one every ``ceil(candles / columns)`` candles ending at
    the last (default ``MAX_COLUMNS``). ``times`` instead gives the columns' times (ms,
    increasing): each stands at the last candle closed by then, empty before the first.
    ``edges`` default to ``price_edges`` over the window. Heatmaps of several sources built
    on the same ``times`` and ``edges`` add up with ``sum_heatmaps``.

    Open interest is turned into flows over the whole window once (``oi_flows``): where
    snapshots are coarser than the candles, a column inside an OI step already knows how
    that step's change is spread over its candles, which the map built at that time could
    not. With OI at the candle step (or finer) every column equals its own map exactly.
    """
    params = params or ModelParams()
    if times is not None and (columns is not None or window_ms is not None):
        raise ValueError("give the columns' times, or their number and window, not both")
    closes = candles.ts + candles.step_ms
    shown = in_window(candles, window_ms)
    if times is None:
        times = column_times(shown.ts + shown.step_ms, MAX_COLUMNS if columns is None else columns)
    else:
        times = np.asarray(times, dtype=np.int64)
        if np.any(np.diff(times) <= 0):
            raise ValueError("column times must increase")
    if edges is None:
        edges = default_edges(shown, params)
    at = np.searchsorted(closes, times, side="right") - 1
    bins = len(edges) - 1
    long = np.zeros((len(times), bins))
    short = np.zeros((len(times), bins))
    opened, keeps = oi_flows(candles, oi)
    rows = np.flatnonzero(opened[: at[-1] + 1] > 0) if len(times) else np.zeros(0, np.int64)
    if rows.size and bins > 0:
        long, short = _grid(candles, opened, keeps, rows, at, edges, params)
    column_ms = int(times[1] - times[0]) if len(times) > 1 else candles.step_ms
    path = _price_path(candles, times, column_ms, at)
    as_of = int(times[-1]) if len(times) else 0
    return Heatmap(times, column_ms, edges, long, short, *path, as_of)


def price_edges(low: float, high: float, price: float, bin_pct: float) -> np.ndarray:
    """Bins of ``bin_pct``% of ``price`` over ``low..high`` widened by ``MARGIN_PCT`` each
    side, on multiples of the width (so grids of one width line up); wider bins past
    ``MAX_BINS``."""
    bottom, top = low * (1 - MARGIN_PCT / 100), high * (1 + MARGIN_PCT / 100)
    width = max(price * bin_pct / 100, (top - bottom) / (MAX_BINS - 1))
    first = math.floor(bottom / width)
    return width * np.arange(first, max(math.ceil(top / width), first + 1) + 1)


def in_window(candles: Candles, window_ms: int | None) -> Candles:
    """The candles closed within ``window_ms`` before the last close (all if None)."""
    if window_ms is None or not len(candles):
        return candles
    last_close = int(candles.ts[-1]) + candles.step_ms
    return candles.between(last_close - window_ms, last_close)


def default_edges(candles: Candles, params: ModelParams) -> np.ndarray:
    """``price_edges`` over the candles' range at the last close (one edge if none)."""
    if not len(candles):
        return np.zeros(1)
    low, high = float(candles.low.min()), float(candles.high.max())
    return price_edges(low, high, float(candles.close[-1]), params.bin_pct)


def sum_heatmaps(heatmaps: Sequence[Heatmap]) -> Heatmap:
    """Heatmaps of several sources on the same columns and edges, summed bin by bin.

    The price path is the first source's, filled from the next ones where it has no candle.
    """
    first = heatmaps[0]
    for other in heatmaps[1:]:
        same_columns = np.array_equal(other.ts, first.ts) and other.column_ms == first.column_ms
        if not (same_columns and np.array_equal(other.edges, first.edges)):
            raise ValueError("heatmaps to sum need the same column times and price edges")

    def path(name: str) -> np.ndarray:
        stacked = np.stack([getattr(h, name) for h in heatmaps])
        known = ~np.isnan(stacked)
        source = np.where(known.any(axis=0), known.argmax(axis=0), 0)
        return stacked[source, np.arange(stacked.shape[1])]

    return Heatmap(
        first.ts,
        first.column_ms,
        first.edges,
        np.sum([h.long for h in heatmaps], axis=0),
        np.sum([h.short for h in heatmaps], axis=0),
        path("close"),
        path("high"),
        path("low"),
        max(h.as_of_ms for h in heatmaps),
    )


def build_aggregate_heatmap(
    parts: Sequence[VenueData], columns: int | None = None, window_ms: int | None = None
) -> tuple[Heatmap, tuple[VenueShare, ...]]:
    """Several exchanges' heatmaps on one set of columns and price bins, summed in USD, and
    each exchange's share of the latest column.

    The columns stand at the union of the exchanges' candle closes (at most ``columns``,
    default ``MAX_COLUMNS``), within ``window_ms`` of the last (the earlier candles are a
    warm-up, as in ``build_heatmap``); the bins span every exchange's range over those
    columns at the median last close. One part gives exactly its own ``build_heatmap``.
    """
    closes = np.unique(np.concatenate([p.candles.ts + p.candles.step_ms for p in parts]))
    if window_ms is not None and len(closes):
        closes = closes[closes > closes[-1] - window_ms]
    times = column_times(closes, MAX_COLUMNS if columns is None else columns)
    listed = [c for c in (in_window(p.candles, window_ms) for p in parts) if len(c)]
    if listed:
        low = min(float(c.low.min()) for c in listed)
        high = max(float(c.high.max()) for c in listed)
        price = statistics.median(float(c.close[-1]) for c in listed)
        edges = price_edges(low, high, price, parts[0].params.bin_pct)
    else:
        edges = np.zeros(1)
    maps = [build_heatmap(p.candles, p.oi, p.params, edges=edges, times=times) for p in parts]
    latest = [float(h.total[-1].sum()) if len(times) else 0.0 for h in maps]
    whole = sum(latest)
    shares = tuple(
        VenueShare(p.exchange, usd / whole if whole > 0 else 0.0)
        for p, usd in zip(parts, latest, strict=True)
    )
    return sum_heatmaps(maps), shares


def peak_band(heatmap: Heatmap, column: int | None = None, share: float = 0.7) -> Band | None:
    """The hottest bin (of one column, default of all) and the contiguous bins around it
    holding at least ``share`` of its USD; None if that is empty."""
    total = heatmap.total if column is None else heatmap.total[column : column + 1 or None]
    if not total.size or total.max() <= 0:
        return None
    row, peak = np.unravel_index(int(total.argmax()), total.shape)
    cold = np.flatnonzero(total[row] < share * total[row, peak])
    start = int(cold[cold < peak].max(initial=-1)) + 1
    end = int(cold[cold > peak].min(initial=total.shape[1]))
    at = row if column is None else column
    return Band(
        int(heatmap.ts[at]),
        float(heatmap.edges[start]),
        float(heatmap.edges[end]),
        float(total[row, start:end].sum()),
    )


def column_times(closes: np.ndarray, columns: int) -> np.ndarray:
    """Close times of every ``k``-th candle ending at the last, at most ``columns`` of them."""
    if columns < 1:
        raise ValueError("a heatmap needs at least one column")
    n = len(closes)
    if n == 0:
        return np.zeros(0, np.int64)
    every = -(-n // min(columns, n))
    return closes[n - 1 - every * np.arange(-(-n // every))[::-1]]


def _price_path(
    candles: Candles, times: np.ndarray, column_ms: int, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: its candle's close, and the high and low of the candles in its span."""
    count = len(times)
    close, high, low = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
    if not count:
        return close, high, low
    previous = np.concatenate(([times[0] - column_ms], times[:-1]))
    start = np.searchsorted(candles.ts + candles.step_ms, previous, side="right")
    filled = at + 1 > start
    if filled.any():
        end = int(at[filled][-1]) + 1
        close[filled] = candles.close[at[filled]]
        high[filled] = np.maximum.reduceat(candles.high[:end], start[filled])
        low[filled] = np.minimum.reduceat(candles.low[:end], start[filled])
    return close, high, low


def _grid(
    candles: Candles,
    opened: np.ndarray,
    keeps: np.ndarray,
    rows: np.ndarray,
    at: np.ndarray,
    edges: np.ndarray,
    params: ModelParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Long and short USD per (column, bin) of the levels opened at ``rows``."""
    n, count, bins = len(candles), len(at), len(edges) - 1
    log_k = _log_scale(candles, keeps, params)
    column_log_k = log_k[np.maximum(at, 0)]
    # columns in blocks over which ln K falls by at most LOG_SPAN, each summed relative to
    # its first column's K (``reference``); one block unless K spans e^600
    block = np.floor((column_log_k[0] - column_log_k) / LOG_SPAN)
    starts = np.flatnonzero(np.r_[True, np.diff(block) != 0])
    block_start = np.repeat(starts, np.diff(np.r_[starts, count]))
    reference = np.append(column_log_k[block_start], column_log_k[-1])

    leverage = np.array([tier.leverage for tier in params.tiers])
    weight = np.array([tier.weight for tier in params.tiers])
    weight = weight / weight.sum()
    factor = np.stack((params.margin.long_factor(leverage), params.margin.short_factor(leverage)))
    rungs = len(leverage)
    tables = _crossing_tables(candles.low, candles.high) if params.sweep else []
    diff = np.zeros((count + 1) * 2 * bins)
    per_chunk = max(1, CHUNK_LEVELS // (2 * rungs))
    for first in range(0, rows.size, per_chunk):
        chunk = rows[first : first + per_chunk]
        high, low, close = candles.high[chunk], candles.low[chunk], candles.close[chunk]
        long_share = np.full(chunk.size, params.long_share)
        if params.split_by_candle:
            tilt = (close - candles.open[chunk]) / np.where(high > low, high - low, 1.0)
            long_share = np.clip(long_share + params.split_by_candle * tilt, 0.0, 1.0)
        side_usd = opened[chunk] * np.stack((long_share, 1 - long_share))
        level = ((high + low + close) / 3)[None, :, None] * factor[:, None, :]
        usd = side_usd[:, :, None] * weight
        bin_ = np.searchsorted(edges, level.ravel(), side="right") - 1
        keep = np.flatnonzero((bin_ >= 0) & (bin_ < bins) & (usd.ravel() > 0))
        side, birth_row = np.divmod(keep, chunk.size * rungs)
        birth_row //= rungs
        birth = chunk[birth_row]
        level, usd, cell = level.ravel()[keep], usd.ravel()[keep], side * bins + bin_[keep]
        death = np.full_like(birth, n)
        if params.sweep:
            death = _first_crossing(tables, side, birth + 1, level, n)
        born = np.searchsorted(at, chunk, side="left")[birth_row]
        gone = np.searchsorted(at, death, side="left")
        live = born < gone
        born, gone, birth, usd, cell = born[live], gone[live], birth[live], usd[live], cell[live]
        diff += np.bincount(
            np.concatenate((born * 2 * bins + cell, gone * 2 * bins + cell)),
            np.concatenate(
                (usd * np.exp(reference[born] - log_k[birth]),
                 -usd * np.exp(reference[gone] - log_k[birth]))
            ),
            minlength=diff.size,
        )  # fmt: skip
    grid = diff.reshape(count + 1, 2 * bins)[:count]
    for begin, end in zip(starts, np.r_[starts[1:], count], strict=True):
        if begin:
            grid[begin] += grid[begin - 1] * math.exp(reference[begin] - reference[begin - 1])
        np.cumsum(grid[begin:end], axis=0, out=grid[begin:end])
    grid *= np.exp(column_log_k - reference[:count])[:, None]
    np.maximum(grid, 0.0, out=grid)  # rounding of the +/- pairs can leave -1e-9
    return grid[:, :bins].copy(), grid[:, bins:].copy()


def _log_scale(candles: Candles, keeps: np.ndarray, params: ModelParams) -> np.ndarray:
    """``ln K`` per candle: exposure opened at candle ``i`` holds ``K[t] / K[i]`` at ``t``."""
    log_k = np.zeros(len(candles))
    if params.close_on_oi_drop:
        log_k += np.cumsum(np.log(np.maximum(keeps, 1e-300)))
    if params.half_life_hours:
        hours = (candles.ts - candles.ts[0]) / 3_600_000
        log_k -= math.log(2) * hours / params.half_life_hours
    return log_k


def _crossing_tables(low: np.ndarray, high: np.ndarray) -> list[np.ndarray]:
    """Per power ``p``: the lowest low (row 0) and lowest -high (row 1) of the ``2**p``
    candles from each index on, flattened, as many powers as it takes for ``2**p`` to reach
    ``n``; last, the lowest of all candles from each index on. Index ``n`` is +inf."""
    n = len(low)
    table = np.full((2, n + 1), np.inf)
    table[0, :n], table[1, :n] = low, -high
    tables = [table]
    while (1 << (len(tables) - 1)) < n:
        span = 1 << (len(tables) - 1)
        wider = table.copy()
        np.minimum(table[:, : n + 1 - span], table[:, span:], out=wider[:, : n + 1 - span])
        tables.append(wider)
        table = wider
    tables.append(np.minimum.accumulate(tables[0][:, ::-1], axis=1)[:, ::-1])
    return [t.ravel() for t in tables]


def _first_crossing(
    tables: list[np.ndarray], side: np.ndarray, start: np.ndarray, level: np.ndarray, n: int
) -> np.ndarray:
    """For each level, the first candle from ``start`` on whose wick reaches it (low <= level
    for longs, side 0; high >= level for shorts, side 1), or ``n``. Levels no later wick
    reaches are settled at once; for the rest, binary lifting: each level's wick-free
    stretch grows by the largest powers of two that stay clear of it."""
    threshold = np.where(side == 0, level, -level)
    base = side * (n + 1)
    death = np.full(level.size, n)
    crossed = np.flatnonzero(tables[-1].take(base + np.minimum(start, n)) <= threshold)
    threshold, base, position = threshold[crossed], base[crossed], start[crossed]
    for power in range(len(tables) - 2, -1, -1):
        clear = tables[power].take(base + np.minimum(position, n)) > threshold
        position += clear.astype(np.int64) << power
    death[crossed] = position
    return death
