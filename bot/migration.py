"""A group that became a supergroup: its record follows, and it hears what did not fit."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.deps import BotDeps
from bot.texts.migration import merged_on_migration

log = logging.getLogger(__name__)


async def follow_migration(bot: Bot, deps: BotDeps, old_id: int, new_id: int) -> None:
    """Move chat ``old_id`` to ``new_id``; tell it what it had set that the move replaced."""
    chats = deps.stores.chats
    moved = await deps.stores.run(chats.migrate, old_id, new_id)
    log.info("chat %s moved to %s", old_id, new_id)
    if not moved.news:
        return
    log.info("chat %s: the move dropped %s%s", new_id, moved.dropped or "no subscription",
             ", and its own settings" * moved.settings_replaced)  # fmt: skip
    text = merged_on_migration(moved.dropped, moved.settings_replaced, chats.limits.per_chat)
    try:
        await bot.send_message(new_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("could not tell chat %s what its move dropped: %s", new_id, exc)
