"""``--csv`` of ``map`` and ``heatmap``: which window of a market history file to map, checked
against the file, which holds no symbol and may span less than the window asked for."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from liqmap.engine.series import Candles, OpenInterest
from liqmap.errors import LiqmapError
from liqmap.exchanges.csv_source import CsvHistory, load_csv
from liqmap.formats import utc
from liqmap.market.instruments import ALL, parse_symbol
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, duration_text, window_ms


@dataclass(frozen=True)
class OfflineWindow:
    """The bars and open interest of a file's window, and how to title them."""

    label: str
    """The asset, as the title shows it."""
    by_venue: bool
    """Whether the file's summed open interest is split by venue (``all``)."""
    history: CsvHistory
    candles: Candles
    open_interest: OpenInterest
    window: str
    """The window asked for, or the shorter span the file covers of it (``20m``)."""
    notes: tuple[str, ...]


def offline_window(args: argparse.Namespace) -> OfflineWindow:
    """The window of ``--csv`` up to ``--at`` (else the file's end) for ``SYMBOL``, refused
    where the file is not the symbol's or an argument does not apply to a file."""
    asset, by_venue = _asset(args)
    history = load_csv(args.csv)
    _check_named(asset, Path(args.csv))
    length = window_ms(args.window)
    candles, oi = history.window(length, args.at)
    end = history.end_ms if args.at is None else args.at
    first = int(history.candles.ts[0])
    if end - length >= first:
        return OfflineWindow(asset, by_venue, history, candles, oi, args.window, ())
    covered = end - first
    note = (
        f"{history.name} covers only {duration_text(covered)} of the {args.window} window, "
        f"from {utc(first)}"
    )
    return OfflineWindow(asset, by_venue, history, candles, oi, _span_name(covered), (note,))


def _asset(args: argparse.Namespace) -> tuple[str, bool]:
    """The asset ``SYMBOL`` names, and whether it is summed over venues (``--exchange all``
    or ``all:BTC``): no other exchange applies to a file."""
    if args.step:
        raise LiqmapError("--step does not apply to --csv: the file has its own")
    if args.exchange not in (None, ALL):
        raise LiqmapError(
            "--exchange does not apply to --csv: the file has its own, except --exchange all "
            "to split its summed open interest by venue"
        )
    query = parse_symbol(args.symbol, args.exchange or "")
    if query.exchange not in ("", ALL):
        raise LiqmapError(
            f"{query.exchange}:{query.text}: --csv reads no exchange, only the file; give "
            f"{query.text}, or all:{query.text} to split its open interest by venue"
        )
    if not re.fullmatch(r"[A-Z0-9]+", query.text):
        raise LiqmapError(f"--csv takes the file's asset, such as BTC, not {query.text}")
    return query.text, query.exchange == ALL


def _check_named(asset: str, path: Path) -> None:
    """Refuse an asset the file's name does not hold as a word (``btc_agg_1h.csv`` is BTC's)."""
    if asset.lower() not in re.split(r"[^a-z0-9]+", path.name.lower()):
        raise LiqmapError(
            f"{asset} is not named in {path.name}: a history file holds no symbol, so its name "
            "says whose it is (e.g. btc_1h.csv)"
        )


def _span_name(ms: int) -> str:
    """A span as a window is named: ``20m``, ``5h``, ``3d``."""
    for unit, length in (("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS)):
        if ms % length == 0:
            return f"{ms // length}{unit}"
    return f"{ms / 1000:g}s"
