"""How the charts' axes read amounts: short, one ``$`` per label."""

from __future__ import annotations

import re

from matplotlib.ticker import FuncFormatter

from liqmap.formats import usd

_ZERO_DECIMAL = re.compile(r"\.0(?=[KMB]$)")


def usd_tick(value: float) -> str:
    """``$500K``, ``$1.5M``, ``$0``: ``usd`` without a ``.0`` that says nothing."""
    return _ZERO_DECIMAL.sub("", usd(value))


def usd_ticks() -> FuncFormatter:
    """A formatter of tick labels in USD (``usd_tick``), one per axis."""
    return FuncFormatter(lambda value, _: usd_tick(value))
