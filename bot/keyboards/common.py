"""What every inline button shares: the 64-byte limit of its callback data, the
``action|window|instrument`` press of map and /top buttons, and the check that a press came
from a button the bot put on that very message."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from telegram import MaybeInaccessibleMessage
from telegram.constants import InlineKeyboardButtonLimit

from liqmap.market.timeframes import WINDOWS

CALLBACK_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)


@dataclass(frozen=True)
class Press:
    """A button press: what to do, for which instrument key, at which window."""

    action: str
    instrument: str
    window: str


def press_data(action: str, instrument: str, window: str) -> str:
    """The callback data of a press: ``action|window|instrument``."""
    return fitting(f"{action}|{window}|{instrument}")


def read_press(data: str | None, actions: Collection[str]) -> Press | None:
    """The press ``data`` carries if its action is one of ``actions``; None for other data."""
    parts = (data or "").split("|")
    if len(parts) != 3 or parts[0] not in actions or parts[1] not in WINDOWS:
        return None
    return Press(parts[0], parts[2], parts[1])


def fitting(data: str) -> str:
    """``data`` itself, if Telegram takes it as callback data (at most 64 bytes)."""
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data}")
    return data


def offered(message: MaybeInaccessibleMessage | None, data: str | None) -> bool:
    """Whether ``message`` carries a button with exactly this callback data: a press counts
    only on the message the bot put that button on."""
    markup = getattr(message, "reply_markup", None)
    if markup is None or data is None:
        return False
    return any(button.callback_data == data for row in markup.inline_keyboard for button in row)
