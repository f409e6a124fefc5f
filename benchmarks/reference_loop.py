"""The map built the straightforward way, one position at a time in plain Python.

The yardstick for ``liqmap.model``: same semantics, no numpy. The speed benchmark reports the
ratio, and a test checks both give the same map.
"""

from __future__ import annotations

import math

from liqmap.model import BAND_EDGES, BAND_LABELS, ModelParams
from liqmap.series import Candles, OpenInterest


def build_map_loop(
    candles: Candles, oi: OpenInterest, params: ModelParams
) -> tuple[list[float], list[list[float]], list[list[float]]]:
    """Edges and per-band USD of longs and shorts, as ``liqmap.model.build_map`` gives them.

    Assumes OI at the candle step (one snapshot per candle open plus the last close).
    """
    ts, low, high = candles.ts.tolist(), candles.low.tolist(), candles.high.tolist()
    close = candles.close.tolist()
    n = len(ts)
    oi_at = dict(zip(oi.ts.tolist(), oi.usd.tolist(), strict=True))
    later_low, later_high = [math.inf] * n, [-math.inf] * n
    for i in range(n - 2, -1, -1):
        later_low[i] = min(low[i + 1], later_low[i + 1])
        later_high[i] = max(high[i + 1], later_high[i + 1])
    opened, keeps = [0.0] * n, [1.0] * n
    for i in range(n):
        before, after = oi_at.get(ts[i]), oi_at.get(ts[i] + candles.step_ms)
        if before is None or after is None:
            continue
        if after > before:
            opened[i] = after - before
        elif after < before and before > 0:
            keeps[i] = after / before
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
    m, f = params.margin.maintenance, params.margin.fee
    for i in range(n):
        if opened[i] <= 0:
            continue
        entry = (high[i] + low[i] + close[i]) / 3
        alive = opened[i] * (kept_after[i] if params.close_on_oi_drop else 1.0)
        for tier in params.tiers:
            usd = alive * params.long_share * tier.weight / total_weight
            band = sum(1 for edge in BAND_EDGES if tier.leverage > edge)
            long_level = entry * (1 - 1 / tier.leverage) / (1 - m - f)
            if not params.sweep or long_level < later_low[i]:
                index = math.floor((long_level - low_edge) / width)
                if 0 <= index < bins:
                    longs[band][index] += usd
            short_level = entry * (1 + 1 / tier.leverage) / (1 + m + f)
            short_usd = alive * (1 - params.long_share) * tier.weight / total_weight
            if not params.sweep or short_level > later_high[i]:
                index = math.floor((short_level - low_edge) / width)
                if 0 <= index < bins:
                    shorts[band][index] += short_usd
    edges = [low_edge + width * j for j in range(bins + 1)]
    return edges, longs, shorts
