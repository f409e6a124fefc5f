"""``/digest on HH:MM`` and ``/digest off``: a chat's daily digest at its local time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, tzinfo

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.access import authorized, may_change
from bot.deps import BotServices, services
from bot.texts.common import ADMINS_ONLY, usage
from bot.texts.settings import digest_saved
from liqmap.signals.chat_settings import parse_clock


@authorized
async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, args = update.effective_message, [a.lower() for a in context.args or []]
    core = services(context)
    chat = await core.stores.run(core.stores.chats.get, message.chat.id)
    if not args:
        await message.reply_text(digest_saved(chat.settings), parse_mode=ParseMode.HTML)
        return
    if not (args == ["off"] or (len(args) == 2 and args[0] == "on")):
        await message.reply_text(usage("digest"))
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    digest_at = None if args == ["off"] else parse_clock(args[1])
    changed = replace(chat.settings, digest_at=digest_at)
    await core.stores.run(core.stores.chats.save_settings, chat.id, changed)
    await message.reply_text(digest_saved(changed), parse_mode=ParseMode.HTML)


async def chat_zone(core: BotServices, chat_id: int) -> tzinfo:
    """The time zone a chat's times are shown in (UTC for a chat not seen yet)."""
    chat = await core.stores.run(core.stores.chats.get, chat_id)
    return chat.settings.zone if chat is not None else UTC
