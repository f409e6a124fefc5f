"""``liqmap calibrate``: the estimated Hyperliquid map held against the real positions scanned,
per asset, at the time of its latest scan; with ``--fit``, tier weights fitted to the real
leverage mix and scored by the CSV backtest."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from liqmap.cli.arguments import Commands
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data, open_stores
from liqmap.config import Settings
from liqmap.engine.model import BAND_LABELS, DEFAULT_TIERS, ModelParams, Tier
from liqmap.errors import InstrumentError, LiqmapError
from liqmap.formats import utc
from liqmap.market.instruments import parse_symbol
from liqmap.market.margins import params_for
from liqmap.market.timeframes import WINDOWS
from liqmap.market.venues import VENUES

if TYPE_CHECKING:
    from liqmap.evaluation.calibration import Calibration, TierScore
    from liqmap.exchanges.market_data import MarketData
    from liqmap.market.instruments import Instrument
    from storage.stores import Stores

VENUE = "hyperliquid"
BACKTEST_FILE = Path("data/btc_agg_1h_2025-12_2026-03.csv")
"""The market history ``--fit`` scores fitted tiers on unless ``--csv`` names another."""


def add_commands(commands: Commands) -> None:
    """``calibrate``."""
    calibrate = commands.add_parser(
        "calibrate",
        help="check the estimated Hyperliquid map against the real positions scanned",
        description="Per asset, the estimated Hyperliquid map at the time of its latest scan "
        "against the real positions stored by liqmap scan: rank correlation of USD per bin "
        "within 10% of price, the share of real USD inside the estimate's top clusters, and "
        "the real leverage mix by notional against the model's tiers. With --fit, tier weights "
        "fitted to the real mix, scored by the backtest on a market history file.",
    )
    calibrate.add_argument(
        "symbols", nargs="*", metavar="SYMBOL",
        help="hyperliquid:BTC or BTC (default: every coin with stored positions)",
    )  # fmt: skip
    calibrate.add_argument("--window", choices=list(WINDOWS), default="7d", help="default 7d")
    calibrate.add_argument(
        "--fit", action="store_true",
        help="fit tier weights to the real mix and score them by the backtest",
    )  # fmt: skip
    calibrate.add_argument(
        "--csv", type=Path, default=BACKTEST_FILE, metavar="FILE",
        help=f"with --fit: the history file to backtest on (default {BACKTEST_FILE})",
    )  # fmt: skip
    calibrate.set_defaults(command=calibrate_command)


class _PinnedClock:
    """A clock held at a set time: the map is built as of the scan it is checked against."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@dataclass(frozen=True)
class _Row:
    """One asset calibrated: what it is, when, and the figures."""

    inst: Instrument
    read_ms: int
    tiers: tuple[Tier, ...]
    figures: Calibration
    notes: tuple[str, ...]


async def calibrate_command(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """A table row per asset that can be calibrated, one line for each that cannot."""
    if args.fit and not args.csv.is_file():
        raise LiqmapError(f"--fit scores tiers on {args.csv}, which is not a file; give --csv FILE")
    clock = _PinnedClock(clock_of(tuning)())
    rows: list[_Row] = []
    with open_stores(settings, tuning) as stores:
        stored = await stores.run(stores.positions.positions)
        coins = sorted({k.position.coin for k in stored})
        symbols = list(args.symbols) or [f"{VENUE}:{coin}" for coin in coins]
        if not symbols:
            print("no scans yet: liqmap scan ADDRESS... stores real positions to calibrate against")
            return 1
        async with market_data(settings, VENUE, replace(tuning, clock=clock)) as market:
            for symbol in symbols:
                row = await _calibrate_one(market, stores, clock, symbol, args.window)
                if isinstance(row, str):  # one line, whatever an error echoes of what was typed
                    print(" ".join(row.split()))
                else:
                    rows.append(row)
    if rows:
        _print_table(rows, args.window)
    if args.fit and rows:
        _fit(rows, args.csv)
    return 0 if rows else 1


async def _calibrate_one(
    market: MarketData, stores: Stores, clock: _PinnedClock, symbol: str, window: str
) -> _Row | str:
    """The figures of one symbol, or the line saying why there are none."""
    from jobs.market_sync import NotYetRecorded
    from jobs.on_demand.maps import compute_map
    from liqmap.evaluation.calibration import calibrate

    try:
        query = parse_symbol(symbol, VENUE)
    except InstrumentError as exc:
        return f"{_shown(symbol)}: {exc}"
    if query.exchange not in VENUES or not VENUES[query.exchange].positions_public:
        return (
            f"{query.exchange}:{query.text}: no real positions to calibrate against; only "
            f"{VENUE} publishes its accounts' positions"
        )
    try:
        inst = await market.instrument(symbol)
    except InstrumentError as exc:
        return f"{_shown(symbol)}: {exc}"
    known = await stores.run(stores.positions.positions, inst.native_id)
    if not known:
        return f"{inst.key}: no positions stored; liqmap scan ADDRESS... reads some"
    clock.now_ms = max(k.position.read_ms for k in known)
    try:
        snapshot = await compute_map(market, stores, inst, window)
    except NotYetRecorded as exc:
        return f"{inst.key}: {exc}"
    real = snapshot.real
    if real is None:  # compute_map attaches it wherever positions are stored
        return f"{inst.key}: no real layer on the map"
    tiers = params_for(inst).tiers
    positions = [k.position for k in known]
    figures = calibrate(snapshot.liq_map, real, positions, tiers)
    return _Row(inst, clock.now_ms, tiers, figures, snapshot.notes)


def _shown(text: str) -> str:
    """What was typed, as typed if it reads on one line, else quoted with its escapes."""
    return text if text.isprintable() and text.strip() == text and text else repr(text)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _mix_text(figures: Calibration) -> str:
    """``≤10x 70/38 10-25x 20/29``: each band holding some, real then model share in percent."""
    mix = figures.mix
    cells = [
        f"{label} {100 * real:.0f}/{100 * model:.0f}%"
        for label, real, model in zip(BAND_LABELS, mix.real_by_band, mix.model_by_band, strict=True)
        if real > 0 or model > 0
    ]
    return " ".join(cells)


def _print_table(rows: Sequence[_Row], window: str) -> None:
    print(
        f"the estimated {window} map against the real positions at the latest scan: rank "
        "correlation of USD per bin within 10% of price (n/a: under 5 bins hold real USD, or "
        "a side is flat), the real USD inside the estimate's 3 densest clusters per side "
        "(in: the share of the map's range they span), the real leverage mix by notional "
        "against the model's tiers (real/model %)"
    )
    print(
        f"{'asset':<7}{'scanned (UTC)':<18}{'positions':>9}{'coverage':>9}  "
        f"{'rank all':>8}{'long':>6}{'short':>6}  {'top clusters':<13} leverage real/model"
    )
    for row in rows:
        f = row.figures
        coverage = "n/a" if f.coverage is None else f"{f.coverage:.1%}"
        clusters = f"{_share(f.clusters.usd_share)} in {f.clusters.range_share:.0%}"
        print(
            f"{row.inst.native_id:<7}{utc(row.read_ms)[:16]:<18}{f.positions:>9}{coverage:>9}  "
            f"{_ratio(f.correlation.both):>8}{_ratio(f.correlation.long):>6}"
            f"{_ratio(f.correlation.short):>6}  {clusters:<13} {_mix_text(f)}"
        )
    for row in rows:
        for note in row.notes:
            print(f"  {row.inst.native_id}: {note}")


def _fit(rows: Sequence[_Row], csv: Path) -> None:
    """Print each asset's fitted tiers, then backtest those of the file's asset."""
    from liqmap.evaluation.calibration import fitted_tiers

    print(
        "\nfitted tiers: the real mix by notional on the model's rungs (rungs holding none dropped)"
    )
    fitted: dict[str, tuple[Tier, ...]] = {}
    for row in rows:
        tiers = fitted_tiers(row.figures.mix)
        if tiers is None:
            print(f"{row.inst.native_id:<7}no notional to fit")
            continue
        fitted[row.inst.native_id] = tiers
        print(f"{row.inst.native_id:<7}" + ", ".join(_tier_text(t) for t in tiers))
    words = set(re.split(r"[^a-z0-9]+", csv.name.lower()))
    named = [row for row in rows if row.inst.native_id.lower() in words]
    if not named:
        print(f"no calibrated asset is named in {csv.name}: no fitted tiers to backtest on it")
        return
    row = named[0]
    if row.inst.native_id not in fitted:
        print(f"{row.inst.native_id} has no fitted tiers to backtest on {csv.name}")
        return
    _backtest(row, fitted[row.inst.native_id], csv)


def _tier_text(tier: Tier) -> str:
    return f"{tier.leverage:g}x {tier.weight:.1%}"


def _backtest(row: _Row, fitted: tuple[Tier, ...], csv: Path) -> None:
    """The backtest of ``csv`` with the asset's current tiers and the fitted ones, and the
    verdict; the reference ladder of the centralized venues beside them."""
    from liqmap.evaluation.calibration import tier_score, tier_verdict
    from liqmap.exchanges.csv_source import load_csv

    history = load_csv(csv)
    name = row.inst.native_id
    print(
        f"\nbacktest on {history.name} (partial Spearman over every scored hour, long + short; "
        "the file's own rules, only the tiers change):"
    )
    base = ModelParams()
    reference = tier_score(history, base)
    verdict = tier_verdict(history, replace(base, tiers=row.tiers), fitted)
    low, high = row.tiers[0].leverage, row.tiers[-1].leverage
    print(_score_line(f"the default ladder ({len(DEFAULT_TIERS)} rungs 3-125x)", reference))
    print(
        _score_line(
            f"{row.inst.key} now ({len(row.tiers)} rungs {low:g}-{high:g}x)", verdict.current
        )
    )
    print(_score_line(f"fitted to {name}'s real mix ({len(fitted)} rungs)", verdict.fitted))
    change = verdict.fitted.total - verdict.current.total
    if verdict.keep:
        print(
            f"the fitted tiers raise the score by {change:.3f}: worth keeping for {VENUE} "
            f"maps of {name}"
        )
    else:
        print(
            f"the fitted tiers lower the score by {-change:.3f}: {VENUE} maps of {name} keep "
            "their tiers"
            if change < 0
            else f"the fitted tiers do not raise the score ({change:+.3f}): {VENUE} maps of "
            f"{name} keep their tiers"
        )


def _score_line(title: str, score: TierScore) -> str:
    return f"  {title:<42} long {score.long:.3f}  short {score.short:.3f}  sum {score.total:.3f}"
