"""``liqmap map`` and ``liqmap heatmap``: a liquidation map now or over time, from the exchanges
or offline from a market history file."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from liqmap.cli.arguments import Commands, iso_time, symbol_arguments
from liqmap.cli.progress import ProgressLine
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import market_data, open_stores
from liqmap.config import Settings
from liqmap.errors import LiqmapError
from liqmap.formats import strict_json, utc

if TYPE_CHECKING:
    from liqmap.charts.map_chart import ChartLabels
    from liqmap.engine.heatmap import Heatmap
    from liqmap.engine.realized import RealizedView
    from liqmap.engine.snapshot import MapSnapshot


def add_commands(commands: Commands) -> None:
    """``map`` and ``heatmap``."""
    map_ = commands.add_parser(
        "map",
        help="compute a liquidation map: a short summary and a PNG chart",
        description="Estimate where leveraged positions of an instrument would be liquidated, "
        "print the nearest dense clusters and draw the chart. With --csv it runs offline on a "
        "market history file (the format of data/README.md).",
    )
    symbol_arguments(map_)
    map_.add_argument("--out", type=Path, metavar="FILE.png", help="where to write the chart")
    map_.add_argument("--json", action="store_true", help="print bins, USD and clusters as JSON")
    map_.add_argument("--csv", type=Path, metavar="FILE", help="offline: read this CSV file")
    map_.add_argument(
        "--at", type=iso_time, metavar="ISO_TIME", help="with --csv: the map as of this time"
    )
    map_.set_defaults(command=draw_map)

    heatmap = commands.add_parser(
        "heatmap",
        help="draw a liquidation heatmap: the map over time, as a PNG",
        description="Estimate the liquidation map as it stood at each time of the window and "
        "draw it as a heatmap (time across, price up, USD per price bin as colour) under the "
        "price path. With --csv it runs offline on a market history file (the format of "
        "data/README.md).",
    )
    symbol_arguments(heatmap)
    heatmap.add_argument(
        "--out", type=Path, metavar="FILE.png",
        help="where to write the chart (default SYMBOL-WINDOW-heatmap.png)",
    )  # fmt: skip
    heatmap.add_argument("--csv", type=Path, metavar="FILE", help="offline: read this CSV file")
    heatmap.add_argument(
        "--at", type=iso_time, metavar="ISO_TIME", help="with --csv: the heatmap up to this time"
    )
    heatmap.set_defaults(command=draw_heatmap)


async def draw_map(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Print the map's summary (or its JSON) and write its chart."""
    from liqmap.charts.map_chart import ChartLabels, render_png
    from liqmap.cli.map_summary import as_json, summary

    if args.at is not None and args.csv is None:
        raise LiqmapError("--at works with --csv only; live maps are always as of now")
    if args.csv:
        snapshot, realized = _csv_snapshot(args)
    else:
        snapshot, realized = await _live_snapshot(args, settings, tuning)
    out = args.out or (None if args.json else Path(f"{snapshot.label}-{snapshot.window}.png"))
    if out is not None:
        png = render_png(
            snapshot.liq_map, snapshot.clusters, ChartLabels.of(snapshot), realized=realized,
            real=snapshot.real,
        )  # fmt: skip
        _write_chart(out, png)
    if args.json:
        print(strict_json(as_json(snapshot)))
    else:
        print(summary(snapshot))
        print(f"chart: {out}")
    return 0


def _write_chart(out: Path, png: bytes) -> None:
    try:
        out.write_bytes(png)
    except OSError as exc:
        raise LiqmapError(f"cannot write the chart to {out}: {exc.strerror or exc}") from None


def _csv_snapshot(args: argparse.Namespace) -> tuple[MapSnapshot, RealizedView | None]:
    """The map of the file's window, and the file's realized liquidations over it."""
    from liqmap.cli.offline import offline_window
    from liqmap.engine.model import ModelParams
    from liqmap.engine.snapshot import build_aggregate_snapshot, build_snapshot
    from liqmap.market.timeframes import step_name
    from liqmap.market.venue_split import split_history, split_note, venue_slices

    found = offline_window(args)
    history, candles, oi = found.history, found.candles, found.open_interest
    step = step_name(history.step_ms)
    if found.by_venue:
        slices = venue_slices()
        parts = split_history(candles, oi, slices)
        notes = (*found.notes, split_note(slices))
        snapshot = build_aggregate_snapshot(found.label, found.window, step, parts, notes)
        return replace(snapshot, source=history.name), history.realized(candles)
    snapshot = build_snapshot(
        found.label, history.name, found.window, step, candles, oi, ModelParams(), found.notes
    )
    return snapshot, history.realized(candles)


async def _live_snapshot(
    args: argparse.Namespace, settings: Settings, tuning: Tuning
) -> tuple[MapSnapshot, RealizedView | None]:
    """The map, and the liquidations recorded over its window where the recorder ran."""
    from jobs.on_demand.maps import compute_map
    from jobs.on_demand.realized_view import realized_view
    from liqmap.market.timeframes import window_ms

    with open_stores(settings, tuning) as stores:
        async with market_data(settings, args.exchange, tuning) as market:
            inst = await market.instrument(args.symbol)
            snapshot = await compute_map(
                market, stores, inst, args.window, args.step, ProgressLine(sys.stderr)
            )
            end = snapshot.as_of_ms
            realized = await realized_view(stores, market, inst, end - window_ms(args.window), end)
    return snapshot, realized


async def draw_heatmap(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Write the heatmap's chart; print what it spans and its hottest bands."""
    from liqmap.charts.heatmap_chart import render_heatmap_png

    if args.at is not None and args.csv is None:
        raise LiqmapError("--at works with --csv only; live heatmaps always end now")
    if args.csv:
        heatmap, labels, notes, realized = _csv_heatmap(args)
    else:
        heatmap, labels, notes, realized = await _live_heatmap(args, settings, tuning)
    out = args.out or Path(f"{labels.instrument}-{labels.window}-heatmap.png")
    _write_chart(out, render_heatmap_png(heatmap, labels, realized=realized))
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
    """The heatmap of the file's window, built with a warm-up of the window's length before
    it where the file has one, the notes on it, and the file's realized liquidations over
    the window."""
    from liqmap.charts.map_chart import ChartLabels
    from liqmap.cli.offline import offline_window
    from liqmap.engine.heatmap import build_aggregate_heatmap, build_heatmap
    from liqmap.market.timeframes import window_ms
    from liqmap.market.venue_split import split_history, split_note, venue_slices

    found = offline_window(args)
    history, length = found.history, window_ms(args.window)
    realized = history.realized(found.candles)
    candles, oi = history.window(2 * length, args.at)
    if not found.by_venue:
        labels = ChartLabels(found.label, history.name, found.window)
        return build_heatmap(candles, oi, window_ms=length), labels, found.notes, realized
    slices = venue_slices()
    parts = split_history(candles, oi, slices)
    heatmap, shares = build_aggregate_heatmap(parts, window_ms=length)
    labels = ChartLabels(
        found.label, history.name, found.window, tuple((v.exchange, v.share) for v in shares)
    )
    return heatmap, labels, (*found.notes, split_note(slices)), realized


async def _live_heatmap(
    args: argparse.Namespace, settings: Settings, tuning: Tuning
) -> tuple[Heatmap, ChartLabels, tuple[str, ...], RealizedView | None]:
    """Sync the window into the cache (each exchange of an aggregate at once), then build
    the heatmap; also the notes on the data (e.g. an exchange left out) and the liquidations
    recorded over the window."""
    from jobs.on_demand.heatmaps import compute_heatmap
    from jobs.on_demand.realized_view import realized_view
    from liqmap.market.timeframes import window_ms

    with open_stores(settings, tuning) as stores:
        async with market_data(settings, args.exchange, tuning) as market:
            inst = await market.instrument(args.symbol)
            view = await compute_heatmap(
                market, stores, inst, args.window, args.step, ProgressLine(sys.stderr)
            )
            end = view.heatmap.as_of_ms
            realized = await realized_view(stores, market, inst, end - window_ms(args.window), end)
    return view.heatmap, view.labels, view.notes, realized
