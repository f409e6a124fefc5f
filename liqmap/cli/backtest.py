"""``liqmap backtest``: how well the map predicts realized liquidations, walking forward through
a market history file or through the market cache against the liquidations recorded."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liqmap.cli.arguments import EXCHANGE_HELP, Commands, exchange_name
from liqmap.cli.progress import ProgressLine
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import market_data, open_stores
from liqmap.config import Settings
from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.formats import strict_json, utc
from liqmap.market.instruments import ALL
from liqmap.market.timeframes import DAY_MS, HOUR_MS, step_name
from liqmap.market.venues import CENTRALIZED

if TYPE_CHECKING:
    from liqmap.evaluation.backtest import PartScore, SideScore
    from liqmap.exchanges.csv_source import CsvHistory
    from liqmap.market.instruments import Instrument
    from storage.liquidations import StreamCoverage


def add_commands(commands: Commands) -> None:
    """``backtest``."""
    backtest = commands.add_parser(
        "backtest",
        help="measure how well the map predicts realized liquidations",
        description="Walk forward through a CSV with realized liquidations, or (--db) through "
        "the cached hourly market against the liquidations recorded in LIQMAP_DB: each hour's "
        "map, built from the hours before it, predicts the liquidations of that hour. With "
        "--db only hours recorded whole count, in the 30 days up to the last one.",
    )
    source = backtest.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, metavar="FILE", help="a market history file")
    source.add_argument(
        "--db", nargs="*", metavar="SYMBOL",
        help="the liquidations recorded in LIQMAP_DB, of these symbols (default: all recorded)",
    )  # fmt: skip
    backtest.add_argument("--exchange", type=exchange_name, help=f"with --db: {EXCHANGE_HELP}")
    backtest.add_argument("--json", action="store_true", help="print the figures as JSON")
    backtest.set_defaults(command=backtest_command)


async def backtest_command(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """The CSV's walk forward (``--csv``), or the live accuracy of what was recorded (``--db``)."""
    from liqmap.evaluation.backtest import as_dict, backtest, venue_scores
    from liqmap.exchanges.csv_source import load_csv
    from liqmap.market.venue_split import split_note, venue_slices

    if args.db is not None:
        return await _db_backtest(args, settings, tuning)
    if args.exchange is not None:
        raise LiqmapError("--exchange works with --db only: a CSV file holds its own venues")
    history = load_csv(args.csv)
    _check_scorable(history)
    print(f"walking forward through {history.name} ({len(history.candles):,} bars)...",
          file=sys.stderr)  # fmt: skip
    parts = backtest(history)
    print("...and under each venue's rules, and summed over the venues", file=sys.stderr)
    venues = venue_scores(history)
    split = split_note(venue_slices())
    if args.json:
        rows = {row.venue: asdict(row) for row in venues}
        print(strict_json({"file": history.name, "parts": as_dict(parts), "venues": rows,
                           "venue_split": split}))  # fmt: skip
        return 0
    bars = _Bars(step_name(history.step_ms))
    print(f"{history.name}: map before each {bars.one} vs that {bars.unit}'s realized "
          "liquidations")  # fmt: skip
    for part in parts:
        _print_part(f"{part.name}: {bars.count(part.hours)}", part, bars.unit)
    print(f"\nby venue: partial (cluster lift); all = the venues summed, {split}")
    print(f"{'':10}{'fit long':>16}{'fit short':>16}{'check long':>16}{'check short':>16}")
    for row in venues:
        sides = (row.fit_long, row.fit_short, row.check_long, row.check_short)
        print(f"{row.venue:10}" + "".join(f"{_venue_cell(side):>16}" for side in sides))
    return 0


def _check_scorable(history: CsvHistory) -> None:
    """Refuse, before the long walk, a file with no liquidation to score against or too few
    bars to score any after the warm-up."""
    from liqmap.evaluation.backtest import WARMUP_HOURS, first_hour

    liquidations = history.liquidations
    if not (liquidations.long_usd.any() or liquidations.short_usd.any()):
        raise LiqmapError(
            f"{history.name} records no liquidations (its liquidation columns are all zero): "
            "the backtest has nothing to measure the map against"
        )
    needed = first_hour(history.step_ms, WARMUP_HOURS + DAY_MS / HOUR_MS)
    if len(history.candles) < needed:
        raise LiqmapError(
            f"{history.name} has {len(history.candles):,} bars of "
            f"{step_name(history.step_ms)}: the backtest needs {needed:,} (a week to build the "
            "map, then a day to score)"
        )


@dataclass(frozen=True)
class _Bars:
    """How the text names a file's bars: hours, or bars of their step."""

    step: str

    @property
    def unit(self) -> str:
        return "hour" if self.step == "1h" else "bar"

    @property
    def one(self) -> str:
        return "hour" if self.step == "1h" else f"{self.step} bar"

    def count(self, n: int) -> str:
        return f"{n:,} hours" if self.step == "1h" else f"{n:,} bars of {self.step}"


def _print_part(heading: str, part: PartScore, unit: str = "hour") -> None:
    """The model's and the naive map's figures of both sides over one set of hours."""
    print(
        f"\n{heading}, {utc(part.start_ms)} -> {utc(part.end_ms)}\n"
        f"{'':18}{'long':>16}{'short':>16}\n{'':18}{'model':>8}{'naive':>8}"
        f"{'model':>8}{'naive':>8}"
    )
    for title, field in (
        ("spearman", "spearman"),
        ("excursion only", "baseline"),
        ("partial", "partial"),
        ("cluster lift", "lift"),
        (f"entered {unit}s", "entered_hours"),
    ):
        cells = [
            getattr(getattr(part, side), field)
            for side in ("long", "naive_long", "short", "naive_short")
        ]
        print(f"{title:18}" + "".join(_cell(cell) for cell in cells))


async def _db_backtest(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """The live accuracy of each symbol (each recorded instrument if none is given) from the
    market cache and the liquidations recorded in ``LIQMAP_DB``; with ``--exchange all`` each
    venue and their sum, as the CSV's table by venue."""
    from jobs.on_demand.accuracy import live_accuracy
    from liqmap.evaluation.live_accuracy import (
        MIN_HOURS,
        MIN_SIDE_HOURS,
        LiveAccuracy,
    )

    if args.exchange not in (None, ALL, *CENTRALIZED):
        raise LiqmapError(
            f"liqmap records liquidations on {', '.join(CENTRALIZED)} only, "
            f"not on {args.exchange}: it has no live accuracy"
        )
    found: list[LiveAccuracy] = []
    with open_stores(settings, tuning) as stores:
        streams = await stores.run(stores.realized.streams)
        if not [s for s in streams if args.exchange in (None, ALL, s.exchange)]:
            raise LiqmapError(
                f"no liquidations recorded in {settings.db_path}: `liqmap run` records them"
            )
        async with market_data(settings, args.exchange, tuning) as market:
            symbols = args.db or await _recorded_symbols(market, streams, args.exchange)
            watched = {(s.exchange, s.instrument) for s in streams}
            for symbol in symbols:
                for subject in _recorded(await market.instrument(symbol), watched):
                    print(f"scoring {subject.key} against its recorded liquidations...",
                          file=sys.stderr)  # fmt: skip
                    found.append(
                        await live_accuracy(market, stores, subject, ProgressLine(sys.stderr))
                    )
    if args.json:
        print(strict_json({
            "db": str(settings.db_path), "min_hours": MIN_HOURS, "min_side_hours": MIN_SIDE_HOURS,
            "results": {a.label: asdict(a) | {"shortfall": a.sample.shortfall} for a in found},
        }))  # fmt: skip
        return 0
    print(f"{settings.db_path}: map before each hour vs the liquidations recorded in that hour "
          f"(hours recorded whole only; figures from {MIN_HOURS} hours on)")  # fmt: skip
    for accuracy in found:
        sample = accuracy.sample
        recorded = f"{sample.recorded_ms / DAY_MS:.1f} days recorded to {utc(sample.end_ms)}"
        if accuracy.score is None:
            print(f"\n{accuracy.label}: not enough data yet ({sample.shortfall}); {recorded}")
        else:
            _print_part(f"{accuracy.label}: {sample.hours:,} hours ({recorded})", accuracy.score)
        for note in accuracy.notes:
            print(f"note: {note}")
    print("\npartial (cluster lift) over the hours recorded whole")
    print(f"{'':24}{'hours':>8}{'long':>16}{'short':>16}")
    for accuracy in found:
        score = accuracy.score
        cells = (
            ("not enough data yet",)
            if score is None
            else map(_venue_cell, (score.long, score.short))
        )
        print(
            f"{accuracy.label:24}{accuracy.sample.hours:>8,}" + "".join(f"{c:>16}" for c in cells)
        )
    return 0


def _recorded(inst: Instrument, watched: set[tuple[str, str]]) -> list[Instrument]:
    """The venues of ``inst`` the recorder watched, then ``inst`` itself; ``NothingRecorded``,
    before any line of progress, where it watched none."""
    from liqmap.evaluation.live_accuracy import NothingRecorded

    def recorded(subject: Instrument) -> bool:
        members = subject.members or (subject,)
        return any((m.exchange, m.native_id) in watched for m in members)

    if not recorded(inst):
        raise NothingRecorded(f"no liquidations recorded for {inst} yet")
    return [subject for subject in (*inst.members, inst) if recorded(subject)]


async def _recorded_symbols(
    market: MarketData, streams: Sequence[StreamCoverage], exchange: str | None
) -> list[str]:
    """Every instrument of ``streams`` (on ``exchange`` only, if given); with ``all``, the
    sum over exchanges of each asset recorded."""
    keys = [f"{s.exchange}:{s.instrument}" for s in streams if exchange in (None, ALL, s.exchange)]
    if exchange != ALL:
        return keys
    assets = dict.fromkeys([(await market.instrument(key)).base for key in keys])
    return [f"{ALL}:{asset}" for asset in assets]


def _venue_cell(side: SideScore) -> str:
    """``0.434 (5.7x)``; ``n/a`` for a figure the hours left undefined."""

    partial = "n/a" if math.isnan(side.partial) else f"{side.partial:.3f}"
    lift = "n/a" if math.isnan(side.lift) else f"{side.lift:.1f}x"
    return f"{partial} ({lift})"


def _cell(value: float) -> str:
    if isinstance(value, int):
        return f"{value:>8,}"
    return f"{'n/a':>8}" if math.isnan(value) else f"{value:>8.3f}"
