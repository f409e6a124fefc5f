"""Small hand-made candles and open-interest paths for the model's tests."""

from __future__ import annotations

import numpy as np

from liqmap.engine.model import FIVE_TIERS, MarginRule, ModelParams
from liqmap.engine.series import Candles, OpenInterest

MIN = 60_000
OKX = MarginRule(maintenance=0.004, fee=0.0005)
FIVE = ModelParams(tiers=FIVE_TIERS, margin=OKX)


def candles(*bars: tuple[float, float, float, float], volume: list[float] | None = None) -> Candles:
    """Minute candles from (open, high, low, close) tuples."""
    rows = [
        [i * MIN, o, h, low, c, (volume[i] if volume else np.nan)]
        for i, (o, h, low, c) in enumerate(bars)
    ]
    return Candles.from_rows(MIN, rows)


def flat(count: int, price: float = 100.0) -> list[tuple[float, float, float, float]]:
    return [(price, price, price, price)] * count


def oi_path(*levels: float, step: int = MIN) -> OpenInterest:
    return OpenInterest.from_rows(step, [[i * step, usd] for i, usd in enumerate(levels)])
