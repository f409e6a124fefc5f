"""Every message the bot writes, in Telegram HTML; user-supplied text is always escaped.

Texts are cut to Telegram's limits by ``clip_html``, which counts what Telegram counts
(visible UTF-16 units, after entities are parsed) and never cuts inside a tag or an entity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, tzinfo
from html import escape, unescape
from zoneinfo import ZoneInfo

import numpy as np
from telegram.constants import CallbackQueryLimit, MessageLimit

from bot.standings import Standing
from jobs.on_demand.heatmaps import RenderedHeatmap
from jobs.scheduled.recorder import RecorderStatus
from liqmap.charts.map_chart import ChartLabels
from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.heatmap import peak_band
from liqmap.engine.max_pain import MaxPain, max_pain
from liqmap.engine.realized import SAMPLED_VENUES, covered_share
from liqmap.engine.snapshot import MapSnapshot
from liqmap.engine.stops import StopCheck, StopProblem, Verdict
from liqmap.errors import ExchangeError
from liqmap.evaluation.live_accuracy import HISTORY, LiveAccuracy
from liqmap.formats import local_time, price_text, usd, utc
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, WINDOWS
from liqmap.signals.chat_settings import (
    MAX_COOLDOWN_MINUTES,
    MAX_DISTANCE_PCT,
    MIN_DISTANCE_PCT,
    ChatSettings,
)
from liqmap.signals.digest import Digest
from liqmap.signals.growing_clusters import BUILDING, NEAR_PCT
from liqmap.signals.proximity import RECEIPT, SWEPT, Alert
from liqmap.signals.receipts import HitRate, Receipt
from liqmap.signals.screener import MAX_TOP, Ranked
from storage.liquidations import StreamCoverage

CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)
TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)
ANSWER_LIMIT = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)
WINDOW_CHOICES = "|".join(WINDOWS)

USAGE = {
    "map": f"/map SYMBOL [{WINDOW_CHOICES}] [all] — e.g. /map BTC 7d, /map BTC all",
    "clusters": f"/clusters SYMBOL [{WINDOW_CHOICES}] [all] — e.g. /clusters ETH",
    "heatmap": f"/heatmap SYMBOL [{WINDOW_CHOICES}] [all] — e.g. /heatmap BTC 7d all",
    "accuracy": "/accuracy SYMBOL [all] — e.g. /accuracy BTC, /accuracy BTC all",
    "stop": "/stop SYMBOL long|short PRICE — e.g. /stop BTC long 61500",
    "subscribe": (
        "/subscribe SYMBOL [all] [DISTANCE%] [building] — e.g. /subscribe BTC 0.8, "
        "/subscribe BTC 0.8 building"
    ),
    "top": f"/top [N] — the N (1–{MAX_TOP}) most urgent clusters, e.g. /top, /top 10",
    "unsubscribe": "/unsubscribe SYMBOL [all] | all — e.g. /unsubscribe BTC",
    "settings": (
        "/settings [distance PCT | strength X | cooldown MIN | quiet HH:MM-HH:MM|off | tz ZONE]"
        " — e.g. /settings distance 0.8, /settings tz Europe/Berlin"
    ),
    "digest": "/digest on HH:MM | off — e.g. /digest on 08:00 (the chat's local time)",
}

COMMANDS = (
    ("start", "what this bot does"),
    ("help", "every command with an example"),
    ("map", "liquidation map chart, e.g. /map BTC 7d"),
    ("clusters", "densest liquidation clusters as text, e.g. /clusters ETH"),
    ("heatmap", "the map over time: bands forming and swept, e.g. /heatmap BTC"),
    ("accuracy", "how well the map predicted recorded liquidations, e.g. /accuracy BTC"),
    ("stop", "is a stop-loss inside a liquidation cluster? e.g. /stop BTC long 61500"),
    ("subscribe", "alerts when price nears a cluster, e.g. /subscribe BTC 0.8"),
    ("top", "the most urgent clusters across your watchlist, e.g. /top 5"),
    ("unsubscribe", "stop alerts for a symbol, or all, e.g. /unsubscribe BTC"),
    ("list", "this chat's subscriptions"),
    ("settings", "alert defaults and time zone, e.g. /settings tz Europe/Berlin"),
    ("digest", "a daily summary at a local time, e.g. /digest on 08:00"),
    ("status", "service health (admin chats)"),
)

INTRO = (
    "I estimate <b>liquidation maps</b> for crypto perpetuals and futures (OKX by default; "
    "Binance and Bybit with a prefix like <code>binance:ETH</code>): where leveraged "
    "positions would be force-closed if price got there. Dense bands are <b>clusters</b>: "
    "price often accelerates through them. Subscribe and I tell you when price comes near one."
)

REFUSAL = (
    "Sorry, this bot is private and not open to this chat. "
    "Ask its owner to add this chat to the allowlist."
)
ADMINS_ONLY = "Only group administrators can change subscriptions and settings here."
STATUS_ADMINS_ONLY = "/status is for the bot's admins only."
SOMETHING_WRONG = "Sorry, something went wrong on my side. It is logged; please try again."
ADMINS_ONLY_ANSWER = "Only group administrators can do this here."
STALE_BUTTON = "This button no longer works; send /map again."
STALE_LIST_BUTTON = "This button no longer works; send /list again."
NOT_FOLLOWED = "This chat does not follow that symbol any more; send /list again."
REFRESHING = "Refreshing…"
UNKNOWN_COMMAND = "I don't know that command. /help lists them."
SEND_A_COMMAND = "Send a command, e.g. /map BTC. /help lists them."
START = INTRO + "\n\nTry /map BTC, then /subscribe BTC. /help lists every command."


def help_text() -> str:
    lines = [INTRO, "", "<b>Commands</b>"]
    lines += [f"/start — {escape(desc)}" for name, desc in COMMANDS if name == "start"]
    lines += ["/help — this list"]
    commands = ("map", "clusters", "heatmap", "accuracy", "stop", "subscribe", "unsubscribe",
                "top")  # fmt: skip
    lines += [escape(USAGE[name]) for name in commands]
    lines += [
        "/list — this chat's subscriptions, closest to an alert first; buttons change the "
        "distance, mute for 1, 8 or 24 hours, or delete",
        escape(USAGE["settings"]),
    ]
    lines += [escape(USAGE["digest"])]
    lines += ["/status — service health (admin chats only)", ""]
    lines += [
        "Symbols: <code>BTC</code>, <code>BTC-USDT-SWAP</code>, <code>BTC/USDT:USDT</code>, "
        "<code>binance:ETH</code>; add <code>all</code> for OKX, Binance and Bybit summed "
        "(<code>/map BTC all</code>). Maps are estimates of relative intensity, not exact "
        "positions."
    ]
    return "\n".join(lines)


def usage(command: str) -> str:
    return f"Usage: {escape(USAGE[command])}"


def problem(message: str) -> str:
    """A short error for the user (already safe to show, escaped here)."""
    return clip_html(escape(message), 300)


def unavailable(label: str, error: ExchangeError) -> str:
    return f"data for {escape(label)} is unavailable right now ({escape(str(error))})"


def exchange_down(error: ExchangeError) -> str:
    return (
        f"{escape(error.exchange)} is unavailable right now ({escape(error.detail)}); "
        "please try again in a minute."
    )


def try_later(seconds: float) -> str:
    return (
        f"That is a lot of new maps at once; try again in {max(1, round(seconds))} s. "
        "Maps computed in the last few minutes come at once."
    )


def loading(window: str) -> str:
    return f"Loading {window}…"


def subscribed_button(label: str, distance_pct: float) -> str:
    return f"Subscribed to {label}: alerts within {distance_pct:g}%."


def already_subscribed(label: str) -> str:
    return f"Already subscribed to {label}."


def subscribed(label: str, exchange: str, within: float, strength: float, new: bool) -> str:
    head = "🔔 Subscribed to" if new else "Updated"
    return (
        f"{head} <b>{escape(label)}</b> on {escape(exchange)}: I will alert when price comes "
        f"within {within:g}% of a cluster at least {strength:g}× denser than average. /list "
        "shows all; /settings changes the defaults."
    )


def building_on(label: str) -> str:
    return (
        f"📈 Also when a cluster within {NEAR_PCT:g}% of price builds fast around "
        f"{escape(label)} (send /subscribe again without <code>building</code> to stop that)."
    )


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


def stopped_all(count: int) -> str:
    return f"Stopped all alerts ({count} subscription{'s' * (count != 1)})."


def stopped(key: str) -> str:
    return f"Stopped alerts for {escape(key)}."


def not_subscribed(key: str) -> str:
    return f"This chat is not subscribed to {escape(key)}. /list"


def saved(settings: ChatSettings) -> str:
    return "Saved.\n\n" + settings_text(settings)


def status_text(
    uptime_ms: int,
    watched: int,
    pending: int,
    maps: list[str],
    incidents: list[str],
    recorder: list[str] = (),
) -> str:
    """``/status``: uptime, watched instruments, pending alerts, map ages, the recorder's
    coverage per exchange, exchange errors."""
    lines = [
        "<b>liqmap status</b>",
        f"up {ago(uptime_ms).removesuffix(' ago')}, {watched} watched instrument"
        f"{'s' * (watched != 1)}, {pending} pending alert{'s' * (pending != 1)}",
        "",
        "<b>Maps</b> (last computed, data age)",
        *([escape(line) for line in maps] or ["none computed yet"]),
        "",
        "<b>Recorded liquidations</b> (watched in the last 24 h, lag, events)",
        *([escape(line) for line in recorder] or ["nothing recorded yet"]),
        "",
        "<b>Recent exchange errors</b>",
        *([escape(line) for line in incidents] or ["none"]),
    ]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def recorder_lines(
    streams: list[StreamCoverage], live: Mapping[str, RecorderStatus], now_ms: int
) -> list[str]:
    """Per exchange: instruments recorded, share of the last day watched, how far the watched
    time lags now, events and the last one's age; then, where the recorder runs in this
    process, whether it is connected, its reconnects and last error."""
    lines = []
    for exchange in sorted({s.exchange for s in streams}):
        mine = [s for s in streams if s.exchange == exchange]
        day = sum(covered_share(s.covered, now_ms - DAY_MS, now_ms) for s in mine) / len(mine)
        until = max((s.watched_until for s in mine if s.watched_until is not None), default=None)
        lag = "never" if until is None else ago(now_ms - until).removesuffix(" ago")
        last = max((s.last_event_ts for s in mine if s.last_event_ts is not None), default=None)
        events = sum(s.events for s in mine)
        latest = "" if last is None else f", last {ago(now_ms - last)}"
        sampled = " (sampled)" if exchange in SAMPLED_VENUES else ""
        lines.append(
            f"{exchange}{sampled}: {len(mine)} instrument{'s' * (len(mine) != 1)}, "
            f"{day:.0%} watched, lag {lag}, {events:,} events{latest}"
        )
    for exchange, status in sorted(live.items()):
        if not status.instruments:
            continue
        state = (
            f"connected (subscribed {ago(now_ms - status.since_ms)})"
            if status.connected and status.since_ms is not None
            else "not connected"
        )
        trouble = f", last error: {status.last_error}" if status.last_error else ""
        skipped = f", {status.skipped} malformed skipped" if status.skipped else ""
        lines.append(
            f"{exchange} stream: {state}, {status.reconnects} reconnects{skipped}{trouble}"
        )
    return lines


def error_report(chat_id: int | None, trace: str, count: int) -> str:
    """An unexpected error for the admin chats: where, how often, and its traceback's end."""
    times = "" if count == 1 else f" ({count} times in the last 10 min)"
    where = chat_id if chat_id is not None else "?"
    head = f"⚠️ <b>error</b> in chat {where}{times}\n"
    return clip_html(head + f"<pre>{escape(trace[-3000:])}</pre>", TEXT_LIMIT)


def ago(ms: int) -> str:
    minutes = max(0, ms) // 60_000
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


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
) -> str:
    """Caption of a map photo: price, nearest clusters, data age (under 1,024 characters);
    times in the chat's ``zone``."""
    lines = [
        f"<b>{escape(snapshot.label)}</b> · {escape(snapshot.source)} · {snapshot.window} map",
        f"Price <b>{price_text(snapshot.price)}</b>",
    ]
    for side, name in ((LONG, "🟢 Long liquidations"), (SHORT, "🔴 Short liquidations")):
        nearest = snapshot.nearest(side)
        lines.append(f"{name}: {cluster_text(nearest) if nearest else 'no dense cluster'}")
    if not snapshot.liq_map.is_empty:
        lines.append(max_pain_text(max_pain(snapshot.liq_map)))
    lines.append(
        f"Data to {local_time(snapshot.as_of_ms, zone)} ({ago(now_ms - snapshot.as_of_ms)})"
    )
    if snapshot.venues:
        lines.append("Summed over " + venue_shares(ChartLabels.of(snapshot).shares))
    lines.extend(f"<i>{escape(note)}</i>" for note in snapshot.notes)
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(snapshot.label, error)}; "
            f"this map was computed {ago(now_ms - computed_at_ms)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def max_pain_text(pain: MaxPain) -> str:
    """``🎯 Max pain: longs <b>95.00–95.10</b> $2.0M · shorts <b>…</b> $1.0M``."""
    parts = [
        f"{name} <b>{price_text(at.low)}–{price_text(at.high)}</b> {usd(at.usd)}"
        if at
        else f"{name} none"
        for name, at in (("longs", pain.long), ("shorts", pain.short))
    ]
    return "🎯 Max pain: " + " · ".join(parts)


STOP_VERDICT = {
    Verdict.INSIDE: "⚠️ Inside a dense cluster of {side} liquidations",
    Verdict.BEFORE: (
        "⚠️ Just before a dense cluster of {side} liquidations: a cascade into it would run "
        "your stop"
    ),
}
STOP_EMPTY_MAP = "No open-interest build-up in this window: no map to judge a stop on."
STOP_PROBLEM = {
    StopProblem.WRONG_SIDE: "A {position}'s stop goes {where} the price ({price}).",
    StopProblem.OFF_MAP: "That stop is farther from the price ({price}) than the map reaches.",
}


def stop_text(
    check: StopCheck,
    snapshot: MapSnapshot,
    now_ms: int,
    computed_at_ms: int,
    error: ExchangeError | None = None,
) -> str:
    """Caption of a /stop chart: where the stop sits among the clusters, and what to consider
    instead."""
    position = check.position
    lines = [
        f"<b>{escape(snapshot.label)}</b> · {escape(snapshot.source)} · {snapshot.window} map",
        f"{position.capitalize()} stop <b>{price_text(check.stop)}</b> ({check.stop_pct:+.2f}%)"
        f" · price {price_text(check.price)}",
        f"Liquidations between price and your stop: ~{usd(check.stop_usd)}",
    ]
    if check.cluster is None or check.suggestion is None:
        lines.append(f"✅ Clear of the dense clusters of {position} liquidations")
    else:
        lines.append(
            STOP_VERDICT[check.verdict].format(side=position) + f": {cluster_text(check.cluster)}"
        )
        lines.append(
            f"💡 Consider <b>{price_text(check.suggestion)}</b> ({check.suggestion_pct:+.2f}%),"
            f" just beyond it: ~{usd(check.suggestion_usd)} of liquidations from price to there,"
            f" {usd(check.beyond_stop_usd)} of them past your stop"
        )
    lines.append(f"Data to {utc(snapshot.as_of_ms)} ({ago(now_ms - snapshot.as_of_ms)})")
    lines.append("<i>Estimated from open interest, not exact positions.</i>")
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(snapshot.label, error)}; "
            f"this map was computed {ago(now_ms - computed_at_ms)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def stop_problem_text(problem: StopProblem, position: str, price: float) -> str:
    where = "below" if position == LONG else "above"
    reason = STOP_PROBLEM[problem].format(position=position, where=where, price=price_text(price))
    return f"{reason}\n{usage('stop')}"


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
    lines.append(f"Data to {local_time(heatmap.as_of_ms, zone)} ({ago(now_ms - heatmap.as_of_ms)})")
    if labels.shares:
        lines.append("Summed over " + venue_shares(labels.shares))
    lines.extend(f"<i>{escape(note)}</i>" for note in view.notes)
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(labels.instrument, error)}; "
            f"this heatmap was made {ago(now_ms - rendered.made_at)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def accuracy_text(accuracy: LiveAccuracy, extra_lines: Sequence[str] = ()) -> str:
    """``/accuracy``: the live figures per side with the hours they rest on and the time
    recorded, or what is still missing; then notes, and ``extra_lines`` (HTML, e.g. how
    alerted clusters fared)."""
    sample, score = accuracy.sample, accuracy.score
    name = accuracy.label.partition(":")[2]
    lines = [
        f"<b>{escape(name)}</b> · {escape('+'.join(accuracy.venues))} · live accuracy",
        f"Liquidations recorded for {span_text(sample.recorded_ms)} in the {HISTORY} to "
        f"{utc(sample.end_ms)}",
    ]
    if score is None:
        lines.append(not_enough(sample.shortfall or ""))
    else:
        lines.append(
            f"The map before each hour against that hour's liquidations, over <b>{score.hours}"
            f"</b> hours recorded whole ({utc(score.start_ms)} to {utc(score.end_ms)}):"
        )
        for side, title in ((score.long, "🟢 Longs"), (score.short, "🔴 Shorts")):
            lines.append(
                f"{title}: partial <b>{figure(side.partial)}</b> · Spearman "
                f"{figure(side.spearman)} (price move alone {figure(side.baseline)}) · "
                f"cluster lift {figure(side.lift, '.1f', '×')}"
            )
        lines.append(
            "<i>Partial: how well the map ranks the hours beyond what the price move explains "
            "(0 = no better). Lift: liquidations in hours that entered a top-3 cluster over "
            "hours of like move that did not.</i>"
        )
    lines.extend(f"<i>{escape(note)}</i>" for note in accuracy.notes)
    lines.extend(extra_lines)
    return clip_html("\n".join(lines), TEXT_LIMIT)


def hit_rate_lines(rate: HitRate) -> list[str]:
    """How alerted clusters fared once swept, from the sweep receipts."""
    if rate.swept == 0:
        return [f"🧾 No alerted cluster was swept in the {HISTORY} yet."]
    clusters = f"{rate.swept} alerted cluster{'s' * (rate.swept != 1)}"
    if rate.rate is None:
        return [f"🧾 {clusters} swept; none recorded whole with liquidations, so none judged."]
    return [
        f"🧾 {clusters} swept in the {HISTORY}: {rate.judged} judged, <b>{rate.hits} hit"
        f"{'s' * (rate.hits != 1)} ({rate.rate:.0%})</b>",
        "<i>Hit: the cluster's band took more of the sweep's recorded liquidations than its "
        "share of the sweep's price range. Judged: recorded whole, with liquidations on its "
        "side.</i>",
    ]


def not_enough(detail: str) -> str:
    """No live figures yet, and why: ``12 of 48 hours needed``."""
    return f"⏳ Not enough data yet: {escape(detail)}."


def figure(value: float, spec: str = ".2f", unit: str = "") -> str:
    """A score, or ``n/a`` where the hours leave it undefined."""
    return "n/a" if np.isnan(value) else format(value, spec) + unit


def span_text(ms: int) -> str:
    """A length of recorded time: ``40 min``, ``17 h``, ``12.5 days``."""
    if ms < HOUR_MS:
        return f"{ms // MINUTE_MS} min"
    return f"{ms // HOUR_MS} h" if ms < 2 * DAY_MS else f"{ms / DAY_MS:.1f} days"


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


def subscription_list(standings: Sequence[Standing], settings: ChatSettings, now: int) -> str:
    """/list: each subscription, closest to an alert first."""
    if not standings:
        return "No subscriptions yet. " + escape(USAGE["subscribe"])
    lines = ["<b>Subscriptions</b>, closest to an alert first (tap one to change it)"]
    lines += [f"• {standing_text(s, settings, now)}" for s in standings]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def subscription_detail(standing: Standing, settings: ChatSettings, now: int) -> str:
    return clip_html(
        f"{standing_text(standing, settings, now)}\n\nAlert distance, mute or delete:",
        TEXT_LIMIT,
    )


def standing_text(standing: Standing, settings: ChatSettings, now: int) -> str:
    """``okx:BTC-USDT-SWAP — within 1% · nearest LONG cluster 0.80% below (0.8× the
    distance) · 🔕 until …``."""
    sub = standing.subscription
    own = "" if sub.distance_pct is None else " (own)"
    parts = [f"{escape(sub.instrument)} — within {standing.distance_pct:g}%{own}"]
    cluster = standing.nearest
    if not standing.has_map:
        parts.append("no map yet")
    elif cluster is None:
        parts.append(f"no cluster ≥{settings.min_strength:g}× average density")
    else:
        where = "below" if cluster.side == LONG else "above"
        parts.append(
            f"nearest {cluster.side.upper()} cluster {abs(cluster.distance_pct):.2f}% {where} "
            f"({standing.closeness:.1f}× the distance)"
        )
    if sub.muted(now):
        parts.append(f"🔕 muted until {local_time(sub.muted_until, settings.zone)}")
    return " · ".join(parts)


def distance_changed(key: str, distance_pct: float) -> str:
    return f"Alerts for {key} now within {distance_pct:g}%."


def muted(key: str, until: int, zone: tzinfo) -> str:
    return f"Muted {key} until {local_time(until, zone)}."


def unmuted(key: str) -> str:
    return f"Alerts for {key} are on again."


def settings_text(settings: ChatSettings) -> str:
    quiet = f"{settings.quiet} {escape(settings.tz)}" if settings.quiet else "off"
    digest = (
        f"{clock_text(settings.digest_at)} {escape(settings.tz)}"
        if settings.digest_at is not None
        else "off"
    )
    return "\n".join(
        [
            "<b>Alert settings of this chat</b>",
            f"distance: {settings.alert_distance_pct:g}% (alert when price is this close "
            f"to a cluster; {MIN_DISTANCE_PCT:g}–{MAX_DISTANCE_PCT:g})",
            f"strength: {settings.min_strength:g}× "
            "(only clusters at least this many times denser than average)",
            f"cooldown: {settings.cooldown_minutes} min "
            f"(at most one alert per symbol in this time; 0–{MAX_COOLDOWN_MINUTES})",
            f"quiet: {quiet} (alerts then arrive silently)",
            f"tz: {escape(settings.tz)} (quiet hours, the digest and times shown)",
            f"digest: {digest} (/digest on 08:00 | off)",
            "",
            escape(USAGE["settings"]),
        ]
    )


def clock_text(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def digest_saved(settings: ChatSettings) -> str:
    if settings.digest_at is None:
        return "Daily digest off."
    return (
        f"Daily digest at {clock_text(settings.digest_at)} {escape(settings.tz)}: each "
        "subscription's nearest clusters, what was swept and the alerts of the last 24 h. "
        "Change the zone with /settings tz Europe/Berlin."
    )


def digest_text(digest: Digest) -> str:
    """The daily digest: nearest clusters per subscription, then the last 24 hours."""
    zone = ZoneInfo(digest.tz)
    lines = [f"☀️ <b>Daily digest</b> · {local_time(digest.made_at, zone)}"]
    if not digest.watched:
        lines.append("No maps yet: /subscribe BTC to see its nearest clusters here.")
    for watched in digest.watched:
        lines.append(
            f"\n<b>{escape(watched.label)}</b> ({escape(watched.source)}) · price "
            f"<b>{price_text(watched.price)}</b> · data to {local_time(watched.as_of_ms, zone)}"
        )
        for level in watched.levels:
            name = "🟢 Longs" if level.side == LONG else "🔴 Shorts"
            where = "below" if level.side == LONG else "above"
            lines.append(
                f"{name} <b>{price_text(level.low)}–{price_text(level.high)}</b> · "
                f"{usd(level.usd)} · {abs(level.distance_pct):.1f}% {where}"
            )
    lines.append(f"\n<b>Last 24 h</b>: {digest.alerts} alert{'s' * (digest.alerts != 1)} sent")
    if not digest.swept:
        lines.append("Nothing swept.")
    for alert in digest.swept:
        band = f"<b>{price_text(alert.low)}–{price_text(alert.high)}</b>"
        head = f"{escape(alert.label)} {alert.side.upper()} {band}"
        if alert.kind == RECEIPT and alert.receipt is not None:
            lines.append(
                f"🧾 {head}: {usd(alert.receipt.recorded_usd)} recorded, {usd(alert.usd)} estimated"
            )
        else:
            lines.append(f"💥 {head} · {usd(alert.usd)} swept")
    return clip_html("\n".join(lines), TEXT_LIMIT)


_TOKENS = re.compile(r"<[^<>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")


def visible_length(text: str) -> int:
    """What Telegram counts of HTML text: visible UTF-16 units, an entity as one."""
    return sum(_units(token) for token in _TOKENS.findall(text))


def clip_html(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` visible units with "…", open tags closed; never inside a tag
    or an entity, never between the two halves of an emoji."""
    if visible_length(text) <= limit:
        return text
    out: list[str] = []
    open_tags: list[str] = []
    room = limit - 1
    for token in _TOKENS.findall(text):
        if _is_tag(token):
            name = _TAG_NAME.match(token)
            if name is not None and token.startswith("</"):
                if name.group(1) in open_tags:
                    open_tags.remove(name.group(1))
            elif name is not None:
                open_tags.append(name.group(1))
            out.append(token)
            continue
        size = _units(token)
        if size <= room:
            out.append(token)
            room -= size
            continue
        if not token.startswith("&"):
            out.append(_first_units(token, room))
        break
    return "".join(out) + "…" + "".join(f"</{name}>" for name in reversed(open_tags))


def plain(text: str, limit: int) -> str:
    """HTML ``text`` as the plain text a pop-up shows, cut to ``limit`` UTF-16 units."""
    shown = unescape("".join(t for t in _TOKENS.findall(text) if not _is_tag(t)))
    size = len(shown.encode("utf-16-le")) // 2
    return shown if size <= limit else _first_units(shown, limit - 1) + "…"


def _is_tag(token: str) -> bool:
    return token.startswith("<") and token.endswith(">") and len(token) > 1


def _units(token: str) -> int:
    if _is_tag(token):
        return 0
    if token.startswith("&") and token.endswith(";") and len(token) > 2:
        return 1
    return len(token.encode("utf-16-le")) // 2


def _first_units(text: str, room: int) -> str:
    """The longest start of ``text`` within ``room`` UTF-16 units."""
    taken, used = [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > room:
            break
        taken.append(char)
        used += size
    return "".join(taken)


MEANING = {
    LONG: "Long liquidations below could accelerate a drop if price reaches them.",
    SHORT: "Short liquidations above could fuel a squeeze if price reaches them.",
}
SWEPT_MEANING = {
    LONG: "Longs there were likely liquidated: the drop may exhaust or cascade further.",
    SHORT: "Shorts there were likely liquidated: the squeeze may exhaust or extend.",
}


def alert_text(alert: Alert) -> str:
    """An alert's caption: instrument, cluster side, range, USD, distance, price, meaning."""
    side = "LONG" if alert.side == LONG else "SHORT"
    band = f"{price_text(alert.low)}–{price_text(alert.high)}"
    head = f"<b>{escape(alert.label)}</b> ({escape(alert.source)})"
    if alert.kind == RECEIPT and alert.receipt is not None:
        return receipt_text(head, side, band, alert.usd, alert.receipt)
    if alert.kind == BUILDING:
        lines = [building_line(alert, side, band), f"Price <b>{price_text(alert.price)}</b>"]
        lines.append(MEANING[alert.side])
    elif alert.kind == SWEPT:
        lines = [
            f"💥 {head} swept a dense {side} liquidation cluster",
            f"Cluster <b>{band}</b> · {usd(alert.usd)}",
            f"Price <b>{price_text(alert.price)}</b>, through it",
            SWEPT_MEANING[alert.side],
        ]
    else:
        arrow = "🔻" if alert.side == LONG else "🔺"
        where = "inside it" if alert.distance_pct == 0 else f"{alert.distance_pct:.2f}% away"
        moving = {"falling": "falling toward it", "rising": "rising toward it"}.get(
            alert.direction, "near it"
        )
        lines = [
            f"{arrow} {head} is near a dense {side} liquidation cluster",
            f"Cluster <b>{band}</b> · {usd(alert.usd)} · {alert.strength:.1f}× avg density",
            f"Price <b>{price_text(alert.price)}</b>, {where}, {moving}",
            MEANING[alert.side],
        ]
    lines.append(f"<i>{alert.window} map · estimated, not exact positions</i>")
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def building_line(alert: Alert, side: str, band: str) -> str:
    """``📈 BTC-USDT-SWAP (okx): a LONG cluster 61,200–61,900 grew 85% in 15 min to $42M,
    1.9% below price``."""
    head = f"<b>{escape(alert.label)}</b> ({escape(alert.source)})"
    over = span_text(alert.over_ms or 0)
    what = (
        f"grew {alert.grown_pct:.0f}% in {over} to {usd(alert.usd)}"
        if alert.grown_pct is not None
        else f"formed in {over}: {usd(alert.usd)}, {alert.strength:.1f}× avg density"
    )
    where = "below" if alert.side == LONG else "above"
    near = "price inside it" if alert.distance_pct == 0 else f"{alert.distance_pct:.1f}% {where}"
    return f"📈 {head}: a {side} cluster <b>{band}</b> {what}, {near} price"


def receipt_text(head: str, side: str, band: str, estimated: float, receipt: Receipt) -> str:
    """The follow-up of a sweep: what the map estimated against what was recorded."""
    lines = [f"🧾 {head} {side} cluster <b>{band}</b> swept"]
    if receipt.covered == 0:
        lines += [
            f"Estimated {usd(estimated)} · no recorded liquidations to compare: the recorder "
            "was not watching then"
        ]
        return "\n".join(lines)
    sampled = f"; {', '.join(receipt.sampled)} sampled" if receipt.sampled else ""
    lines.append(
        f"Estimated {usd(estimated)} · recorded liquidations <b>{usd(receipt.recorded_usd)}</b> "
        f"in the sweep ({', '.join(receipt.venues)}{sampled})"
    )
    if not receipt.judged:
        why = (
            f"the recorder watched {receipt.covered:.0%} of the sweep"
            if receipt.covered < 0.999
            else f"no {side.lower()} liquidations were recorded during the sweep"
        )
        lines.append(f"<i>Not judged: {why}.</i>")
    else:
        verdict = "the map pointed at them" if receipt.hit else "less than its share"
        lines.append(
            f"The band took {receipt.share:.0%} of the recorded {side.lower()} liquidations in "
            f"{receipt.band_share:.0%} of the sweep's price range: {verdict}."
        )
    return "\n".join(lines)
