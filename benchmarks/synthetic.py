"""A reproducible random market (candles and OI at the same step) for benchmarks and tests."""

from __future__ import annotations

import numpy as np

from liqmap.engine.series import Candles, OpenInterest


def market(
    minutes: int, step_ms: int = 60_000, seed: int = 1, price: float = 60_000.0
) -> tuple[Candles, OpenInterest]:
    """``minutes`` candles of a random walk with wicks, and OI that drifts up and down."""
    rng = np.random.default_rng(seed)
    count = minutes * 60_000 // step_ms
    scale = np.sqrt(step_ms / 60_000)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.0008 * scale, count)))
    open_ = np.r_[price, close[:-1]]
    wick = np.abs(rng.normal(0, 0.0005 * scale, (2, count)))
    ts = np.arange(count, dtype=np.int64) * step_ms
    candles = Candles(
        step_ms,
        ts,
        open_,
        np.maximum(open_, close) * (1 + wick[0]),
        np.minimum(open_, close) * (1 - wick[1]),
        close,
        rng.lognormal(2, 0.5, count),
    )
    oi_usd = 5e8 * np.exp(np.cumsum(rng.normal(0, 0.001 * scale, count + 1)))
    oi = OpenInterest(step_ms, np.arange(count + 1, dtype=np.int64) * step_ms, oi_usd)
    return candles, oi
