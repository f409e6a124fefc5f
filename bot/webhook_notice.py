"""Telling a chat that one of its webhooks was paused: the bot's side of
``jobs.scheduled.webhooks.PauseNotice``."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.texts.webhooks import paused_notice

log = logging.getLogger(__name__)


class TelegramPauseNotice:
    """Sends the one notice; a Telegram error propagates, so the job tries again later, but a
    chat that blocked the bot has no one to tell."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, chat_id: int, number: int, why: str) -> None:
        try:
            await self.bot.send_message(
                chat_id, paused_notice(number, why), parse_mode=ParseMode.HTML
            )
        except Forbidden as exc:
            log.info("chat %s not told of its paused webhook: %s", chat_id, exc)
