"""Build the python-telegram-bot Application: handlers, rate limiter, command menu, errors.

Every message is sent in HTML parse mode; ``bot.texts`` escapes whatever users typed.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.context import CONTEXT_TYPES, BotContext, BotData
from bot.deps import BotDeps
from bot.handlers import (
    accuracy,
    basics,
    digest,
    heatmaps,
    inline,
    maps,
    settings,
    status,
    stops,
    subscription_list,
    subscriptions,
    top,
    webhooks,
    whales,
)
from bot.handlers.errors import on_error
from bot.keyboards import subscriptions as subscription_keyboards
from bot.keyboards import top as top_keyboards
from bot.rate_limit import FairRateLimiter
from bot.texts.common import COMMANDS
from bot.topics import topic_named

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3

BotApplication = Application[
    ExtBot[int], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
]
"""The bot's Application: ``ExtBot[int]`` for the rate limiter's argument, a ``BotContext``
for every callback."""


def build_application(deps: BotDeps) -> BotApplication:
    """The bot for ``deps``: long polling against ``TELEGRAM_API_URL``."""
    token = deps.settings.require_token()
    api = deps.settings.telegram_api_url
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta
    application = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(
            FairRateLimiter(deps.group_budget, deps.clock, max_retries=RATE_LIMIT_RETRIES)
        )
        .concurrent_updates(True)
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[BotContext]())  # what PTB makes by default, for this context
        .post_init(start_up)
        .build()
    )
    application.bot_data.deps = deps
    add_handlers(application)
    return application


def add_handlers(application: BotApplication) -> None:
    commands = {
        "start": basics.start,
        "help": basics.help_command,
        "map": maps.map_command,
        "clusters": maps.clusters_command,
        "heatmap": heatmaps.heatmap_command,
        "accuracy": accuracy.accuracy_command,
        "stop": stops.stop_command,
        "subscribe": subscriptions.subscribe,
        "unsubscribe": subscriptions.unsubscribe,
        "list": subscription_list.list_command,
        "settings": settings.settings_command,
        "digest": digest.digest_command,
        "status": status.status,
        "top": top.top_command,
        "whales": whales.whales_command,
        "webhook": webhooks.webhook_command,
    }
    for name, handler in commands.items():
        application.add_handler(CommandHandler(name, handler))
    for pattern, button in (
        (subscription_keyboards.PATTERN, subscription_list.button),
        (top_keyboards.PATTERN, top.top_button),
    ):
        application.add_handler(CallbackQueryHandler(button, pattern=pattern))
    application.add_handler(CallbackQueryHandler(maps.button))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, basics.migrated))
    topic_news = filters.StatusUpdate.FORUM_TOPIC_CREATED | filters.StatusUpdate.FORUM_TOPIC_EDITED
    application.add_handler(MessageHandler(topic_news, topic_named))
    application.add_handler(ChatMemberHandler(basics.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(InlineQueryHandler(inline.inline_query))
    application.add_handler(MessageHandler(filters.COMMAND, basics.unknown_command))
    application.add_handler(
        MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, basics.plain_text)
    )
    application.add_error_handler(on_error)


async def start_up(application: BotApplication) -> None:
    """Before the first update: the map budgets as the last run left them, the command menu."""
    await application.bot_data.deps.budgets.load()
    await set_command_menu(application)


async def set_command_menu(application: BotApplication) -> None:
    """The menu Telegram shows next to the message box."""
    try:
        await application.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]
