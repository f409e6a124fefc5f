"""``/top``: the nearest dense clusters, most urgent first."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.texts.common import TEXT_LIMIT
from bot.texts.html import clip_html
from liqmap.engine.clusters import LONG
from liqmap.formats import price_text, usd
from liqmap.signals.screener import Ranked


def top_text(ranked: Sequence[Ranked], largest_on: str | None, notes: Sequence[str]) -> str:
    """``/top``: the nearest dense cluster of each instrument, most urgent first; over the
    watchlist, or (``largest_on`` an exchange) its largest perpetuals by open interest."""
    scope = (
        "this chat's watchlist"
        if largest_on is None
        else f"the largest {largest_on} perpetuals by open interest (no watchlist yet)"
    )
    lines = [f"<b>Nearest dense clusters</b> · {scope}, most urgent first"]
    for number, row in enumerate(ranked, 1):
        c = row.cluster
        side, where = ("LONG", "below") if c.side == LONG else ("SHORT", "above")
        hours = (
            f"{row.hours:.1f}× the hourly range" if row.hourly_range_pct else "hourly range unknown"
        )
        lines.append(
            f"{number}. <b>{escape(row.label)}</b> ({escape(row.source)}) {side} "
            f"<b>{price_text(c.low)}–{price_text(c.high)}</b> · {usd(c.usd)} · "
            f"{row.distance_pct:.2f}% {where} · {hours}"
        )
    if not ranked:
        lines.append("No dense cluster on these maps.")
    lines += [f"<i>{escape(note)}</i>" for note in notes]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def largest_unknown(exchange: str) -> str:
    return f"Major perpetuals instead of {exchange}'s largest by open interest"


def not_recorded(names: Sequence[str]) -> str:
    """One line for the instruments of venues without OI history (Hyperliquid) that have no
    map yet."""
    exchanges = " and ".join(dict.fromkeys(name.split(":")[0] for name in names))
    return (
        f"Not screened: {', '.join(names)} ({exchanges} publishes no open-interest history; "
        "liqmap records it at each refresh of a watched instrument, and a map needs 2 "
        "snapshots)"
    )
