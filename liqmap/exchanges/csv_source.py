"""Read market history CSV files (the format of data/README.md) into candles, OI, liquidations."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liqmap.engine.clusters import LONG, SHORT
from liqmap.engine.realized import Realized, RealizedView
from liqmap.engine.series import Candles, Liquidations, OpenInterest
from liqmap.errors import DataFormatError, UnsupportedRequest
from liqmap.exchanges.market_data import MAX_OPEN_INTEREST_USD, MAX_PRICE
from liqmap.formats import utc

COLUMNS = (
    "timestamp",
    "price_open",
    "price_high",
    "price_low",
    "price_close",
    "liquidation_long_usd",
    "liquidation_short_usd",
    "oi_open",
    "oi_close",
)
LAST_TIME_MS = 32_503_680_000_000
"""3000-01-01: a later timestamp is not one in milliseconds."""


@dataclass(frozen=True)
class CsvHistory:
    """One file of market history: candles, OI snapshots and realized liquidations."""

    name: str
    candles: Candles
    open_interest: OpenInterest
    liquidations: Liquidations

    @property
    def step_ms(self) -> int:
        return self.candles.step_ms

    @property
    def end_ms(self) -> int:
        """When the last bar closes."""
        return int(self.candles.ts[-1]) + self.step_ms

    def window(self, length_ms: int, at_ms: int | None = None) -> tuple[Candles, OpenInterest]:
        """Bars closed by ``at_ms`` (default: the file's end) within ``length_ms`` before it,
        and the OI snapshots over the same span."""
        at = self.end_ms if at_ms is None else at_ms
        first = int(self.candles.ts[0])
        if at > self.end_ms or at < first:
            raise UnsupportedRequest(
                f"{self.name} covers {utc(first)} to {utc(self.end_ms)}; {utc(at)} is outside it"
            )
        if at < first + self.step_ms:
            raise UnsupportedRequest(
                f"no bar of {self.name} closes by {utc(at)}: its bars close from "
                f"{utc(first + self.step_ms)} to {utc(self.end_ms)}"
            )
        start = at - length_ms
        candles = self.candles.between(start, at - self.step_ms + 1)
        keep = (self.open_interest.ts >= start) & (self.open_interest.ts <= at)
        oi = OpenInterest(self.step_ms, self.open_interest.ts[keep], self.open_interest.usd[keep])
        return candles, oi

    def realized(self, candles: Candles) -> RealizedView | None:
        """The file's realized liquidations over ``candles`` (a window of this file): each
        bar's totals placed at its low (longs) and high (shorts), as the file has no prices.
        None for a file whose liquidation columns are all zero (not recorded)."""
        if not (self.liquidations.long_usd.any() or self.liquidations.short_usd.any()):
            return None
        at = np.searchsorted(self.candles.ts, candles.ts)
        rows = []
        for k, i in enumerate(at):
            ts = int(candles.ts[k])
            for side, usd, price in (
                (LONG, self.liquidations.long_usd[i], candles.low[k]),
                (SHORT, self.liquidations.short_usd[i], candles.high[k]),
            ):
                if usd > 0:
                    rows.append(Realized(self.name, "", side, float(price), usd / price, usd, ts))
        start, end = int(candles.ts[0]), int(candles.ts[-1]) + self.step_ms
        note = "hourly totals at each bar's low (longs) and high (shorts)"
        if self.step_ms != 3_600_000:
            note = note.replace("hourly", "per-bar")
        return RealizedView(tuple(rows), start, end, 1.0, (), note)


def load_csv(path: Path | str) -> CsvHistory:
    """Load a CSV in the format of data/README.md; errors name the file, line and column.

    OI snapshots are each bar's ``oi_open`` at its open time, plus the last bar's
    ``oi_close`` one step later. The files carry no volume: it is NaN.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            absent = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if absent:
                raise DataFormatError(f"{path.name}: missing column(s) {', '.join(absent)}")
            table = np.array(
                [_numbers(path.name, line, row) for line, row in enumerate(reader, start=2)],
                dtype=np.float64,
            ).reshape(-1, len(COLUMNS))
    except OSError as exc:
        raise DataFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataFormatError(f"{path.name} is not a UTF-8 text file") from None
    if len(table) < 2:
        raise DataFormatError(f"{path.name}: needs at least 2 rows of data, has {len(table)}")
    ts = table[:, 0].astype(np.int64)
    gaps = np.diff(ts)
    if np.any(gaps <= 0):
        line = int(np.argmax(gaps <= 0)) + 3
        raise DataFormatError(f"{path.name} line {line}: timestamps must increase")
    lengths, counts = np.unique(gaps, return_counts=True)
    step = int(lengths[counts.argmax()])
    o, h, low, c, liq_long, liq_short, oi_open, oi_close = table[:, 1:].T
    candles = Candles(step, ts, o, h, low, c, np.full(len(ts), np.nan))
    oi = OpenInterest(
        step,
        np.append(ts, ts[-1] + step),
        np.append(oi_open, oi_close[-1]),
    )
    return CsvHistory(path.name, candles, oi, Liquidations(ts, liq_long, liq_short))


def _numbers(name: str, line: int, row: dict[str, str]) -> list[float]:
    values = []
    for column in COLUMNS:
        raw = row.get(column)
        try:
            value = float(raw) if raw is not None else np.nan
        except ValueError:
            value = np.nan
        impossible = value <= 0 if column.startswith("price") else value < 0
        if not np.isfinite(value) or impossible:
            raise DataFormatError(f"{name} line {line}: {column} is not a valid number ({raw!r})")
        _check_plausible(f"{name} line {line}", column, value, raw)
        values.append(value)
    if not values[3] <= min(values[1], values[4]) <= max(values[1], values[4]) <= values[2]:
        raise DataFormatError(f"{name} line {line}: price_low/high do not bound open and close")
    return values


def _check_plausible(where: str, column: str, value: float, raw: str | None) -> None:
    """Refuse what the exchanges' answers may not hold either: a price or USD figure beyond
    any market, a timestamp that is not a whole millisecond before the year 3000."""
    if column == "timestamp" and not (value.is_integer() and value < LAST_TIME_MS):
        raise DataFormatError(f"{where}: timestamp {raw} is not a time in milliseconds")
    if column.startswith("price") and value > MAX_PRICE:
        raise DataFormatError(f"{where}: {column} of {value:.3g} is beyond any market")
    usd = column.endswith("_usd") or column.startswith("oi_")
    if usd and value > MAX_OPEN_INTEREST_USD:
        raise DataFormatError(f"{where}: {column} of {value:.3g} USD is beyond any market")
