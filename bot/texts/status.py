"""What the admins read: ``/status`` and the reports of unexpected errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from bot.texts.common import TEXT_LIMIT, ago, span_text
from bot.texts.html import clip_html
from jobs.scheduled.discovery import DiscoveryStatus
from jobs.scheduled.recorder import RecorderStatus
from liqmap.engine.realized import SAMPLED_VENUES, covered_share
from liqmap.market.scan_passes import ScanAge
from liqmap.market.timeframes import DAY_MS
from storage.liquidations import StreamCoverage
from storage.positions import Source

STATUS_ADMINS_ONLY = "/status is for the bot's admins only."


def status_text(
    uptime_ms: int,
    watched: int,
    pending: int,
    maps: list[str],
    incidents: list[str],
    recorder: Sequence[str] = (),
    bans: Mapping[str, str] | None = None,
    scanner: Sequence[str] = (),
) -> str:
    """``/status``: uptime, watched instruments, pending alerts, map ages, the recorder's
    coverage per exchange, the scanner of real positions, exchanges not called because they
    banned this IP, exchange errors."""
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
        "<b>Real positions</b> (Hyperliquid scanner)",
        *([escape(line) for line in scanner] or ["no pass yet"]),
        "",
        "<b>Recent exchange errors</b>",
        *([escape(line) for line in _banned(bans or {}) + incidents] or ["none"]),
    ]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def _banned(bans: Mapping[str, str]) -> list[str]:
    return [f"{exchange}: {ban}" for exchange, ban in bans.items()]


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


def scanner_lines(age: ScanAge, period_ms: int) -> list[str]:
    """The latest finished pass (when, accounts, skipped, failed, weight), the pass running
    now, and, when the scanner is behind its period, how old its data is."""
    lines = []
    last = age.last
    if last is not None and last.finished_ms is not None and age.data_ms is not None:
        took = _length(last.finished_ms - last.started_ms)
        lines.append(
            f"last pass began {ago(age.data_ms)}: {last.accounts:,} accounts in {took}, "
            f"{last.skipped} positions skipped, {last.failed} failed, weight {last.weight:,.0f}"
        )
    if age.running_ms is not None:
        lines.append(f"a pass running for {_length(age.running_ms)}")
    if age.behind:
        old = "no finished pass" if age.data_ms is None else (
            f"data {_length(age.data_ms)} old"
        )  # fmt: skip
        lines.append(f"⚠️ behind: {old}, a pass is due every {_length(period_ms)}")
    return lines


def discovery_lines(status: DiscoveryStatus | None, sources: Mapping[Source, int]) -> list[str]:
    """The accounts known by where they were found, the trades feed, and the leaderboard (its
    note where it is gone)."""
    known = sum(sources.values())
    found = ", ".join(f"{name} {count:,}" for name, count in sources.items())
    lines = [f"{known:,} accounts known ({found})"]
    if status is None:
        return lines
    if status.coins:
        feed = "connected" if status.connected else "reconnecting"
        error = f", last error: {status.last_error}" if status.last_error else ""
        lines.append(
            f"trades of {', '.join(status.coins)}: {feed}, {status.trades:,} read, "
            f"{status.skipped} skipped{error}"
        )
    if status.leaderboard_note is not None:
        lines.append(f"leaderboard: {status.leaderboard_note}")
    elif status.leaderboard_rows is not None:
        lines.append(f"leaderboard: {status.leaderboard_rows:,} accounts listed")
    return lines


def _length(ms: int) -> str:
    """``40 s`` under a minute, else as ``span_text``."""
    return f"{max(0, ms) // 1000} s" if ms < 60_000 else span_text(ms)


def error_report(chat_id: int | None, trace: str, count: int) -> str:
    """An unexpected error for the admin chats: where, how often, and its traceback's end (the
    latest of ``count`` errors of one fault, whose messages may differ)."""
    times = "" if count == 1 else f" ({count} times in the last 10 min)"
    where = chat_id if chat_id is not None else "?"
    head = f"⚠️ <b>error</b> in chat {where}{times}\n"
    return clip_html(head + f"<pre>{escape(trace[-3000:])}</pre>", TEXT_LIMIT)
