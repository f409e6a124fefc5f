"""The error handler: a short answer to the user, the log, and throttled reports to admins.

Known errors never get here: ``bot.access.authorized`` answers them. What does is a change
of the chat (blocked, moved), Telegram failing (logged), or unexpected: logged with its
traceback, told to the user briefly, and reported to the admin chats once per fault (its type and
the line that raised it) per 10 minutes.
"""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, TelegramError

from bot.access import tell
from bot.context import BotContext
from bot.log_scrub import scrub
from bot.migration import follow_migration
from bot.texts.common import SOMETHING_WRONG
from bot.texts.status import error_report

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    chat = update.effective_chat if isinstance(update, Update) else None
    deps = context.deps
    if isinstance(error, Forbidden) and chat is not None:
        await deps.stores.run(deps.stores.chats.set_active, chat.id, False)
        log.info("chat %s blocked the bot: marked inactive", chat.id)
        return
    if isinstance(error, ChatMigrated) and chat is not None:
        await follow_migration(context.bot, deps, chat.id, error.new_chat_id)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Telegram itself failing (5xx, timeout, unreachable): no bug of ours to report, and
        # an apology would meet the same failure
        chat_id = chat.id if chat else "?"
        log.warning("could not answer chat %s, Telegram failed: %s", chat_id, error)
        return
    log.error("an update failed", exc_info=error)
    count = deps.reports.note(error, deps.clock()) if error is not None else None
    if isinstance(update, Update):
        try:
            await tell(update, context, SOMETHING_WRONG)
        except TelegramError as exc:
            log.warning("could not tell the user about the error: %s", exc)
    if count is None:
        return
    token = deps.settings.telegram_bot_token or ""
    trace = scrub("".join(traceback.format_exception(error)), token)
    report = error_report(chat.id if chat else None, trace, count)
    for admin_chat in deps.settings.admin_chats:
        try:
            await context.bot.send_message(admin_chat, report, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("could not report the error to admin chat %s: %s", admin_chat, exc)
