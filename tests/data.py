"""Where the shared real market data lives: read in place, never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

HOURLY = "btc_agg_1h_2025-12_2026-03.csv"
FIVE_MINUTE = "btc_binance_5m_2026-05-25_06-08.csv"


def shared_data(name: str) -> Path:
    """Path of a shared data file; fails loudly (not a skip) when it cannot be found."""
    repo = Path(__file__).resolve().parents[1]
    candidates = [
        Path(os.environ["LIQMAP_SHARED_DATA"]) if os.environ.get("LIQMAP_SHARED_DATA") else None,
        repo.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for folder in filter(None, candidates):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"shared data file {name} not found; set LIQMAP_SHARED_DATA to the folder holding it"
    )
