"""``/digest on HH:MM`` and ``/digest off``: a chat's daily digest at its local time."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, may_change
from bot.arguments import Refusal
from bot.context import BotContext
from bot.known_chats import known_chat
from bot.texts.common import ADMINS_ONLY, refused, usage
from bot.texts.settings import digest_saved
from bot.topics import settle_topic
from bot.updates import message_of
from liqmap.signals.chat_settings import SettingError, parse_clock


@authorized
async def digest_command(update: Update, context: BotContext) -> None:
    message, args = message_of(update), [a.lower() for a in context.args or []]
    deps = context.deps
    chat = await known_chat(deps, message.chat.id)
    if not args:
        await message.reply_text(digest_saved(chat.settings), parse_mode=ParseMode.HTML)
        return
    if not (args == ["off"] or (len(args) == 2 and args[0] == "on")):
        await message.reply_text(usage("digest"))
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    try:
        digest_at = None if args == ["off"] else parse_clock(args[1])
    except SettingError as exc:
        await message.reply_text(refused("digest", Refusal(str(exc))), parse_mode=ParseMode.HTML)
        return
    changed = replace(chat.settings, digest_at=digest_at)
    await deps.stores.run(deps.stores.chats.save_settings, chat.id, changed)
    if digest_at is not None:
        thread_id = await settle_topic(update, context)
        await deps.stores.run(deps.stores.chats.set_digest_thread, chat.id, thread_id)
    await message.reply_text(digest_saved(changed), parse_mode=ParseMode.HTML)
