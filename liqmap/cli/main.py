"""The ``liqmap`` command line: the composition root that wires config, exchanges and storage."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from liqmap.config import Settings, load_settings
from liqmap.engine.snapshot import MapSnapshot
from liqmap.errors import ConfigError, LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.formats import strict_json, usd, utc
from liqmap.market.timeframes import DAY_MS, DEFAULT_STEP, STEPS, WINDOWS

if TYPE_CHECKING:
    from jobs.market_sync import MarketWindow
    from jobs.scheduled.recorder import Batch
    from liqmap.charts.map_chart import ChartLabels
    from liqmap.engine.heatmap import Heatmap
    from liqmap.engine.realized import RealizedView
    from liqmap.evaluation.backtest import PartScore, SideScore
    from storage.stores import Stores

log = logging.getLogger("liqmap")

EXCHANGE_HELP = (
    "exchange for bare symbols: okx, binance, bybit, or all for the three summed "
    "(default LIQMAP_EXCHANGE)"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command is _doctor:  # reports bad settings as a check instead of stopping
            return asyncio.run(_doctor(args))
        settings = load_settings()
        return asyncio.run(args.command(args, settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except LiqmapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 130
    except Exception:
        log.exception("liqmap stopped on an unexpected error")
        print("error: unexpected failure; the log above has the details", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqmap",
        description="Liquidation maps for crypto derivatives, their clusters, and alerts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="the service: Telegram bot and alert jobs (needs TELEGRAM_BOT_TOKEN), until stopped",
        description="Serve the Telegram bot and run the jobs (refresh maps, watch prices, "
        "deliver alerts) until SIGINT or SIGTERM. Settings come from the environment and .env "
        "(see .env.example).",
    )
    run.set_defaults(command=_run)

    map_ = commands.add_parser(
        "map",
        help="compute a liquidation map: a short summary and a PNG chart",
        description="Estimate where leveraged positions of an instrument would be liquidated, "
        "print the nearest dense clusters and draw the chart. With --csv it runs offline on a "
        "market history file (the format of data/README.md).",
    )
    _symbol_arguments(map_)
    map_.add_argument("--out", type=Path, metavar="FILE.png", help="where to write the chart")
    map_.add_argument("--json", action="store_true", help="print bins, USD and clusters as JSON")
    map_.add_argument("--csv", type=Path, metavar="FILE", help="offline: read this CSV file")
    map_.add_argument(
        "--at", type=_iso_time, metavar="ISO_TIME", help="with --csv: the map as of this time"
    )
    map_.set_defaults(command=_map)

    heatmap = commands.add_parser(
        "heatmap",
        help="draw a liquidation heatmap: the map over time, as a PNG",
        description="Estimate the liquidation map as it stood at each time of the window and "
        "draw it as a heatmap (time across, price up, USD per price bin as colour) under the "
        "price path. With --csv it runs offline on a market history file (the format of "
        "data/README.md).",
    )
    _symbol_arguments(heatmap)
    heatmap.add_argument(
        "--out", type=Path, metavar="FILE.png",
        help="where to write the chart (default SYMBOL-WINDOW-heatmap.png)",
    )  # fmt: skip
    heatmap.add_argument("--csv", type=Path, metavar="FILE", help="offline: read this CSV file")
    heatmap.add_argument(
        "--at", type=_iso_time, metavar="ISO_TIME", help="with --csv: the heatmap up to this time"
    )
    heatmap.set_defaults(command=_heatmap)

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
    backtest.add_argument("--exchange", help=f"with --db: {EXCHANGE_HELP}")
    backtest.add_argument("--json", action="store_true", help="print the figures as JSON")
    backtest.set_defaults(command=_backtest)

    fetch = commands.add_parser(
        "fetch",
        help="fetch candles and open interest into the cache",
        description="Bring the cache (LIQMAP_DB) up to date for one instrument and window; "
        "only what the cache lacks is fetched.",
    )
    _symbol_arguments(fetch)
    fetch.set_defaults(command=_fetch)

    record = commands.add_parser(
        "record",
        help="record realized liquidations of instruments into the database, until stopped",
        description="Record the liquidations the exchanges publish on their public websockets "
        "for the given instruments into LIQMAP_DB (as liqmap run does for subscribed ones), "
        "with the time spans watched; a line per batch; until SIGINT, SIGTERM or --for.",
    )
    record.add_argument("symbols", nargs="+", metavar="SYMBOL", help="e.g. BTC, all:ETH")
    record.add_argument("--exchange", help=EXCHANGE_HELP)
    record.add_argument(
        "--for", dest="seconds", type=_positive_seconds, metavar="SECONDS",
        help="stop after this many seconds",
    )  # fmt: skip
    record.set_defaults(command=_record)

    price = commands.add_parser("price", help="print current prices (mark, else last)")
    price.add_argument("symbols", nargs="+", metavar="SYMBOL")
    price.add_argument("--exchange", help=EXCHANGE_HELP)
    price.set_defaults(command=_price)

    doctor = commands.add_parser(
        "doctor",
        help="check the configuration, the database, each exchange and Telegram",
        description="Check what liqmap needs to run here: the settings, the database at "
        "LIQMAP_DB (read, never changed), each exchange and the Telegram bot token. One line "
        "per check; exit status 1 if any failed.",
    )
    doctor.add_argument(
        "--offline",
        action="store_true",
        help="check only the configuration and the database, without network (a HEALTHCHECK)",
    )
    doctor.set_defaults(command=_doctor)
    return parser


def _symbol_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", help="e.g. BTC, BTC-USDT-SWAP, binance:ETH")
    parser.add_argument("--exchange", help=EXCHANGE_HELP)
    parser.add_argument("--window", choices=list(WINDOWS), default="7d", help="default 7d")
    parser.add_argument("--step", choices=list(STEPS), help="candle step (default per window)")


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def _iso_time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO time such as 2026-03-01T12:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "ccxt", "asyncio", "matplotlib", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _market_data(settings: Settings, exchange: str | None) -> MarketData:
    return MarketData(
        urls=settings.exchange_urls, default_exchange=(exchange or settings.default_exchange)
    )


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM cancels this task; then close everything in order."""
    from telegram.error import InvalidToken

    from bot import log_scrub
    from bot.alert_sender import TelegramAlertSender
    from bot.app import build_application
    from bot.deps import open_deps
    from bot.runner import polling
    from jobs.scheduled.alert_jobs import AlertJobs
    from jobs.scheduled.delivery import Delivery
    from jobs.scheduled.recorder import recorder_for
    from jobs.scheduled.scheduler import start_jobs

    token = settings.require_token()
    log_scrub.install(token)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with _stores(settings) as stores:
            async with _market_data(settings, None) as market:
                clock = market.now
                recorder = recorder_for(settings, stores, clock)
                core = open_deps(settings, market, stores, clock, recorder.status)
                async with polling(build_application(core)) as application:
                    delivery = Delivery(stores, TelegramAlertSender(application.bot), clock)
                    jobs = AlertJobs(
                        market, stores, core.maps, delivery, clock, settings.refresh_seconds
                    )
                    scheduler = start_jobs(jobs, settings.refresh_seconds, settings.price_seconds)
                    recorder.follow(market, settings.refresh_seconds)
                    log.info("liqmap is running (database %s); stop with Ctrl-C", settings.db_path)
                    try:
                        await asyncio.Event().wait()
                    finally:
                        scheduler.shutdown(wait=False)
                        await jobs.stop()
                        await recorder.stop()
    except asyncio.CancelledError:
        log.info("liqmap stopped")
        return 0
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather"
        ) from None
    return 0


def _wall_clock() -> int:
    return int(time.time() * 1000)


@contextlib.contextmanager
def _stores(settings: Settings) -> Iterator[Stores]:
    """The database at ``LIQMAP_DB`` with its stores and their thread; all closed on exit."""
    from storage.database import open_database
    from storage.stores import Stores

    db = open_database(settings.db_path)
    stores = Stores(db, _wall_clock, settings.access, settings.subscription_limits)
    try:
        yield stores
    finally:
        stores.close()
        db.close()


async def _map(args: argparse.Namespace, settings: Settings) -> int:
    from liqmap.charts.map_chart import ChartLabels, render_png
    from liqmap.cli.map_summary import as_json, summary

    if args.at is not None and args.csv is None:
        raise LiqmapError("--at works with --csv only; live maps are always as of now")
    if args.csv:
        snapshot, realized = _csv_snapshot(args)
    else:
        snapshot, realized = await _live_snapshot(args, settings)
    out = args.out or (None if args.json else Path(f"{snapshot.label}-{snapshot.window}.png"))
    if out is not None:
        png = render_png(
            snapshot.liq_map, snapshot.clusters, ChartLabels.of(snapshot), realized=realized
        )
        try:
            out.write_bytes(png)
        except OSError as exc:
            raise LiqmapError(f"cannot write the chart to {out}: {exc.strerror or exc}") from None
    if args.json:
        print(strict_json(as_json(snapshot)))
    else:
        print(summary(snapshot))
        print(f"chart: {out}")
    return 0


def _csv_snapshot(args: argparse.Namespace) -> tuple[MapSnapshot, RealizedView | None]:
    """The map of the file's window, and the file's realized liquidations over it."""
    from liqmap.engine.model import ModelParams
    from liqmap.engine.snapshot import build_aggregate_snapshot, build_snapshot
    from liqmap.exchanges.csv_source import load_csv
    from liqmap.market.timeframes import step_name, window_ms
    from liqmap.market.venue_split import split_history, split_note, venue_slices

    label, by_venue = _csv_symbol(args)
    history = load_csv(args.csv)
    candles, oi = history.window(window_ms(args.window), args.at)
    step = step_name(history.step_ms)
    if by_venue:
        slices = venue_slices()
        parts = split_history(candles, oi, slices)
        notes = (split_note(slices),)
        snapshot = build_aggregate_snapshot(label, args.window, step, parts, notes)
        return replace(snapshot, source=history.name), history.realized(candles)
    snapshot = build_snapshot(label, history.name, args.window, step, candles, oi, ModelParams())
    return snapshot, history.realized(candles)


def _csv_symbol(args: argparse.Namespace) -> tuple[str, bool]:
    """The label of a CSV map, and whether its summed open interest is split by venue
    (``--exchange all`` or ``all:BTC``): no other exchange applies to a file."""
    from liqmap.market.instruments import ALL, parse_symbol

    if args.step:
        raise LiqmapError("--step does not apply to --csv: the file has its own")
    if args.exchange not in (None, ALL):
        raise LiqmapError(
            "--exchange does not apply to --csv: the file has its own, except --exchange all "
            "to split its summed open interest by venue"
        )
    query = parse_symbol(args.symbol, args.exchange or "okx")
    return query.text, query.exchange == ALL


async def _live_snapshot(
    args: argparse.Namespace, settings: Settings
) -> tuple[MapSnapshot, RealizedView | None]:
    """The map, and the liquidations recorded over its window where the recorder ran."""
    from jobs.on_demand.maps import compute_map
    from jobs.on_demand.realized_view import realized_view
    from liqmap.market.timeframes import window_ms

    with _stores(settings) as stores:
        async with _market_data(settings, args.exchange) as market:
            inst = await market.instrument(args.symbol)
            snapshot = await compute_map(
                market, stores, inst, args.window, args.step, ProgressLine(sys.stderr)
            )
            end = snapshot.as_of_ms
            realized = await realized_view(stores, inst, end - window_ms(args.window), end)
    return snapshot, realized


async def _heatmap(args: argparse.Namespace, settings: Settings) -> int:
    from liqmap.charts.heatmap_chart import render_heatmap_png

    if args.at is not None and args.csv is None:
        raise LiqmapError("--at works with --csv only; live heatmaps always end now")
    if args.csv:
        heatmap, labels, notes, realized = _csv_heatmap(args)
    else:
        heatmap, labels, notes, realized = await _live_heatmap(args, settings)
    out = args.out or Path(f"{labels.instrument}-{labels.window}-heatmap.png")
    try:
        out.write_bytes(render_heatmap_png(heatmap, labels, realized=realized))
    except OSError as exc:
        raise LiqmapError(f"cannot write the chart to {out}: {exc.strerror or exc}") from None
    for line in _heatmap_summary(heatmap, labels):
        print(line)
    for note in notes:
        print(f"note: {note}")
    print(f"chart: {out}")
    return 0


def _heatmap_summary(heatmap: Heatmap, labels: ChartLabels) -> list[str]:
    """What the heatmap spans, its hottest band over the window and in the latest column."""
    from liqmap.engine.heatmap import Band, peak_band
    from liqmap.formats import price_text, usd

    def band_text(band: Band) -> str:
        return f"{price_text(band.low)}-{price_text(band.high)}  {usd(band.usd)}"

    lines = [f"{labels.instrument} ({labels.exchange}) {labels.window} liquidation heatmap"]
    if labels.shares:
        lines.append(f"{labels.shares_text} (of the latest column)")
    columns, bins = heatmap.long.shape
    if columns:
        lines.append(
            f"{utc(heatmap.ts[0] - heatmap.column_ms)} to {utc(heatmap.as_of_ms)}: "
            f"{columns:,} columns x {bins:,} price bins of "
            f"{price_text(heatmap.edges[1] - heatmap.edges[0])}"
        )
    peak, now = peak_band(heatmap), peak_band(heatmap, column=-1)
    if peak is None:
        return [*lines, "no open-interest build-up in this window: nothing to map"]
    lines.append(f"peak band: {band_text(peak)}  at {utc(peak.ts)}")
    if now is not None:
        price = heatmap.close[-1]
        lines.append(
            f"peak band now: {band_text(now)}  {now.position(price)}, price {price_text(price)}"
        )
    return lines


def _csv_heatmap(
    args: argparse.Namespace,
) -> tuple[Heatmap, ChartLabels, tuple[str, ...], RealizedView | None]:
    from liqmap.charts.map_chart import ChartLabels
    from liqmap.engine.heatmap import build_aggregate_heatmap, build_heatmap
    from liqmap.exchanges.csv_source import load_csv
    from liqmap.market.timeframes import window_ms
    from liqmap.market.venue_split import split_history, split_note, venue_slices

    label, by_venue = _csv_symbol(args)
    history = load_csv(args.csv)
    candles, oi = history.window(window_ms(args.window), args.at)
    realized = history.realized(candles)
    if not by_venue:
        labels = ChartLabels(label, history.name, args.window)
        return build_heatmap(candles, oi), labels, (), realized
    slices = venue_slices()
    heatmap, shares = build_aggregate_heatmap(split_history(candles, oi, slices))
    labels = ChartLabels(
        label, history.name, args.window, tuple((v.exchange, v.share) for v in shares)
    )
    return heatmap, labels, (split_note(slices),), realized


async def _live_heatmap(
    args: argparse.Namespace, settings: Settings
) -> tuple[Heatmap, ChartLabels, tuple[str, ...], RealizedView | None]:
    """Sync the window into the cache (each exchange of an aggregate at once), then build
    the heatmap; also the notes on the data (e.g. an exchange left out) and the liquidations
    recorded over the window."""
    from jobs.on_demand.heatmaps import compute_heatmap
    from jobs.on_demand.realized_view import realized_view
    from liqmap.market.timeframes import window_ms

    with _stores(settings) as stores:
        async with _market_data(settings, args.exchange) as market:
            inst = await market.instrument(args.symbol)
            view = await compute_heatmap(
                market, stores, inst, args.window, args.step, ProgressLine(sys.stderr)
            )
            end = view.heatmap.as_of_ms
            realized = await realized_view(stores, inst, end - window_ms(args.window), end)
    return view.heatmap, view.labels, view.notes, realized


async def _backtest(args: argparse.Namespace, settings: Settings) -> int:
    from liqmap.evaluation.backtest import as_dict, backtest, venue_scores
    from liqmap.exchanges.csv_source import load_csv
    from liqmap.market.venue_split import split_note, venue_slices

    if args.db is not None:
        return await _db_backtest(args, settings)
    if args.exchange is not None:
        raise LiqmapError("--exchange works with --db only: a CSV file holds its own venues")
    history = load_csv(args.csv)
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
    print(f"{history.name}: map before each hour vs that hour's realized liquidations")
    for part in parts:
        _print_part(f"{part.name}: {part.hours:,} hours", part)
    print(f"\nby venue: partial (cluster lift); all = the venues summed, {split}")
    print(f"{'':10}{'fit long':>16}{'fit short':>16}{'check long':>16}{'check short':>16}")
    for row in venues:
        sides = (row.fit_long, row.fit_short, row.check_long, row.check_short)
        print(f"{row.venue:10}" + "".join(f"{_venue_cell(side):>16}" for side in sides))
    return 0


def _print_part(heading: str, part: PartScore) -> None:
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
        ("entered hours", "entered_hours"),
    ):
        cells = [
            getattr(getattr(part, side), field)
            for side in ("long", "naive_long", "short", "naive_short")
        ]
        print(f"{title:18}" + "".join(_cell(cell) for cell in cells))


async def _db_backtest(args: argparse.Namespace, settings: Settings) -> int:
    """The live accuracy of each symbol (each recorded instrument if none is given) from the
    market cache and the liquidations recorded in ``LIQMAP_DB``; with ``--exchange all`` each
    venue and their sum, as the CSV's table by venue."""
    from jobs.on_demand.accuracy import live_accuracy
    from liqmap.evaluation.live_accuracy import (
        MIN_HOURS,
        MIN_SIDE_HOURS,
        LiveAccuracy,
        NothingRecorded,
    )

    found: list[LiveAccuracy] = []
    with _stores(settings) as stores:
        async with _market_data(settings, args.exchange) as market:
            symbols = args.db or await _recorded_symbols(market, stores, args.exchange)
            if not symbols:
                raise LiqmapError(
                    f"no liquidations recorded in {settings.db_path}: `liqmap run` records them"
                )
            for symbol in symbols:
                inst = await market.instrument(symbol)
                for subject in (*inst.members, inst):
                    print(f"scoring {subject.key} against its recorded liquidations...",
                          file=sys.stderr)  # fmt: skip
                    try:
                        found.append(
                            await live_accuracy(market, stores, subject, ProgressLine(sys.stderr))
                        )
                    except NothingRecorded:
                        if subject is inst:
                            raise
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


async def _recorded_symbols(market: MarketData, stores: Stores, exchange: str | None) -> list[str]:
    """Every instrument recorded (on ``exchange`` only, if given); with ``all``, the sum over
    exchanges of each asset recorded."""
    from liqmap.market.instruments import ALL

    streams = await stores.run(stores.realized.streams)
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


async def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.market_sync import sync_window

    with _stores(settings) as stores:
        async with _market_data(settings, args.exchange) as market:
            inst = await market.instrument(args.symbol)
            step = args.step or DEFAULT_STEP[args.window]
            for member in inst.members or (inst,):
                window = await sync_window(
                    market, stores, member, args.window, step, ProgressLine(sys.stderr)
                )
                _print_fetched(window, args.window, step)
    for note in inst.missing_notes:
        print(note)
    print(f"  cached in {settings.db_path}")
    return 0


def _print_fetched(window: MarketWindow, length: str, step: str) -> None:
    inst, candles, oi = window.instrument, window.candles, window.open_interest
    print(f"{inst.native_id} on {inst.exchange}, {length} at {step}:")
    if len(candles):
        print(
            f"  {len(candles):,} candles {utc(candles.ts[0])} -> {utc(candles.ts[-1])}, "
            f"last close {candles.close[-1]:,.2f}"
        )
    else:
        print("  no candles in this window")
    if len(oi):
        print(
            f"  {len(oi):,} open-interest rows at {window.oi_step}, "
            f"latest {oi.usd[-1] / 1e6:,.1f}M USD at {utc(oi.ts[-1])}"
        )
    else:
        print(f"  no open-interest rows at {window.oi_step} in this window")
    for note in window.notes:
        print(f"  note: {note}")


async def _record(args: argparse.Namespace, settings: Settings) -> int:
    """Record until SIGINT or SIGTERM (or ``--for``); then store the rest and sum up."""
    from jobs.scheduled.recorder import recorder_for

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with _stores(settings) as stores:
        async with _market_data(settings, args.exchange) as market:
            chosen = [await market.instrument(symbol) for symbol in args.symbols]
            members = list(dict.fromkeys(m for inst in chosen for m in inst.members or (inst,)))
            recorder = recorder_for(settings, stores, market.now, on_batch=_print_batch)
            unrecorded = sorted({m.exchange for m in members} - set(recorder.venues))
            if unrecorded:
                raise ConfigError("; ".join(
                    f"LIQMAP_{name.upper()}_URL is not {name}'s public host: set "
                    f"LIQMAP_{name.upper()}_WS_URL to record {name}" for name in unrecorded
                ))  # fmt: skip
            for inst in chosen:
                for note in inst.missing_notes:
                    print(f"note: {note}")
            print(f"recording {', '.join(f'{m.exchange}:{m.native_id}' for m in members)}")
            for venue in dict.fromkeys(m.exchange for m in members):
                if recorder.status[venue].note:
                    print(f"note: {recorder.status[venue].note}")
            recorder.watch(chosen)
            try:
                await (asyncio.sleep(args.seconds) if args.seconds else asyncio.Event().wait())
            except asyncio.CancelledError:
                log.info("recording stopped")
            finally:
                await recorder.stop()
            coverage = await stores.run(stores.realized.streams)
    watched = {(m.exchange, m.native_id) for m in members}
    for stream in coverage:
        if (stream.exchange, stream.instrument) in watched:
            seconds = sum(end - start for start, end in stream.covered) / 1000
            print(
                f"{stream.exchange}:{stream.instrument}: {_count(stream.events, 'liquidation')} "
                f"stored ({usd(stream.usd)}), watched {seconds:,.0f} s in "
                f"{_count(len(stream.covered), 'span')}"
            )
    for status in recorder.status.values():
        if status.instruments and (status.skipped or status.reconnects):
            print(f"{status.exchange}: {status.skipped} malformed skipped, "
                  f"{_count(status.reconnects, 'reconnect')}")  # fmt: skip
    return 0


def _print_batch(batch: Batch) -> None:
    for inst in dict.fromkeys(row.instrument for row in batch.rows):
        rows = [row for row in batch.rows if row.instrument == inst]
        sides = ", ".join(
            f"{side} {usd(sum(r.usd for r in rows if r.side == side))}"
            for side in ("long", "short")
            if any(r.side == side for r in rows)
        )
        when = datetime.fromtimestamp(batch.span[1] / 1000, UTC).strftime("%H:%M:%S")
        print(f"{when} {batch.exchange}:{inst}: {_count(len(rows), 'liquidation')} ({sides})",
              flush=True)  # fmt: skip


def _count(number: int, thing: str) -> str:
    return f"{number:,} {thing}{'' if number == 1 else 's'}"


async def _price(args: argparse.Namespace, settings: Settings) -> int:
    async with _market_data(settings, args.exchange) as market:
        instruments = [await market.instrument(symbol) for symbol in args.symbols]
        prices = await market.prices(instruments)
    missing = 0
    for inst in instruments:
        price = prices.get(inst.key)
        if price is None:
            missing += 1
            print(f"{inst.native_id:<22} {inst.exchange:<8} no price")
        else:
            print(f"{inst.native_id:<22} {inst.exchange:<8} {price.value:>14,.2f} ({price.kind})")
    return 1 if missing else 0


async def _doctor(args: argparse.Namespace) -> int:
    """Check configuration, database, exchanges and Telegram; it loads the settings itself."""
    from liqmap.cli.doctor import run_doctor

    if not args.verbose:  # the FAIL lines say what the retry warnings would
        logging.getLogger("liqmap.exchanges.market_data").setLevel(logging.ERROR)
    return 0 if await run_doctor(args.offline, sys.stdout) else 1


class ProgressLine:
    """Shows paging progress of long fetches on a terminal line (or every 10% to a log),
    each line naming the series, as several exchanges may fetch at once."""

    def __init__(self, stream: TextIO, min_rows: int = 2000) -> None:
        self.stream = stream
        self.min_rows = min_rows
        self._shown: dict[str, int] = {}

    def __call__(self, series: str, done: int, expected: int) -> None:
        if expected < self.min_rows:
            return
        tenth = min(10, done * 10 // max(expected, 1))
        line = f"  {series}: fetched {done:,}/{expected:,} rows"
        if self.stream.isatty():
            self.stream.write(f"\r\033[K{line}" + ("\n" if done >= expected else ""))
        elif tenth > self._shown.get(series, -1):
            self.stream.write(line + "\n")
        self._shown[series] = -1 if done >= expected else tenth
        self.stream.flush()


if __name__ == "__main__":
    raise SystemExit(main())
