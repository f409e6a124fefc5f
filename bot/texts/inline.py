"""What inline sharing (``@yourbot BTC``) shows: the cards offered instead of a map, and the
button that opens a map in the bot."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bot.texts.common import WINDOW_CHOICES
from bot.texts.html import clip_html

INLINE_USAGE = f"SYMBOL [{WINDOW_CHOICES}] [all] — e.g. BTC, BTC 30d all, okx:ETH 7d"
CARD_TEXT_LIMIT = 600
"""A card's message stays short: it lands in someone else's chat when picked."""


@dataclass(frozen=True)
class Card:
    """An article offered instead of a map: its title and line in the list, and the message
    it sends when picked (HTML)."""

    title: str
    description: str
    message: str


def usage_card(bot_username: str) -> Card:
    """What to type after the bot's name."""
    return Card(
        "Liquidation map: type a symbol",
        INLINE_USAGE,
        f"Liquidation maps inline: <code>@{escape(bot_username)} {escape(INLINE_USAGE)}</code>",
    )


def refused_card(reason: str, bot_username: str) -> Card:
    """A symbol with no map (unknown, expired, not recorded yet), with the reason."""
    line = " ".join(reason.split())
    return Card(
        "No map for that",
        line[:200],
        clip_html(
            f"{escape(line)}. Inline: <code>@{escape(bot_username)} {escape(INLINE_USAGE)}</code>",
            CARD_TEXT_LIMIT,
        ),
    )


def busy_card(reason: str) -> Card:
    """Past a map budget: when it frees up."""
    line = " ".join(reason.split())
    return Card("Too many new maps right now", line[:200], clip_html(escape(line), CARD_TEXT_LIMIT))


def open_in_bot(label: str, window: str) -> str:
    """The button above the results that opens the map in a private chat with the bot."""
    return f"Open the {label[:40]} {window} map in the bot"
