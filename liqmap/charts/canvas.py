"""The figure every chart is drawn on, and its PNG: text is drawn as written, never as TeX."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

BACKGROUND = "#0d1117"
WIDTH_IN, HEIGHT_IN = 12.8, 7.2


def new_figure(width_px: int) -> Figure:
    """A dark 16:9 figure ``width_px`` wide, on an Agg canvas (no pyplot: thread-safe)."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=width_px / WIDTH_IN, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes.

    Every text artist is set to ``parse_math=False`` first: labels, symbols and amounts such
    as ``$878K ... $4.0M`` are drawn as written instead of being read as mathtext (two ``$``
    in one text used to crash the chart). Tick labels made while drawing keep the default,
    so the tick formatters must give at most one ``$`` each.
    """
    for text in figure.findobj(Text):
        text.set_parse_math(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=BACKGROUND, dpi=figure.dpi)
    return buffer.getvalue()
