"""``/settings``: show a chat's alert defaults, or change one of them."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.access import authorized, may_change
from bot.deps import services
from bot.texts.common import ADMINS_ONLY, usage
from bot.texts.settings import saved, settings_text
from liqmap.signals.chat_settings import change_setting


@authorized
async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, args = update.effective_message, context.args or []
    core = services(context)
    chat = await core.stores.run(core.stores.chats.get, message.chat.id)
    if not args:
        await message.reply_text(settings_text(chat.settings), parse_mode=ParseMode.HTML)
        return
    if len(args) != 2:
        await message.reply_text(usage("settings"))
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    changed = change_setting(chat.settings, args[0], args[1])
    await core.stores.run(core.stores.chats.save_settings, chat.id, changed)
    await message.reply_text(saved(changed), parse_mode=ParseMode.HTML)
