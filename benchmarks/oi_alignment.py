"""How to align open interest stamped off the candle grid: by time, or snapped to a candle.

OKX stamps daily OI at 16:00 UTC while daily candles open at 00:00 UTC. The hourly file in
``data/`` has OI at every hour, so the aligned truth is known: daily (and 4-hour) candles
are built from it, once with OI at their own opens (the truth) and once with OI stamped
hours off the grid, aligned three ways:

- ``time``: what ``liqmap.engine.model.oi_flows`` does: each change is spread over the candles its
  interval overlaps, by overlap time (the file has no volume);
- ``snap to close``: each snapshot counts as the OI at the close of the candle it falls in;
- ``snap to open``: each snapshot counts as the OI at the open of the candle it falls in.

Printed: the error of each method against the truth, in USD opened per candle and in the
binned map (sum of absolute differences over the truth's total), over every window.

Run: ``python -m benchmarks.oi_alignment`` from the repository root.
"""

from __future__ import annotations

import numpy as np

from liqmap.engine.model import ModelParams, build_map, oi_flows
from liqmap.engine.series import Candles, OpenInterest
from liqmap.exchanges.csv_source import load_csv
from tests.support.data import HOURLY

HOUR = 3_600_000


def coarser(hourly: Candles, hours: int) -> Candles:
    """Candles of ``hours`` hours aligned to 00:00 UTC, from the hourly ones inside each."""
    step = hours * HOUR
    group = hourly.ts // step * step
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    last = np.r_[first[1:], len(group)] - 1
    return Candles(
        step,
        group[first],
        hourly.open[first],
        np.maximum.reduceat(hourly.high, first),
        np.minimum.reduceat(hourly.low, first),
        hourly.close[last],
        np.full(len(first), np.nan),
    )


def stamped(oi: OpenInterest, step: int, offset: int) -> OpenInterest:
    """Hourly OI sampled every ``step`` at ``offset`` past the grid."""
    keep = (oi.ts - offset) % step == 0
    return OpenInterest(step, oi.ts[keep], oi.usd[keep])


def snapped(oi: OpenInterest, candles: Candles, to_close: bool) -> OpenInterest:
    """Snapshots moved to the open (or close) of the candle they fall in."""
    ts = oi.ts - (oi.ts - candles.ts[0]) % candles.step_ms
    return OpenInterest(oi.step_ms, ts + (candles.step_ms if to_close else 0), oi.usd)


def compare(hours: int, offset_hours: int, window: int) -> dict[str, tuple[float, float]]:
    history = load_csv(HOURLY)
    candles = coarser(history.candles, hours)
    truth_oi = stamped(history.open_interest, candles.step_ms, 0)
    off_oi = stamped(history.open_interest, candles.step_ms, offset_hours * HOUR)
    methods = {
        "time": off_oi,
        "snap to close": snapped(off_oi, candles, to_close=True),
        "snap to open": snapped(off_oi, candles, to_close=False),
    }
    params = ModelParams()
    errors: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for end in range(window, len(candles) + 1, max(1, window // 4)):
        part = candles[end - window : end]
        span = (part.ts[0] - candles.step_ms, part.ts[-1] + 2 * candles.step_ms)

        def within(oi: OpenInterest, lo: int = span[0], hi: int = span[1]) -> OpenInterest:
            keep = (oi.ts >= lo) & (oi.ts <= hi)
            return OpenInterest(oi.step_ms, oi.ts[keep], oi.usd[keep])

        true_opened, _ = oi_flows(part, within(truth_oi))
        true_map = build_map(part, within(truth_oi), params)
        true_total = true_map.long_usd.sum() + true_map.short_usd.sum()
        for name, oi in methods.items():
            opened, _ = oi_flows(part, within(oi))
            est = build_map(part, within(oi), params)
            map_error = (np.abs(est.long_usd - true_map.long_usd).sum()
                         + np.abs(est.short_usd - true_map.short_usd).sum())  # fmt: skip
            errors[name].append(
                (
                    np.abs(opened - true_opened).sum() / max(true_opened.sum(), 1.0),
                    map_error / max(true_total, 1.0),
                )
            )
    return {name: tuple(np.mean(rows, axis=0)) for name, rows in errors.items()}


def main() -> None:
    print("OI off the candle grid vs the aligned truth (hourly BTC file in data/)")
    print(f"{'candles':>8} {'OI offset':>10} {'window':>7}  {'method':<14}"
          f"{'opened error':>13} {'map error':>10}")  # fmt: skip
    for hours, offset, window in ((24, 16, 30), (24, 8, 30), (4, 1, 42), (4, 2, 42), (4, 3, 42)):
        for name, (opened_error, map_error) in compare(hours, offset, window).items():
            print(f"{hours:>7}h {offset:>9}h {window:>7}  {name:<14}"
                  f"{opened_error:>12.1%} {map_error:>10.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
