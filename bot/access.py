"""The one gate every command and button passes, as freqtrade's ``authorized_only``.

It applies the access rule, keeps a group's answers within their share of the group's
minute, notes the chat, claims the chat's turn at the exchanges, and turns known errors into
short replies (a pop-up for a button). Unexpected errors go on to
``bot.handlers.errors.on_error``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.texts.common import (
    ANSWER_LIMIT,
    REFUSAL,
    SLOW_DOWN,
    TEXT_LIMIT,
    exchange_down,
    problem,
)
from bot.texts.html import clip_html, plain
from bot.topics import topic_of
from bot.updates import speaker_of
from liqmap.errors import ExchangeError, LiqmapError
from liqmap.policies.group_budget import Verdict
from liqmap.policies.request_gate import CLAIM, Claim, Urgency

log = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
"""A handler callback as python-telegram-bot calls it."""


def authorized(handler: Handler) -> Handler:
    """Run the handler for allowed chats only (others get one polite refusal, logged);
    exchange errors and other known errors become short replies."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        deps = context.deps
        stores = deps.stores
        if not deps.settings.access.allows(chat.id):
            first = await stores.run(stores.chats.first_refusal, chat.id, chat.type, chat.title)
            log.warning("refused chat %s (%s)%s", chat.id, chat.type, "" if first else ", again")
            if update.callback_query is not None:
                await update.callback_query.answer()
            if first and update.effective_message is not None:
                await update.effective_message.reply_text(REFUSAL)
            return
        CLAIM.set(Claim(Urgency.ON_DEMAND, f"chat:{chat.id}"))
        if chat.type != ChatType.PRIVATE and not await _within_share(update, context, chat.id):
            return
        await stores.run(stores.chats.seen, chat.id, chat.type, chat.title or chat.username)
        try:
            await handler(update, context)
        except ExchangeError as exc:
            await tell(update, context, exchange_down(exc))
        except LiqmapError as exc:
            await tell(update, context, problem(str(exc)))

    return guarded


async def _within_share(update: Update, context: BotContext, chat_id: int) -> bool:
    """Whether a group's command (or button) is answered: not the same one again within
    seconds, and within the answers' share of the group's minute, past which one notice goes
    out. What is not answered is counted (``GroupBudget.verdicts``) and logged."""
    deps = context.deps
    asked = _asked(update)
    verdict = deps.group_budget.ask(chat_id, asked, deps.clock())
    if verdict is Verdict.ANSWER:
        return True
    log.debug("group %s: %r not answered (%s)", chat_id, asked, verdict.value)
    if verdict is Verdict.SLOW_DOWN:
        log.info("group %s: past its share of answers this minute; slowing down", chat_id)
        await tell(update, context, SLOW_DOWN)
    elif update.callback_query is not None:
        await update.callback_query.answer()
    return False


def _asked(update: Update) -> str:
    """Who asked what: the same user sending the same command (or pressing the same button)
    again asks the same; the same command in another forum topic is another question (its
    answer goes there)."""
    user = update.effective_user.id if update.effective_user is not None else 0
    if update.callback_query is not None:
        return f"{user} button {update.callback_query.data}"
    message = update.effective_message
    words = (message.text or "").split() if message is not None else []
    if words:
        words[0] = words[0].partition("@")[0].lower()  # /HELP@bot is /help
    thread = topic_of(update)
    where = [] if thread is None else [f"topic:{thread}"]
    return " ".join([str(user), *where, *words])


async def tell(update: Update, context: BotContext, text: str) -> None:
    """A short answer: a pop-up on a button press (a message if it was already answered),
    else a reply."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(plain(text, ANSWER_LIMIT), show_alert=True)
            return
        except BadRequest as exc:
            log.debug("could not answer the button press (%s); writing instead", exc)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, clip_html(text, TEXT_LIMIT), message_thread_id=topic_of(update)
        )


async def may_change(update: Update, context: BotContext) -> bool:
    """In a group, only its administrators change subscriptions and settings."""
    chat, speaker = update.effective_chat, speaker_of(update)
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if speaker is None:
        return False
    if speaker.is_chat:
        return speaker.id == chat.id  # an anonymous administrator speaks for the group itself
    return await _group_admin(context, chat.id, speaker.id)


async def is_admin(update: Update, context: BotContext) -> bool:
    """Admin commands: an admin chat (``LIQMAP_ADMIN_CHATS``), and in a group only its
    administrators (an anonymous one speaks for the group); checked for the speaker, not only
    the chat."""
    chat, speaker = update.effective_chat, speaker_of(update)
    if chat is None or speaker is None or not context.deps.settings.access.is_admin_chat(chat.id):
        return False
    if chat.type == ChatType.PRIVATE or speaker.is_chat:
        return speaker.id == chat.id
    return await _group_admin(context, chat.id, speaker.id)


async def _group_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("could not check the rights of %s in %s: %s", user_id, chat_id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
