"""What every feature shares: Telegram's limits, usage lines, generic replies and /help."""

from __future__ import annotations

from html import escape

from telegram.constants import CallbackQueryLimit, MessageLimit

from bot.arguments import Refusal
from bot.texts.html import clip_html
from liqmap.errors import ExchangeError
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, WINDOWS
from liqmap.policies.group_budget import REPEAT_MS
from liqmap.signals.screener import MAX_TOP
from liqmap.signals.whales import WHALE_RANGE_PCT

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
        "/subscribe SYMBOL [all] [DISTANCE%] [building [off]] [real [off]] — e.g. /subscribe "
        "BTC 0.8, /subscribe BTC 0.8 building, /subscribe hyperliquid:BTC real (again: changes "
        "only what it names)"
    ),
    "whales": (
        f"/whales COIN — the largest real Hyperliquid positions liquidating within "
        f"{WHALE_RANGE_PCT:g}% of price, largest first (a large one moves price most when it "
        "goes), e.g. /whales BTC"
    ),
    "top": f"/top [N] — the N (1–{MAX_TOP}) most urgent clusters, e.g. /top, /top 10",
    "unsubscribe": "/unsubscribe SYMBOL [all] | all — e.g. /unsubscribe BTC",
    "settings": (
        "/settings [distance PCT | strength X | cooldown MIN | quiet HH:MM-HH:MM|off | tz ZONE]"
        " — e.g. /settings distance 0.8, /settings tz Europe/Berlin"
    ),
    "digest": "/digest on HH:MM | off — e.g. /digest on 08:00 (the chat's local time)",
    "webhook": (
        "/webhook add URL [discord|json] | list | remove N — this chat's alerts also posted to "
        "Discord or a signed JSON receiver, e.g. /webhook add https://discord.com/api/webhooks/…"
    ),
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
    ("whales", "the largest real Hyperliquid positions near price, e.g. /whales BTC"),
    ("top", "the most urgent clusters across your watchlist, e.g. /top 5"),
    ("unsubscribe", "stop alerts for a symbol, or all, e.g. /unsubscribe BTC"),
    ("list", "this chat's subscriptions"),
    ("settings", "alert defaults and time zone, e.g. /settings tz Europe/Berlin"),
    ("digest", "a daily summary at a local time, e.g. /digest on 08:00"),
    ("webhook", "alerts also to Discord or a signed JSON webhook"),
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
SOMETHING_WRONG = "Sorry, something went wrong on my side. It is logged; please try again."
ADMINS_ONLY_ANSWER = "Only group administrators can do this here."
STALE_BUTTON = "This button no longer works; send /map again."
SLOW_DOWN = (
    "Many commands in this group at once: I answer again in a minute, and keep sending the "
    f"alerts. Repeating a command within {REPEAT_MS // 1000} seconds gets one answer."
)
UNKNOWN_COMMAND = "I don't know that command. /help lists them."
SEND_A_COMMAND = "Send a command, e.g. /map BTC. /help lists them."
START = INTRO + "\n\nTry /map BTC, then /subscribe BTC. /help lists every command."


def help_text() -> str:
    lines = [INTRO, "", "<b>Commands</b>"]
    lines += [f"/start — {escape(desc)}" for name, desc in COMMANDS if name == "start"]
    lines += ["/help — this list"]
    commands = ("map", "clusters", "heatmap", "accuracy", "stop", "subscribe", "unsubscribe",
                "top", "whales")  # fmt: skip
    lines += [escape(USAGE[name]) for name in commands]
    lines += [
        "/list — this chat's subscriptions, closest to an alert first; buttons change the "
        "distance, mute for 1, 8 or 24 hours, turn real-cluster alerts on or off (Hyperliquid), "
        "or delete",
        escape(USAGE["settings"]),
    ]
    lines += [escape(USAGE["digest"])]
    lines += [escape(USAGE["webhook"])]
    lines += ["/status — service health (admin chats only)", ""]
    lines += [
        "Symbols: <code>BTC</code>, <code>BTC-USDT-SWAP</code>, <code>BTC/USDT:USDT</code>, "
        "<code>binance:ETH</code>; add <code>all</code> for OKX, Binance and Bybit summed "
        "(<code>/map BTC all</code>). Maps are estimates of relative intensity, not exact "
        "positions; <code>hyperliquid:BTC</code> maps also draw real positions.",
        "Share a map in any chat: type the bot's @name and a symbol there, e.g. "
        "<code>BTC 7d</code>.",
    ]
    return "\n".join(lines)


def usage(command: str) -> str:
    return f"Usage: {escape(USAGE[command])}"


def refused(command: str, refusal: Refusal) -> str:
    """The answer to arguments a command cannot use, on one line: why, then its usage."""
    reason = " ".join(refusal.reason.split())
    if not reason:
        return usage(command)
    stop = "" if reason[-1] in ".?!" else "."
    return f"{clip_html(escape(reason), 200)}{stop} {usage(command)}"


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


def service_busy(seconds: float) -> str:
    return f"The bot is busy making maps for everyone; try again in {max(1, round(seconds))} s."


def loading(window: str) -> str:
    return f"Loading {window}…"


def ago(ms: int) -> str:
    minutes = max(0, ms) // 60_000
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def span_text(ms: int) -> str:
    """A length of recorded time: ``40 min``, ``17 h``, ``12.5 days``."""
    if ms < HOUR_MS:
        return f"{ms // MINUTE_MS} min"
    return f"{ms // HOUR_MS} h" if ms < 2 * DAY_MS else f"{ms / DAY_MS:.1f} days"
