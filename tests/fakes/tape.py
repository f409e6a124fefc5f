"""A deterministic market for one instrument: 1-minute candles and OI, generated up to the clock.

Fake exchanges serve any step by aggregating the minutes. Tests move the price with
``set_price`` or ``walk_to`` to script what a trader would see.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

MINUTE = 60_000


class Tape:
    """Minute bars (open time in ms) and an OI snapshot in USD at each minute's open."""

    def __init__(
        self,
        clock: Callable[[], int],
        price: float = 60_000.0,
        oi_usd: float = 5e8,
        seed: int = 1,
        history_ms: int = 40 * 24 * 3600 * 1000,
        volatility: float = 0.0008,
    ) -> None:
        self.clock = clock
        self._rng = np.random.default_rng(seed)
        self._volatility = volatility
        self._lock = threading.RLock()
        start = (clock() - history_ms) // MINUTE * MINUTE
        self.ts = np.array([start], dtype=np.int64)
        self.open = np.array([price])
        self.high = np.array([price])
        self.low = np.array([price])
        self.close = np.array([price])
        self.volume = np.array([10.0])
        self.oi = np.array([oi_usd])
        self._extend()

    def _extend(self) -> None:
        """Generate minutes up to the clock's current (still open) minute."""
        now = self.clock() // MINUTE * MINUTE
        count = int((now - self.ts[-1]) // MINUTE)
        if count <= 0:
            return
        rng, vol = self._rng, self._volatility
        steps = np.exp(rng.normal(0.0, vol, count))
        close = self.close[-1] * np.cumprod(steps)
        open_ = np.concatenate(([self.close[-1]], close[:-1]))
        wick = np.abs(rng.normal(0.0, vol / 2, (2, count)))
        oi = self.oi[-1] * np.cumprod(np.exp(rng.normal(0.0, vol / 4, count)))
        self.ts = np.concatenate((self.ts, self.ts[-1] + MINUTE * np.arange(1, count + 1)))
        self.open = np.concatenate((self.open, open_))
        self.close = np.concatenate((self.close, close))
        self.high = np.concatenate((self.high, np.maximum(open_, close) * (1 + wick[0])))
        self.low = np.concatenate((self.low, np.minimum(open_, close) * (1 - wick[1])))
        self.volume = np.concatenate((self.volume, rng.lognormal(2.0, 0.5, count)))
        self.oi = np.concatenate((self.oi, oi))

    # -- what exchanges serve ------------------------------------------------------------

    def bars(
        self, step: int, start: int, end: int, offset: int = 0
    ) -> list[tuple[int, float, float, float, float, float]]:
        """Bars of ``step`` ms opening ``offset`` ms past the UTC grid, with open time in
        ``[start, end)``; each is whole, as exchanges send them (only the last may be open)."""
        with self._lock:
            self._extend()
            lo = np.searchsorted(self.ts, (start - offset) // step * step + offset)
            last_close = -(-(end - offset) // step) * step + offset
            hi = np.searchsorted(self.ts, last_close, side="left")
            if hi <= lo:
                return []
            ts = self.ts[lo:hi]
            groups = (ts - offset) // step * step + offset
            first = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
            last = np.r_[first[1:], len(ts)] - 1
            keep = groups[first] >= start
            rows = zip(
                groups[first][keep].tolist(),
                self.open[lo:hi][first][keep].tolist(),
                np.maximum.reduceat(self.high[lo:hi], first)[keep].tolist(),
                np.minimum.reduceat(self.low[lo:hi], first)[keep].tolist(),
                self.close[lo:hi][last][keep].tolist(),
                np.add.reduceat(self.volume[lo:hi], first)[keep].tolist(),
                strict=True,
            )
            return list(rows)

    def open_interest_now(self) -> float:
        """The latest OI snapshot in USD."""
        with self._lock:
            self._extend()
            return float(self.oi[-1])

    def open_interest(
        self, step: int, start: int, end: int, offset: int = 0
    ) -> list[tuple[int, float, float]]:
        """OI snapshots ``(ts, usd, coins)`` every ``step`` ms, ``offset`` ms past the UTC
        grid, in ``[start, end)``."""
        with self._lock:
            self._extend()
            lo = np.searchsorted(self.ts, start)
            hi = np.searchsorted(self.ts, end, side="left")
            ts = self.ts[lo:hi]
            pick = (ts - offset) % step == 0
            usd = self.oi[lo:hi][pick]
            coins = usd / self.open[lo:hi][pick]
            return list(zip(ts[pick].tolist(), usd.tolist(), coins.tolist(), strict=True))

    def last_price(self) -> float:
        with self._lock:
            self._extend()
            return float(self.close[-1])

    def now(self) -> int:
        return self.clock()

    # -- scripting -----------------------------------------------------------------------

    def set_price(self, price: float) -> None:
        """Trade at ``price`` now: the open minute closes there, its wick stretches to it."""
        with self._lock:
            self._extend()
            self.close[-1] = price
            self.high[-1] = max(self.high[-1], price)
            self.low[-1] = min(self.low[-1], price)

    def add_open_interest(self, usd: float) -> None:
        """Change open interest by ``usd`` from the open minute on."""
        with self._lock:
            self._extend()
            self.oi[-1] = max(self.oi[-1] + usd, 0.0)
