"""Inline buttons under /top: one per instrument, each opening that map."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.common import Press, press_data, read_press

TOP = "t"
"""A /top button: send that instrument's map as a new message (a text cannot become a photo)."""
PATTERN = rf"^{TOP}\|"
"""What the ``CallbackQueryHandler`` of these buttons matches."""


def top_keyboard(rows: list[tuple[str, str]], window: str) -> InlineKeyboardMarkup:
    """One button per (label, instrument key) of /top, each opening that map."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"🗺 {label}", callback_data=press_data(TOP, key, window))]
         for label, key in rows]
    )  # fmt: skip


def top_press(data: str | None) -> Press | None:
    """The press of a /top button, or None for other data."""
    return read_press(data, (TOP,))
