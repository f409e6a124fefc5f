"""``/start``, ``/help``, unknown commands, plain text, and changes to the chat itself."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode

from bot.access import authorized
from bot.context import BotContext
from bot.deep_links import parse_map_parameter
from bot.handlers.maps import send_map
from bot.migration import follow_migration
from bot.texts.common import SEND_A_COMMAND, START, UNKNOWN_COMMAND, help_text
from bot.updates import message_of

log = logging.getLogger(__name__)


@authorized
async def start(update: Update, context: BotContext) -> None:
    """The intro, or the map a deep link (``/start map_BTC_7d``) asks for."""
    args = context.args or []
    link = parse_map_parameter(args[0]) if len(args) == 1 else None
    if link is None:
        await message_of(update).reply_text(START, parse_mode=ParseMode.HTML)
        return
    inst = await context.deps.market.instrument(link.symbol)
    await send_map(update, context, inst, link.window)


@authorized
async def help_command(update: Update, context: BotContext) -> None:
    await message_of(update).reply_text(help_text(), parse_mode=ParseMode.HTML)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Commands no handler took: answer in private and when addressed to this bot by name."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0]
    _, at, name = command.partition("@")
    if at and name.lower() != (context.bot.username or "").lower():
        return
    if message.chat.type != ChatType.PRIVATE and not at:
        return
    await _answer_unknown(update, context)


@authorized
async def _answer_unknown(update: Update, context: BotContext) -> None:
    await message_of(update).reply_text(UNKNOWN_COMMAND)


@authorized
async def plain_text(update: Update, context: BotContext) -> None:
    await message_of(update).reply_text(SEND_A_COMMAND)


async def migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its chat id changed (told in both chats; the first
    message to arrive moves it, the second finds nothing left to move)."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await follow_migration(
            context.bot, context.deps, message.chat.id, message.migrate_to_chat_id
        )
    elif message.migrate_from_chat_id:
        await follow_migration(
            context.bot, context.deps, message.migrate_from_chat_id, message.chat.id
        )


async def membership(update: Update, context: BotContext) -> None:
    """The bot was blocked, removed, or added back: alerts stop or resume."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    active = status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    stores = context.deps.stores
    chats = stores.chats
    if await stores.run(chats.get, change.chat.id) is None:
        if not active:
            return
        title = change.chat.title or change.chat.username
        await stores.run(chats.seen, change.chat.id, change.chat.type, title)
    await stores.run(chats.set_active, change.chat.id, active)
    log.info("chat %s is now %s", change.chat.id, "active" if active else "inactive")
