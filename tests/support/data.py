"""The real market data the tests read: the files in the repository's ``data/`` folder."""

from __future__ import annotations

import functools
from pathlib import Path

from liqmap.engine.series import Liquidations
from liqmap.exchanges.csv_source import CsvHistory, load_csv

DATA = Path(__file__).resolve().parents[2] / "data"
HOURLY = DATA / "btc_agg_1h_2025-12_2026-03.csv"
"""Hourly BTC aggregate with realized liquidations (see data/README.md)."""
FIVE_MINUTE = DATA / "btc_binance_5m_2026-05-25_06-08.csv"
"""Five-minute Binance BTCUSDT price and open interest."""


@functools.cache
def hourly(first: int = 0, count: int | None = None) -> CsvHistory:
    """The hourly file, or ``count`` of its hours from its ``first``: their candles, the open
    interest at each opening and at the last close, and their liquidations. Loaded once per
    process."""
    whole = load_csv(HOURLY)
    if first == 0 and count is None:
        return whole
    rows = slice(first, None if count is None else first + count)
    oi = slice(first, None if count is None else first + count + 1)
    liq = whole.liquidations
    return CsvHistory(
        f"{whole.name}[{first}:{first + len(whole.candles[rows])}]",
        whole.candles[rows],
        whole.open_interest[oi],
        Liquidations(liq.ts[rows], liq.long_usd[rows], liq.short_usd[rows]),
    )
