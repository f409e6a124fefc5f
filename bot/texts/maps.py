"""Map and heatmap captions, clusters as text, and max pain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from html import escape

import numpy as np

from bot.texts.common import CAPTION_LIMIT, TEXT_LIMIT, ago, unavailable
from bot.texts.html import clip_html
from bot.texts.real_layer import SCAN_PERIOD_MS, real_lines
from jobs.on_demand.heatmaps import RenderedHeatmap
from liqmap.charts.map_chart import ChartLabels
from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.heatmap import peak_band
from liqmap.engine.max_pain import MaxPain, max_pain
from liqmap.engine.snapshot import MapSnapshot
from liqmap.errors import ExchangeError
from liqmap.formats import local_time, price_text, usd

REFRESHING = "Refreshing…"


def cluster_text(cluster: Cluster) -> str:
    where = "below" if cluster.side == LONG else "above"
    distance = (
        "price inside"
        if cluster.distance_pct == 0
        else (f"{abs(cluster.distance_pct):.1f}% {where}")
    )
    return (
        f"<b>{price_text(cluster.low)}–{price_text(cluster.high)}</b> · {usd(cluster.usd)} · "
        f"{distance}"
    )


def map_caption(
    snapshot: MapSnapshot,
    now_ms: int,
    computed_at_ms: int,
    error: ExchangeError | None = None,
    zone: tzinfo = UTC,
    scan_period_ms: int = SCAN_PERIOD_MS,
) -> str:
    """Caption of a map photo: price, nearest clusters, data age (under 1,024 characters);
    times in the chat's ``zone``; real positions judged by the scanner's period."""
    lines = [
        f"<b>{escape(snapshot.label)}</b> · {escape(snapshot.source)} · {snapshot.window} map",
        f"Price <b>{price_text(snapshot.price)}</b>",
    ]
    for side, name in ((LONG, "🟢 Long liquidations"), (SHORT, "🔴 Short liquidations")):
        nearest = snapshot.nearest(side)
        lines.append(f"{name}: {cluster_text(nearest) if nearest else 'no dense cluster'}")
    if not snapshot.liq_map.is_empty:
        lines.append(max_pain_text(max_pain(snapshot.liq_map)))
    lines += real_lines(snapshot, now_ms, scan_period_ms)
    shares = ChartLabels.of(snapshot).shares
    lines += _provenance(snapshot.as_of_ms, now_ms, zone, shares, snapshot.notes)
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(snapshot.label, error)}; "
            f"this map was computed {ago(now_ms - computed_at_ms)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def _provenance(
    as_of_ms: int,
    now_ms: int,
    zone: tzinfo,
    shares: tuple[tuple[str, float], ...],
    notes: Sequence[str],
) -> list[str]:
    """A caption's lines on its data: how old (in the chat's zone), the venues summed, the
    notes."""
    lines = [f"Data to {local_time(as_of_ms, zone)} ({ago(now_ms - as_of_ms)})"]
    if shares:
        lines.append("Summed over " + venue_shares(shares))
    lines.extend(f"<i>{escape(note)}</i>" for note in notes)
    return lines


def max_pain_text(pain: MaxPain) -> str:
    """``🎯 Max pain: longs <b>95.00–95.10</b> $2.0M · shorts <b>…</b> $1.0M``."""
    parts = [
        f"{name} <b>{price_text(at.low)}–{price_text(at.high)}</b> {usd(at.usd)}"
        if at
        else f"{name} none"
        for name, at in (("longs", pain.long), ("shorts", pain.short))
    ]
    return "🎯 Max pain: " + " · ".join(parts)


def heatmap_caption(
    rendered: RenderedHeatmap,
    now_ms: int,
    error: ExchangeError | None = None,
    zone: tzinfo = UTC,
) -> str:
    """Caption of a heatmap photo: price, the hottest band now, data age (in the chat's zone),
    shares, notes."""
    view = rendered.view
    heatmap, labels = view.heatmap, view.labels
    lines = [
        f"<b>{escape(labels.instrument)}</b> · {escape(labels.exchange)} · "
        f"{labels.window} liquidation heatmap"
    ]
    band = peak_band(heatmap, column=-1)
    known = heatmap.close[~np.isnan(heatmap.close)]
    if len(known):
        lines.append(f"Price <b>{price_text(float(known[-1]))}</b>")
    if band is None:
        lines.append("No open-interest build-up in this window: nothing to map.")
    elif len(known):
        lines.append(
            f"🔥 Hottest band now: <b>{price_text(band.low)}–{price_text(band.high)}</b> · "
            f"{usd(band.usd)} · {band.position(float(known[-1]))}"
        )
    lines += _provenance(heatmap.as_of_ms, now_ms, zone, labels.shares, view.notes)
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(labels.instrument, error)}; "
            f"this heatmap was made {ago(now_ms - rendered.made_at)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def venue_shares(shares: tuple[tuple[str, float], ...]) -> str:
    """``okx 41% · binance 38% · bybit 21%``."""
    return " · ".join(f"{escape(name)} {share:.0%}" for name, share in shares)


def clusters_text(snapshot: MapSnapshot, error: ExchangeError | None = None) -> str:
    lines = [
        f"<b>{escape(snapshot.label)}</b> · {escape(snapshot.source)} · {snapshot.window} "
        f"clusters · price <b>{price_text(snapshot.price)}</b>"
    ]
    for side, title in (
        (LONG, "🟢 Long liquidations (below)"),
        (SHORT, "🔴 Short liquidations (above)"),
    ):
        mine = [c for c in snapshot.clusters if c.side == side]
        lines.append(f"\n{title}")
        if not mine:
            lines.append("no dense cluster")
        for rank, cluster in enumerate(mine, start=1):
            lines.append(f"{rank}. {cluster_text(cluster)} · {cluster.strength:.1f}× avg density")
    if error is not None:
        lines.append(f"\n⚠️ {unavailable(snapshot.label, error)}; these are the last known")
    return clip_html("\n".join(lines), TEXT_LIMIT)
