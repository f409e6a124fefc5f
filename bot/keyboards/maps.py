"""Inline buttons under a map, and what their callback data means (at most 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage
from telegram.constants import InlineKeyboardButtonLimit

from bot.deep_links import share_url
from liqmap.market.timeframes import WINDOWS

CALLBACK_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
SHOW, REFRESH, SUBSCRIBE = "w", "r", "s"
TOP = "t"
"""A /top button: send that instrument's map as a new message (a text cannot become a photo)."""


@dataclass(frozen=True)
class Press:
    """A button press: what to do, for which instrument key, at which window."""

    action: str
    instrument: str
    window: str


def map_keyboard(
    instrument: str, window: str, bot_username: str | None = None
) -> InlineKeyboardMarkup:
    """Windows, refresh and subscribe; with the bot's username, a link to share the map."""
    windows = [
        InlineKeyboardButton(
            f"• {w} •" if w == window else w, callback_data=_data(SHOW, instrument, w)
        )
        for w in WINDOWS
    ]
    actions = [
        InlineKeyboardButton("🔄 Refresh", callback_data=_data(REFRESH, instrument, window)),
        InlineKeyboardButton("🔔 Subscribe", callback_data=_data(SUBSCRIBE, instrument, window)),
    ]
    url = share_url(bot_username, instrument, window) if bot_username else None
    if url is not None:
        actions.append(InlineKeyboardButton("🔗 Share", url=url))
    return InlineKeyboardMarkup([windows, actions])


def top_keyboard(rows: list[tuple[str, str]], window: str) -> InlineKeyboardMarkup:
    """One button per (label, instrument key) of /top, each opening that map."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"🗺 {label}", callback_data=_data(TOP, key, window))]
         for label, key in rows]
    )  # fmt: skip


def top_press(data: str | None) -> Press | None:
    """The press of a /top button, or None for other data."""
    parts = (data or "").split("|")
    if len(parts) != 3 or parts[0] != TOP or parts[1] not in WINDOWS:
        return None
    return Press(TOP, parts[2], parts[1])


def parse_press(data: str | None) -> Press | None:
    """The press a callback carries, or None for data this bot did not make."""
    parts = (data or "").split("|")
    if len(parts) != 3 or parts[0] not in (SHOW, REFRESH, SUBSCRIBE) or parts[1] not in WINDOWS:
        return None
    return Press(parts[0], parts[2], parts[1])


def offered(message: MaybeInaccessibleMessage | None, data: str | None) -> bool:
    """Whether ``message`` carries a button with exactly this callback data: a press counts
    only on the message the bot put that button on."""
    markup = getattr(message, "reply_markup", None)
    if markup is None or data is None:
        return False
    return any(button.callback_data == data for row in markup.inline_keyboard for button in row)


def _data(action: str, instrument: str, window: str) -> str:
    data = f"{action}|{window}|{instrument}"
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data}")
    return data
