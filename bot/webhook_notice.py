"""Telling a chat that one of its webhooks was paused: the bot's side of
``jobs.scheduled.webhooks.PauseNotice``."""

from __future__ import annotations

from telegram import Bot
from telegram.constants import ParseMode

from bot.texts.webhooks import paused_notice


class TelegramPauseNotice:
    """Sends the one notice; a Telegram error propagates, so the job tries again next pass."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, chat_id: int, number: int, why: str) -> None:
        await self.bot.send_message(chat_id, paused_notice(number, why), parse_mode=ParseMode.HTML)
