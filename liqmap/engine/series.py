"""Market data as numpy arrays: candles, open interest and realized liquidations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Candles:
    """Closed OHLCV candles at one step, oldest first; ``ts`` is the candle open in ms.

    ``volume`` is NaN where the source has none (the CSV files in data/).
    """

    step_ms: int
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls, step_ms: int) -> Candles:
        return cls.from_rows(step_ms, [])

    @classmethod
    def from_rows(cls, step_ms: int, rows: Sequence[Sequence[float]]) -> Candles:
        """From ``[ts, open, high, low, close, volume]`` rows (any order, no duplicates)."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        table = table[np.argsort(table[:, 0], kind="stable")]
        return cls(
            step_ms=step_ms,
            ts=table[:, 0].astype(np.int64),
            open=table[:, 1].copy(),
            high=table[:, 2].copy(),
            low=table[:, 3].copy(),
            close=table[:, 4].copy(),
            volume=table[:, 5].copy(),
        )

    def rows(self) -> list[tuple[int, float, float, float, float, float]]:
        """``(ts, open, high, low, close, volume)`` tuples, for storage."""
        return list(
            zip(
                self.ts.tolist(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.volume.tolist(),
                strict=True,
            )
        )

    def __getitem__(self, rows: slice) -> Candles:
        """The candles in a slice of rows (views, not copies)."""
        return Candles(
            self.step_ms,
            self.ts[rows],
            self.open[rows],
            self.high[rows],
            self.low[rows],
            self.close[rows],
            self.volume[rows],
        )

    def between(self, start: int, end: int) -> Candles:
        """Candles whose open is in ``[start, end)``."""
        keep = (self.ts >= start) & (self.ts < end)
        return Candles(
            self.step_ms,
            self.ts[keep],
            self.open[keep],
            self.high[keep],
            self.low[keep],
            self.close[keep],
            self.volume[keep],
        )


@dataclass(frozen=True, eq=False)
class OpenInterest:
    """Open interest snapshots in USD notional at one step, oldest first; ``ts`` in ms."""

    step_ms: int
    ts: np.ndarray
    usd: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls, step_ms: int) -> OpenInterest:
        return cls.from_rows(step_ms, [])

    @classmethod
    def from_rows(cls, step_ms: int, rows: Sequence[Sequence[float]]) -> OpenInterest:
        """From ``[ts, usd]`` rows (any order, no duplicates)."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        table = table[np.argsort(table[:, 0], kind="stable")]
        return cls(step_ms, table[:, 0].astype(np.int64), table[:, 1].copy())

    def rows(self) -> list[tuple[int, float]]:
        return list(zip(self.ts.tolist(), self.usd.tolist(), strict=True))

    def __getitem__(self, rows: slice) -> OpenInterest:
        return OpenInterest(self.step_ms, self.ts[rows], self.usd[rows])


@dataclass(frozen=True, eq=False)
class Liquidations:
    """Realized liquidations in USD per candle: longs force-closed and shorts force-closed."""

    ts: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)
