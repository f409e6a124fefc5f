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
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from liqmap.charts.canvas import BACKGROUND, new_figure, to_png
from liqmap.charts.map_chart import GRID, MUTED, PANEL, TEXT, ChartLabels
from liqmap.charts.ticks import usd_ticks
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
AXES = (0.075, 0.16, 0.765, 0.71)
"""Where the heatmap sits in the figure: room under it for the time axis and the caption."""
MARGIN_PCT = 4.0
"""The price axis shows the path's range plus this much each side (within the grid)."""
REALIZED_MARKERS = ((LONG, "v", "#7ee787"), (SHORT, "^", "#ff7b72"))
REALIZED_SLOTS = (64, 30)
"""Recorded liquidations are summed into this grid of slots (time, price) over the visible
chart, one marker per slot and side at the slot's middle, so markers stand apart."""
MARKER_AREA = 100.0
"""Area in points² of the fullest slot's marker (the others scale by USD): narrower than a
slot (about 11 by 13 points), so neighbours never touch."""


def render_heatmap_png(
    heatmap: Heatmap,
    labels: ChartLabels,
    width_px: int = 1280,
    realized: RealizedView | None = None,
) -> bytes:
    """The heatmap as PNG bytes, ``width_px`` wide at 16:9 (1280x720 by default), with the
    recorded liquidations as markers where they happened when ``realized`` is given."""
    return to_png(draw_heatmap(heatmap, labels, width_px, realized))


def draw_heatmap(
    heatmap: Heatmap,
    labels: ChartLabels,
    width_px: int = 1280,
    realized: RealizedView | None = None,
) -> Figure:
    """The heatmap's figure, as ``render_heatmap_png`` saves it."""
    figure = new_figure(width_px)
    axes = figure.add_axes(AXES, facecolor=PANEL)
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
        return figure

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
    axes.set_xlim(start, end)
    axes.set_ylim(low, high)
    _axes_scales(axes)
    if realized is not None:
        _mark_realized(axes, heatmap, realized)
        figure.text(0.075, 0.05, _realized_caption(realized), color=MUTED, fontsize=11.5)
    axes.annotate(
        price_text(last), (end, last), xytext=(4, 0), textcoords="offset points",
        color=BACKGROUND, fontsize=10.5, fontweight="bold", va="center", ha="left",
        annotation_clip=False,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": PRICE_LINE, "linewidth": 0},
    )  # fmt: skip

    bar_axes = figure.add_axes((0.9, AXES[1], 0.012, AXES[3]))
    bar = figure.colorbar(image, cax=bar_axes, extend="max")
    bar.outline.set_edgecolor(GRID)
    bar_axes.tick_params(colors=MUTED, labelsize=10.5)
    bar_axes.yaxis.set_major_formatter(usd_ticks())
    bar.set_label("liquidation USD per bin", color=MUTED, fontsize=12, labelpad=6)
    return figure


def _mark_realized(axes: Axes, heatmap: Heatmap, realized: RealizedView) -> None:
    """Recorded liquidations over the columns summed per slot of ``REALIZED_SLOTS`` across the
    shown time and price, a marker at each slot's middle sized by USD (longs ▼, shorts ▲)."""
    start, end = (float(x) for x in axes.get_xlim())
    low, high = (float(y) for y in axes.get_ylim())
    columns, rows = REALIZED_SLOTS
    first = int(heatmap.ts[0] - heatmap.column_ms)
    span = -(-(int(heatmap.ts[-1]) - first) // columns)
    ends = first + span * np.arange(1, columns + 1, dtype=np.int64)
    found = by_cell(realized.rows, ends, span, np.linspace(low, high, rows + 1))
    largest = max(float(found[side].max(initial=0)) for side, _, _ in REALIZED_MARKERS)
    times = start + (end - start) * (np.arange(columns) + 0.5) / columns
    prices = low + (high - low) * (np.arange(rows) + 0.5) / rows
    for side, marker, color in REALIZED_MARKERS:
        column, row = np.nonzero(found[side])
        if len(column):
            sizes = (MARKER_AREA - 5) * np.sqrt(found[side][column, row] / largest) + 5
            axes.scatter(times[column], prices[row], s=sizes, marker=marker,
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
