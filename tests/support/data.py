"""The real market data the tests read: the files in the repository's ``data/`` folder."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
HOURLY = DATA / "btc_agg_1h_2025-12_2026-03.csv"
"""Hourly BTC aggregate with realized liquidations (see data/README.md)."""
FIVE_MINUTE = DATA / "btc_binance_5m_2026-05-25_06-08.csv"
"""Five-minute Binance BTCUSDT price and open interest."""
