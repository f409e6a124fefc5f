"""The liquidation heatmap as a PNG: time across, price up, USD per bin as colour, price on top.

Same dark style as ``liqmap.charts.map_chart``; matplotlib's object API (no pyplot), so it can
be drawn in worker threads.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.ticker import FuncFormatter, MaxNLocator

from liqmap.charts.canvas import BACKGROUND, new_figure, to_png
from liqmap.charts.map_chart import GRID, MUTED, PANEL, TEXT, ChartLabels
from liqmap.engine.clusters import LONG, SHORT
from liqmap.engine.heatmap import Heatmap
from liqmap.engine.realized import RealizedView, by_cell
from liqmap.formats import price_text, usd, utc
from liqmap.market.timeframes import DAY_MS, duration_text

PRICE_LINE = "#f0f6fc"
FOOTNOTE = "estimated from candles and open interest, not exact positions"
COLORMAP = "viridis"
GAMMA = 1.6
"""Colour ~ USD ** 1.6: the broad background of low-leverage levels stays dark and the
dense bands light up."""
CAP_PERCENTILE = 99.5
"""Colours saturate at this percentile of the non-empty cells shown, so one hot bin cannot
wash out the rest."""
DATE_FORMATS = ["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"]
ZERO_FORMATS = ["", "%Y", "%b %d", "%b %d", "%H:%M", "%H:%M"]
"""Ticks read ``Mar 14`` for days and ``12:00`` within a day, midnight as its date."""
MARGIN_PCT = 4.0
"""The price axis shows the path's range plus this much each side (within the grid)."""
REALIZED_MARKERS = ((LONG, "v", "#7ee787"), (SHORT, "^", "#ff7b72"))
MARKER_AREA = 140.0
"""Area in points² of the largest recorded cell's marker; the others scale by USD."""


def render_heatmap_png(
    heatmap: Heatmap,
    labels: ChartLabels,
    width_px: int = 1280,
    realized: RealizedView | None = None,
) -> bytes:
    """The heatmap as PNG bytes, ``width_px`` wide at 16:9 (1280x720 by default), with the
    recorded liquidations as markers where they happened when ``realized`` is given."""
    figure = new_figure(width_px)
    axes = figure.add_axes((0.075, 0.115, 0.765, 0.755), facecolor=PANEL)
    title = (
        f"{labels.instrument} · {labels.exchange} · {labels.window} liquidation heatmap · "
        f"{utc(heatmap.as_of_ms)}"
    )
    size = 17 if len(title) <= 72 else 17 * 72 / len(title)
    figure.suptitle(title, color=TEXT, fontsize=size, fontweight="bold", y=0.965)
    figure.text(0.075, 0.012, FOOTNOTE, color=MUTED, fontsize=10.5, style="italic")
    figure.text(0.84, 0.012, labels.shares_text, color=MUTED, fontsize=10.5, ha="right")
    _style(axes)
    total = heatmap.total
    if heatmap.is_empty:
        axes.text(
            0.5, 0.5, "no open-interest build-up in this window: nothing to map",
            transform=axes.transAxes, ha="center", va="center", color=TEXT, fontsize=16,
        )  # fmt: skip
        axes.set_xticks([])
        axes.set_yticks([])
        return to_png(figure)

    ts, span = heatmap.ts, heatmap.column_ms
    start, end = (ts[0] - span) / DAY_MS, ts[-1] / DAY_MS
    edges = heatmap.edges
    last = float(heatmap.close[~np.isnan(heatmap.close)][-1])
    width = float(edges[1] - edges[0])
    figure.text(
        0.075, 0.895,
        f"{utc(ts[0] - span)} to {utc(ts[-1])} · {len(ts):,} columns of {duration_text(span)} · "
        f"price bins {price_text(width)} wide ({width / last:.1%})",
        color=MUTED, fontsize=12,
    )  # fmt: skip
    low, high = _price_range(heatmap)
    shown = total[:, (edges[1:] > low) & (edges[:-1] < high)]
    cap = float(np.percentile(shown[shown > 0], CAP_PERCENTILE)) if shown.any() else 1.0
    image = axes.imshow(
        total.T,
        extent=(start, end, edges[0], edges[-1]),
        origin="lower",
        aspect="auto",
        cmap=colormaps[COLORMAP],
        norm=PowerNorm(GAMMA, vmin=0, vmax=cap),
        interpolation="antialiased",
    )
    times = (ts - span / 2) / DAY_MS
    axes.plot(times, heatmap.close, color=PRICE_LINE, linewidth=1.1)
    if realized is not None:
        _mark_realized(axes, heatmap, realized)
    axes.set_xlim(start, end)
    axes.set_ylim(low, high)
    _axes_scales(axes)
    if realized is not None:
        axes.set_xlabel(f"time (UTC)   ·   {_realized_caption(realized)}")
    axes.annotate(
        price_text(last), (end, last), xytext=(4, 0), textcoords="offset points",
        color=BACKGROUND, fontsize=10.5, fontweight="bold", va="center", ha="left",
        annotation_clip=False,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": PRICE_LINE, "linewidth": 0},
    )  # fmt: skip

    bar_axes = figure.add_axes((0.9, 0.115, 0.012, 0.755))
    bar = figure.colorbar(image, cax=bar_axes, extend="max")
    bar.outline.set_edgecolor(GRID)
    bar_axes.tick_params(colors=MUTED, labelsize=10.5)
    bar_axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: usd(v)))
    bar.set_label("liquidation USD per bin", color=MUTED, fontsize=12, labelpad=6)
    return to_png(figure)


def _mark_realized(axes: Axes, heatmap: Heatmap, realized: RealizedView) -> None:
    """Recorded liquidations summed per cell, at the cell's time and price, sized by USD
    (longs ▼, shorts ▲)."""
    found = by_cell(realized.rows, heatmap.ts, heatmap.column_ms, heatmap.edges)
    largest = max(float(found[side].max(initial=0)) for side, _, _ in REALIZED_MARKERS)
    times = (heatmap.ts - heatmap.column_ms / 2) / DAY_MS
    for side, marker, color in REALIZED_MARKERS:
        column, bin_ = np.nonzero(found[side])
        if len(column):
            sizes = MARKER_AREA * np.sqrt(found[side][column, bin_] / largest) + 5
            axes.scatter(times[column], heatmap.centers[bin_], s=sizes, marker=marker,
                         color=color, edgecolors=BACKGROUND, linewidths=0.6, zorder=4)  # fmt: skip


def _realized_caption(realized: RealizedView) -> str:
    """Totals of the recorded liquidations and how much of the window was watched."""
    longs, shorts = usd(realized.total(LONG)), usd(realized.total(SHORT))
    return f"realized liquidations: longs {longs} ▼  shorts {shorts} ▲  ·  {realized.coverage_text}"


def _style(axes: Axes) -> None:
    axes.tick_params(colors=MUTED, labelsize=11)
    for spine in axes.spines.values():
        spine.set_color(GRID)


def _axes_scales(axes: Axes) -> None:
    """UTC dates and times across, prices up."""
    locator = AutoDateLocator(  # type: ignore[no-untyped-call]  # matplotlib.dates has no hints
        minticks=4, maxticks=8
    )
    formatter = ConciseDateFormatter(  # type: ignore[no-untyped-call]  # same module, no hints
        locator, formats=DATE_FORMATS, zero_formats=ZERO_FORMATS, show_offset=False
    )
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(formatter)
    axes.yaxis.set_major_locator(MaxNLocator(8))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: price_text(v)))
    axes.set_xlabel("time (UTC)", color=MUTED, fontsize=12)


def _price_range(heatmap: Heatmap) -> tuple[float, float]:
    """The path's low to high widened by ``MARGIN_PCT`` each side, within the grid."""
    low, high = np.nanmin(heatmap.low), np.nanmax(heatmap.high)
    return (
        max(float(heatmap.edges[0]), low * (1 - MARGIN_PCT / 100)),
        min(float(heatmap.edges[-1]), high * (1 + MARGIN_PCT / 100)),
    )
