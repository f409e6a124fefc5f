"""Liquidation maps drawn by hand, bin by bin."""

from __future__ import annotations

import numpy as np

from liqmap.engine.model import BAND_LABELS, LiquidationMap

PRICE = 100.0


def hand_map(long_bins: dict[int, float], short_bins: dict[int, float]) -> LiquidationMap:
    """500 bins of 0.1 from 75 to 125 around price 100: bin i spans 75 + 0.1 i."""
    longs, shorts = np.zeros((len(BAND_LABELS), 500)), np.zeros((len(BAND_LABELS), 500))
    for index, usd in long_bins.items():
        longs[0, index] = usd
    for index, usd in short_bins.items():
        shorts[0, index] = usd
    return LiquidationMap(PRICE, 1_000, 75.0 + 0.1 * np.arange(501), longs, shorts)
