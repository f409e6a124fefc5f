"""``/settings``: show a chat's alert defaults, or change one of them."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, may_change
from bot.arguments import Refusal
from bot.context import BotContext
from bot.known_chats import known_chat
from bot.texts.common import ADMINS_ONLY, refused, usage
from bot.texts.settings import saved, settings_text
from bot.updates import message_of
from liqmap.signals.chat_settings import SettingError, change_setting


@authorized
async def settings_command(update: Update, context: BotContext) -> None:
    message, args = message_of(update), context.args or []
    deps = context.deps
    chat = await known_chat(deps, message.chat.id)
    if not args:
        await message.reply_text(settings_text(chat.settings), parse_mode=ParseMode.HTML)
        return
    if len(args) != 2:
        await message.reply_text(usage("settings"))
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    try:
        changed = change_setting(chat.settings, args[0], args[1])
    except SettingError as exc:
        await message.reply_text(refused("settings", Refusal(str(exc))), parse_mode=ParseMode.HTML)
        return
    await deps.stores.run(deps.stores.chats.save_settings, chat.id, changed)
    await message.reply_text(saved(changed), parse_mode=ParseMode.HTML)
