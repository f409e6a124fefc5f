"""Who may use the bot, and who may change things in a group: one decorator for each."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.services import services

log = logging.getLogger(__name__)

ADMINS_ONLY_ANSWER = "Only group administrators can do this here."

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]


def authorized(handler: Handler) -> Handler:
    """Run the handler for allowed chats only; others get one polite refusal, logged."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        chat = update.effective_chat
        if chat is None:
            return None
        core = services(context)
        allowed = core.settings.allowed_chats
        if allowed and chat.id not in allowed:
            first = await core.stores.run(
                core.stores.chats.first_refusal, chat.id, chat.type, chat.title
            )
            log.warning("refused chat %s (%s)%s", chat.id, chat.type, "" if first else ", again")
            if update.callback_query is not None:
                await update.callback_query.answer()
            if first and update.effective_message is not None:
                await update.effective_message.reply_text(texts.REFUSAL)
            return None
        await core.stores.run(core.stores.chats.seen, chat.id, chat.type,
                              chat.title or chat.username)  # fmt: skip
        return await handler(update, context)

    return guarded


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In a group, only its administrators change subscriptions and settings."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous administrator
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("could not check the rights of %s in %s: %s", user.id, chat.id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def is_admin_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.id in services(context).settings.admin_chats
