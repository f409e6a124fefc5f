"""The liquidation map as a PNG: dark, phone-readable, longs green below price, shorts red above.

Uses matplotlib's object API (no pyplot), so charts can be drawn in worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from liqmap.charts.canvas import BACKGROUND, new_figure, to_png
from liqmap.charts.ticks import usd_ticks
from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer
from liqmap.engine.realized import RealizedView, by_price
from liqmap.engine.snapshot import MapSnapshot
from liqmap.formats import price_text, usd, utc

PANEL = "#161b22"
TEXT = "#c9d1d9"
MUTED = "#8b949e"
GRID = "#30363d"
LONG_SHADES = ("#0b4a3a", "#137f4a", "#4bb543", "#a5da3c", "#f1f59a")
SHORT_SHADES = ("#6e1131", "#b8213b", "#ee5a3a", "#fa9e55", "#ffdca0")
"""Leverage bands, lowest first: each step changes lightness and hue, so the five read apart
(CIELAB distance at least 25 between any two of a side)."""
FOOTNOTE = "estimated relative intensity, not exact positions"
CLUSTER_NOTE = "L1, S1 …: clusters densest first (USD per 1% of price), % from price"
MIN_SPAN_PCT = 3.0
MAX_SPAN_PCT = 20.0
SHOWN_CLUSTERS = 3
REALIZED_LONG = "#d2ffd9"
REALIZED_SHORT = "#ffd6d3"
MARK_MARGIN_PCT = 0.5
"""Room left beside a marked price at the chart's edge."""
REALIZED_SLOTS = 56
"""Recorded liquidations are summed into this many slots across the visible prices, one
marker per slot and side at the slot's middle, so markers stand apart instead of merging."""
MARKER_AREA = 180.0
"""Area in points² of the marker of the fullest slot (the others scale by USD): narrower
than a slot (about 13.7 points), so neighbours never touch."""

REAL = "#d58bff"
"""The real layer's outline: a violet no band, curve, cluster or marker uses."""
REAL_HEIGHT = 0.9
"""The real layer's tallest visible bin reaches this share of the estimate's tallest: it has
its own scale, given in its legend, since it holds only the scanned share of the positions."""

Mark = tuple[float, str, str]
"""A price to mark with a vertical line: price, label and colour."""


@dataclass(frozen=True)
class ChartLabels:
    """What the title says: instrument, exchange and window; each exchange's share of a map
    summed over several."""

    instrument: str
    exchange: str
    window: str
    shares: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, snapshot: MapSnapshot) -> ChartLabels:
        shares = tuple((v.exchange, v.share) for v in snapshot.venues)
        return cls(snapshot.label, snapshot.source, snapshot.window, shares)

    @property
    def shares_text(self) -> str:
        """``summed over exchanges: okx 41% · ...``, or empty for one exchange."""
        if not self.shares:
            return ""
        parts = " · ".join(f"{name} {share:.0%}" for name, share in self.shares)
        return f"summed over exchanges: {parts}"


def render_png(
    liq_map: LiquidationMap,
    clusters: list[Cluster],
    labels: ChartLabels,
    width_px: int = 1280,
    realized: RealizedView | None = None,
    marks: Sequence[Mark] = (),
    real: RealLayer | None = None,
) -> bytes:
    """The chart as PNG bytes, ``width_px`` wide at 16:9 (1280x720 by default), with the
    recorded liquidations of the window as markers when ``realized`` is given, a labelled
    vertical line at each of ``marks`` and the real positions' liquidations as an outline
    when ``real`` is given."""
    return to_png(draw_map(liq_map, clusters, labels, width_px, realized, marks, real))


def draw_map(
    liq_map: LiquidationMap,
    clusters: list[Cluster],
    labels: ChartLabels,
    width_px: int = 1280,
    realized: RealizedView | None = None,
    marks: Sequence[Mark] = (),
    real: RealLayer | None = None,
) -> Figure:
    """The chart's figure, as ``render_png`` saves it."""
    figure = new_figure(width_px)
    rect = (0.075, 0.2, 0.83, 0.65) if realized is None else (0.075, 0.275, 0.83, 0.575)
    axes = figure.add_axes(rect, facecolor=PANEL)
    when = utc(liq_map.as_of_ms)
    figure.suptitle(
        f"{labels.instrument} · {labels.exchange} · {labels.window} liquidation map · {when}",
        color=TEXT, fontsize=17, fontweight="bold", y=0.965,
    )  # fmt: skip
    figure.text(0.075, 0.012, FOOTNOTE, color=MUTED, fontsize=10.5, style="italic")
    if labels.shares:
        figure.text(0.905, 0.9, labels.shares_text, color=MUTED, fontsize=12, ha="right")
    _style(axes)
    real_only = liq_map.is_empty and real is not None and real.total_usd > 0
    if liq_map.is_empty and not real_only:
        axes.text(
            0.5,
            0.5,
            "no open-interest build-up in this window: nothing to map",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color=TEXT,
            fontsize=16,
        )
        axes.set_xticks([])
        axes.set_yticks([])
        return figure

    ranged = real.as_map(liq_map.price, liq_map.as_of_ms) if real_only and real else liq_map
    low, high = _visible_range(ranged, [mark[0] for mark in marks])
    edges, price = liq_map.edges, liq_map.price
    below, above = liq_map.centers < price, liq_map.centers > price
    shown = (edges[1:] > low) & (edges[:-1] < high)
    for shades, by_band, side in (
        (LONG_SHADES, liq_map.long_by_band, below),
        (SHORT_SHADES, liq_map.short_by_band, above),
    ):
        base = np.zeros(len(liq_map.centers))
        for values_by_band, color in zip(by_band, shades, strict=True):
            values = np.where(side, values_by_band, 0.0)
            if values[shown].any():
                steps = _steps(edges, base, base + values, shown)
                axes.add_collection(
                    PolyCollection([steps], facecolors=color, linewidths=0), autolim=False
                )
            base = base + values
    tallest = float(np.max(np.where(below, liq_map.long_usd, liq_map.short_usd)[shown]))
    axes.set_ylim(0, tallest * 1.22 if tallest > 0 else 1)
    axes.set_xlim(low, high)

    cumulative = axes.twinx()
    cumulative.plot(liq_map.centers[below], liq_map.cum_long[below], color="#7ee787", linewidth=2)
    cumulative.plot(liq_map.centers[above], liq_map.cum_short[above], color="#ff7b72", linewidth=2)
    visible = (liq_map.centers >= low) & (liq_map.centers <= high)
    top = float(
        max(liq_map.cum_long[visible].max(initial=0), liq_map.cum_short[visible].max(initial=0))
    )
    cumulative.set_ylim(0, top * 1.15 if top > 0 else 1)
    cumulative.tick_params(colors=MUTED, labelsize=11)
    cumulative.yaxis.set_major_formatter(usd_ticks())
    cumulative.set_ylabel("cumulative USD from price", color=MUTED, fontsize=12)
    for spine in cumulative.spines.values():
        spine.set_visible(False)

    axes.axvline(price, color="#f0f6fc", linestyle="--", linewidth=1.5)
    axes.text(price, tallest * 1.17 if tallest > 0 else 1, f" price {price_text(price)}",
              color="#f0f6fc", fontsize=13, fontweight="bold", va="top")  # fmt: skip
    _mark_clusters(figure, axes, clusters, tallest)
    for row, (at, label, color) in enumerate(marks):
        axes.axvline(at, color=color, linestyle="-", linewidth=2)
        axes.text(at, tallest * (0.95 - 0.07 * row) if tallest > 0 else 1, f" {label}",
                  color=color, fontsize=12, fontweight="bold", va="top")  # fmt: skip
    if realized is not None:
        _mark_realized(figure, axes, liq_map, realized, low, high)
    if real is not None:
        _draw_real(axes, real, tallest if tallest > 0 else 1.0, low, high)
    if real_only:
        axes.set_yticks([])
        cumulative.set_yticks([])
        axes.text(0.5, 0.5, "no open-interest build-up in this window: real positions only",
                  transform=axes.transAxes, ha="center", va="center", color=TEXT,
                  fontsize=15)  # fmt: skip
    _leverage_legend(axes, liq_map.bands)
    return figure


def _draw_real(axes: Axes, real: RealLayer, tallest: float, low: float, high: float) -> None:
    """The real positions' liquidation USD per bin (both sides summed: a long's level lies
    below its entry, a short's above) as a violet outline over the estimate, on its own scale,
    with a legend line above the map's right corner saying so and what its tallest bin holds."""
    usd_per_bin = real.long_usd + real.short_usd
    shown = (real.edges[1:] > low) & (real.edges[:-1] < high)
    top = float(usd_per_bin[shown].max(initial=0.0))
    if top > 0:
        scaled = np.where(shown, usd_per_bin, 0.0) * (REAL_HEIGHT * tallest / top)
        outline = LineCollection(list(_outline(real.edges, scaled)), colors=REAL, linewidths=2.2,
                                 capstyle="projecting")  # fmt: skip
        axes.add_collection(outline, autolim=False)
        note = f"own scale, top bin {usd(top)}"
    else:
        note = "none in this range"
    axes.text(
        1.0, 1.012, f"▮ real positions ({note})",
        transform=axes.transAxes, ha="right", va="bottom", color=REAL, fontsize=10.5,
    )  # fmt: skip


def _leverage_legend(axes: Axes, bands: Sequence[str]) -> None:
    """One row above the map, outside it: each band's long and short shade with its label."""
    handles = [
        (Patch(facecolor=long, linewidth=0), Patch(facecolor=short, linewidth=0))
        for long, short in zip(LONG_SHADES, SHORT_SHADES, strict=True)
    ]
    legend = axes.legend(
        handles, bands, title="leverage (longs | shorts)", loc="lower left",
        bbox_to_anchor=(0.0, 1.0), ncol=len(bands), frameon=False, fontsize=10.5,
        title_fontsize=10.5, alignment="left", labelcolor=TEXT, handlelength=2.6,
        borderaxespad=0.3, handler_map={tuple: HandlerTuple(ndivide=None, pad=0.15)},
    )  # fmt: skip
    legend.get_title().set_color(MUTED)


def _style(axes: Axes) -> None:
    axes.tick_params(colors=MUTED, labelsize=11)
    axes.grid(True, color=GRID, linewidth=0.6, alpha=0.7)
    axes.set_axisbelow(True)
    for spine in axes.spines.values():
        spine.set_color(GRID)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: price_text(v)))
    axes.yaxis.set_major_formatter(usd_ticks())
    axes.set_ylabel("liquidations per 0.1% of price (USD)", color=MUTED, fontsize=12)
    axes.set_xlabel("price", color=MUTED, fontsize=12)


def _mark_clusters(figure: Figure, axes: Axes, clusters: list[Cluster], tallest: float) -> None:
    """Shade the densest bands, tag them L1.. / S1.. with their distance from price, and list
    them under the chart, with what the tags mean."""
    if clusters:
        figure.text(0.905, 0.012, CLUSTER_NOTE, color=MUTED, fontsize=10.5, ha="right")
    left, right = axes.get_xlim()
    for row, side in enumerate((LONG, SHORT)):
        mine = [c for c in clusters if c.side == side][:SHOWN_CLUSTERS]
        color = "#3fb950" if side == LONG else "#f85149"
        listed = []
        for rank, cluster in enumerate(mine, start=1):
            tag = f"{'L' if side == LONG else 'S'}{rank}"
            axes.axvspan(cluster.low, cluster.high, color=color, alpha=0.16, linewidth=0)
            middle = (cluster.low + cluster.high) / 2
            if left <= middle <= right:
                axes.text(middle, tallest * (1.12 - 0.06 * rank),
                          f"{tag} {cluster.distance_pct:+.1f}%", color=color, fontsize=12,
                          fontweight="bold", ha="center")  # fmt: skip
            listed.append(
                f"{tag} {price_text(cluster.low)}-{price_text(cluster.high)} "
                f"{usd(cluster.usd)} ({cluster.distance_pct:+.1f}%)"
            )
        if listed:
            figure.text(0.075, 0.085 - 0.035 * row, "   ".join(listed), color=color,
                        fontsize=11, family="monospace")  # fmt: skip


def _mark_realized(
    figure: Figure,
    axes: Axes,
    liq_map: LiquidationMap,
    realized: RealizedView,
    low: float,
    high: float,
) -> None:
    """Recorded liquidations of the window in a strip under the map (longs ▼, shorts ▲, one
    marker per slot of ``REALIZED_SLOTS``, sized by USD), and under it their totals with the
    share of the window watched."""
    strip = figure.add_axes((0.075, 0.2, 0.83, 0.06), facecolor=PANEL, sharex=axes)
    _style(strip)
    axes.tick_params(labelbottom=False)
    axes.set_xlabel("")
    strip.set_ylabel("")
    strip.set_yticks([])
    strip.set_ylim(0, 1)
    strip.grid(False)
    strip.text(-0.005, 0.5, "realized", transform=strip.transAxes, ha="right", va="center",
               color=MUTED, fontsize=10.5)  # fmt: skip
    slots = np.linspace(low, high, REALIZED_SLOTS + 1)
    middles = (slots[:-1] + slots[1:]) / 2
    found = by_price(realized.rows, slots)
    largest = max(float(found[side].max(initial=0)) for side in (LONG, SHORT))
    for side, marker, color, y in (
        (LONG, "v", REALIZED_LONG, 0.3),
        (SHORT, "^", REALIZED_SHORT, 0.7),
    ):
        at = found[side] > 0
        if at.any():
            sizes = (MARKER_AREA - 6) * np.sqrt(found[side][at] / largest) + 6
            strip.scatter(middles[at], np.full(at.sum(), y), s=sizes, marker=marker,
                          color=color, edgecolors=BACKGROUND, linewidths=0.5)  # fmt: skip
    longs, shorts = usd(realized.total(LONG)), usd(realized.total(SHORT))
    figure.text(
        0.075, 0.118,
        f"realized liquidations: longs {longs} ▼  shorts {shorts} ▲   ·   "
        f"{realized.coverage_text}",
        color=MUTED, fontsize=11.5,
    )  # fmt: skip


def _outline(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Segments of the stepped outline of the bins holding something: each one's top, and the
    rise or fall at each edge beside one, with no line along zero between them."""
    filled = values > 0
    left, right = edges[:-1][filled], edges[1:][filled]
    tops = np.stack((np.column_stack((left, values[filled])),
                     np.column_stack((right, values[filled]))), axis=1)  # fmt: skip
    before = np.concatenate(([0.0], values))
    after = np.concatenate((values, [0.0]))
    sides = (before != after) & ((before > 0) | (after > 0))
    rises = np.stack((np.column_stack((edges[sides], before[sides])),
                      np.column_stack((edges[sides], after[sides]))), axis=1)  # fmt: skip
    return np.concatenate((tops, rises))


def _steps(
    edges: np.ndarray, lower: np.ndarray, upper: np.ndarray, shown: np.ndarray
) -> np.ndarray:
    """Vertices of the stepped area between two per-bin curves, over the shown bins."""
    left, right = edges[:-1][shown], edges[1:][shown]
    top = np.column_stack((np.column_stack((left, right)).ravel(), np.repeat(upper[shown], 2)))
    bottom = np.column_stack((np.column_stack((left, right)).ravel(), np.repeat(lower[shown], 2)))
    return np.concatenate((top, bottom[::-1]))


def _visible_range(liq_map: LiquidationMap, marked: Sequence[float] = ()) -> tuple[float, float]:
    """Price range holding 95% of each side's USD: at least 3%, at most 20% each way, widened
    to show the ``marked`` prices with a margin."""
    price, centers = liq_map.price, liq_map.centers
    low = price * (1 - MIN_SPAN_PCT / 100)
    high = price * (1 + MIN_SPAN_PCT / 100)
    long_usd = np.where(centers < price, liq_map.long_usd, 0.0)
    short_usd = np.where(centers > price, liq_map.short_usd, 0.0)
    if long_usd.sum() > 0:
        beyond = np.cumsum(long_usd)
        low = min(low, float(centers[np.searchsorted(beyond, 0.05 * beyond[-1])]))
    if short_usd.sum() > 0:
        within = np.cumsum(short_usd)
        high = max(high, float(centers[np.searchsorted(within, 0.95 * within[-1])]))
    low, high = (
        max(low, price * (1 - MAX_SPAN_PCT / 100)),
        min(high, price * (1 + MAX_SPAN_PCT / 100)),
    )
    margin = price * MARK_MARGIN_PCT / 100
    return min([low, *(at - margin for at in marked)]), max([high, *(at + margin for at in marked)])
