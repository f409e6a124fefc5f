"""The map built the straightforward way, one position at a time in plain Python.

The yardstick for ``liqmap.engine.model``: same semantics, no numpy. The speed benchmark reports the
ratio, and a test checks both give the same map.
"""

from __future__ import annotations

import bisect
import itertools
import math

from liqmap.engine.model import BAND_EDGES, BAND_LABELS, Formula, MarginRule, ModelParams
from liqmap.engine.series import Candles, OpenInterest


def build_map_loop(
    candles: Candles, oi: OpenInterest, params: ModelParams
) -> tuple[list[float], list[list[float]], list[list[float]]]:
    """Edges and per-band USD of longs and shorts, as ``model.build_map`` gives them."""
    ts, low, high = candles.ts.tolist(), candles.low.tolist(), candles.high.tolist()
    close = candles.close.tolist()
    n = len(ts)
    later_low, later_high = [math.inf] * n, [-math.inf] * n
    for i in range(n - 2, -1, -1):
        later_low[i] = min(low[i + 1], later_low[i + 1])
        later_high[i] = max(high[i + 1], later_high[i + 1])
    opened, keeps = oi_flows_loop(candles, oi)
    kept_after = [1.0] * n
    for i in range(n - 2, -1, -1):
        kept_after[i] = kept_after[i + 1] * keeps[i + 1]

    price = close[-1]
    half = round(params.range_pct / params.bin_pct)
    width = price * params.bin_pct / 100
    low_edge = price - half * width
    bins = 2 * half
    longs = [[0.0] * bins for _ in BAND_LABELS]
    shorts = [[0.0] * bins for _ in BAND_LABELS]
    total_weight = sum(t.weight for t in params.tiers)
    for i in range(n):
        if opened[i] <= 0:
            continue
        entry = (high[i] + low[i] + close[i]) / 3
        alive = opened[i] * (kept_after[i] if params.close_on_oi_drop else 1.0)
        for tier in params.tiers:
            usd = alive * params.long_share * tier.weight / total_weight
            band = sum(1 for edge in BAND_EDGES if tier.leverage > edge)
            long_factor, short_factor = factors(params.margin, tier.leverage)
            long_level = entry * long_factor
            if not params.sweep or long_level < later_low[i]:
                index = math.floor((long_level - low_edge) / width)
                if 0 <= index < bins:
                    longs[band][index] += usd
            short_level = entry * short_factor
            short_usd = alive * (1 - params.long_share) * tier.weight / total_weight
            if not params.sweep or short_level > later_high[i]:
                index = math.floor((short_level - low_edge) / width)
                if 0 <= index < bins:
                    shorts[band][index] += short_usd
    edges = [low_edge + width * j for j in range(bins + 1)]
    return edges, longs, shorts


def factors(rule: MarginRule, leverage: float) -> tuple[float, float]:
    """Long and short liquidation price over entry, written out per formula."""
    m, f, lev = rule.maintenance, rule.fee, leverage
    if rule.formula is Formula.INVERSE:
        return (1 + m + f) / (1 + 1 / lev), (1 - m - f) / (1 - 1 / lev)
    if rule.formula is Formula.LINEAR_BYBIT:
        return 1 - 1 / lev + m + f, 1 + 1 / lev - m - f
    return (1 - 1 / lev) / (1 - m - f), (1 + 1 / lev) / (1 + m + f)


def oi_flows_loop(candles: Candles, oi: OpenInterest) -> tuple[list[float], list[float]]:
    """USD opened and share kept per candle, walking each OI interval piece by piece.

    Each interval between two snapshots is cut where candles start and end; its change goes
    to the pieces by duration x the candle's volume (duration alone if the interval has no
    volume). A piece before the first candle or after the last gets the interval's mean
    volume and its share is dropped; a piece in a gap between candles gets nothing.
    """
    ts, volume, step = candles.ts.tolist(), candles.volume.tolist(), candles.step_ms
    n = len(ts)
    change, start_level = [0.0] * n, [0.0] * n
    seen = [False] * n

    def density(i: int | None) -> float:
        v = volume[i] if i is not None else 0.0
        return v if math.isfinite(v) and v > 0 else 0.0

    snaps = list(zip(oi.ts.tolist(), oi.usd.tolist(), strict=True))
    for (a, before), (b, after) in itertools.pairwise(snaps):
        pieces: list[tuple[int | None, int, float]] = []
        t = a
        while t < b:
            i = bisect.bisect_right(ts, t) - 1
            if i >= 0 and t < ts[i] + step:
                end = min(b, ts[i] + step)
                pieces.append((i, t, end - t))
            else:
                end = min(b, ts[i + 1]) if i + 1 < n else b
                pieces.append((None, t, end - t))
            t = end

        covered_time = sum(length for i, _, length in pieces if i is not None)
        volume_time = sum(length * density(i) for i, _, length in pieces if i is not None)
        mean = volume_time / covered_time if covered_time > 0 else 0.0
        weights = []
        for i, start, length in pieces:
            outside = start < ts[0] or start >= ts[-1] + step
            if i is None and not outside:
                weights.append(0.0)  # a gap between candles: its share goes beside it
            elif mean > 0:
                weights.append(length * (density(i) if i is not None else mean))
            else:
                weights.append(length)
        if sum(weights) == 0:
            continue  # the whole interval fell in a gap between candles
        level = before
        for (i, _, _), weight in zip(pieces, weights, strict=True):
            part = (after - before) * weight / sum(weights)
            if i is not None:
                if not seen[i]:
                    seen[i], start_level[i] = True, level
                change[i] += part
            level += part
    opened = [max(c, 0.0) for c in change]
    keeps = [
        min(max((s + c) / s, 0.0), 1.0) if c < 0 and s > 0 else 1.0
        for s, c in zip(start_level, change, strict=True)
    ]
    return opened, keeps
