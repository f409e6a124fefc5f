"""Inline buttons under a map: switch the window, refresh, subscribe, share."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.deep_links import share_url
from bot.keyboards.common import Press, press_data, read_press
from liqmap.market.timeframes import WINDOWS

SHOW, REFRESH, SUBSCRIBE = "w", "r", "s"


def map_keyboard(
    instrument: str, window: str, bot_username: str | None = None
) -> InlineKeyboardMarkup:
    """Windows, refresh and subscribe; with the bot's username, a link to share the map."""
    windows = [
        InlineKeyboardButton(
            f"• {w} •" if w == window else w, callback_data=press_data(SHOW, instrument, w)
        )
        for w in WINDOWS
    ]
    actions = [
        InlineKeyboardButton("🔄 Refresh", callback_data=press_data(REFRESH, instrument, window)),
        InlineKeyboardButton(
            "🔔 Subscribe", callback_data=press_data(SUBSCRIBE, instrument, window)
        ),
    ]
    url = share_url(bot_username, instrument, window) if bot_username else None
    if url is not None:
        actions.append(InlineKeyboardButton("🔗 Share", url=url))
    return InlineKeyboardMarkup([windows, actions])


def parse_press(data: str | None) -> Press | None:
    """The press a callback carries, or None for data this bot did not make."""
    return read_press(data, (SHOW, REFRESH, SUBSCRIBE))
