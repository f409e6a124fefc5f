"""Inline buttons under a map, and what their callback data means (at most 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from liqmap.timeframes import WINDOWS

CALLBACK_LIMIT = 64
SHOW, REFRESH, SUBSCRIBE = "w", "r", "s"


@dataclass(frozen=True)
class Press:
    """A button press: what to do, for which instrument key, at which window."""

    action: str
    instrument: str
    window: str


def map_keyboard(instrument: str, window: str) -> InlineKeyboardMarkup:
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
    return InlineKeyboardMarkup([windows, actions])


def parse_press(data: str | None) -> Press | None:
    """The press a callback carries, or None for data this bot did not make."""
    parts = (data or "").split("|")
    if len(parts) != 3 or parts[0] not in (SHOW, REFRESH, SUBSCRIBE) or parts[1] not in WINDOWS:
        return None
    return Press(parts[0], parts[2], parts[1])


def _data(action: str, instrument: str, window: str) -> str:
    data = f"{action}|{window}|{instrument}"
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data}")
    return data
