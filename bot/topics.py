"""Forum topics: which one an update happens in, read only from Telegram's message.

A topic is never taken from what a user or a button's data says: for a command it is the
message's topic, for a button press the topic of the message the button is on. Forged
callback data therefore cannot point a subscription at another topic.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.context import BotContext
from bot.updates import chat_of


def topic_of(update: Update) -> int | None:
    """The forum topic the update happens in; None for the General topic and chats without
    topics. A reply chain in a plain supergroup has a ``message_thread_id`` too, but only
    ``is_topic_message`` makes it a topic (python-telegram-bot's
    ``Message._parse_message_thread_id``; grammyjs/auto-thread#3: sending to such a thread
    fails with "message thread not found")."""
    message = update.effective_message
    if not isinstance(message, Message) or not message.is_topic_message:
        return None
    return message.message_thread_id


def topic_name(update: Update) -> str | None:
    """The topic's name where the update shows it: a topic's creation or renaming message, or
    a message in a topic, which replies to its creation message (Telegram sends the name
    nowhere else, tdlib/telegram-bot-api#356)."""
    message = update.effective_message
    if not isinstance(message, Message):
        return None
    for shown in (message, message.reply_to_message):
        if shown is None:
            continue
        if shown.forum_topic_created is not None:
            return shown.forum_topic_created.name
        if shown.forum_topic_edited is not None and shown.forum_topic_edited.name:
            return shown.forum_topic_edited.name
    return None


async def settle_topic(update: Update, context: BotContext) -> int | None:
    """The topic a command that sets where alerts go came from (None: General): its name is
    learnt, and since a command came from it, it takes messages again if it was marked gone."""
    thread_id = topic_of(update)
    if thread_id is None:
        return None
    stores, chat_id = context.deps.stores, chat_of(update).id
    name = topic_name(update)
    if name is not None:
        await stores.run(stores.topics.named, chat_id, thread_id, name)
    await stores.run(stores.topics.alive, chat_id, thread_id)
    return thread_id


async def topic_named(update: Update, context: BotContext) -> None:
    """A topic was created or renamed in a chat the bot serves: remember its name for /list."""
    chat, thread_id, name = update.effective_chat, topic_of(update), topic_name(update)
    if chat is None or thread_id is None or name is None:
        return
    if not context.deps.settings.access.allows(chat.id):
        return
    stores = context.deps.stores
    await stores.run(stores.topics.named, chat.id, thread_id, name)
