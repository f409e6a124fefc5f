"""What a handler's registration guarantees its update carries, narrowed in one place.

A command or message handler always gets a message, a button handler a callback query, and
every handler behind ``bot.access.authorized`` a chat. An update without one is a wiring
mistake: it fails here, loudly and by name, instead of as an attribute of None.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Chat, Message, Update


class UnexpectedUpdate(RuntimeError):
    """An update without what its handler's registration guarantees."""


def message_of(update: Update) -> Message:
    """The message a command or message handler answers (for a button: the one it is on)."""
    if update.effective_message is None:
        raise UnexpectedUpdate(f"update {update.update_id} carries no message to answer")
    return update.effective_message


def query_of(update: Update) -> CallbackQuery:
    """The button press a callback query handler answers."""
    if update.callback_query is None:
        raise UnexpectedUpdate(f"update {update.update_id} carries no button press")
    return update.callback_query


def chat_of(update: Update) -> Chat:
    """The chat an authorized handler answers (``authorized`` lets no update without one in)."""
    if update.effective_chat is None:
        raise UnexpectedUpdate(f"update {update.update_id} comes from no chat")
    return update.effective_chat


@dataclass(frozen=True)
class Speaker:
    """Who acts in an update: a user, or the chat a message was sent on behalf of."""

    id: int
    is_chat: bool

    @property
    def key(self) -> str:
        """The budget it is charged to (``bot.busy.charge``): ``user:ID`` or ``chat:ID``."""
        return f"{'chat' if self.is_chat else 'user'}:{self.id}"


def speaker_of(update: Update) -> Speaker | None:
    """The one identity of whoever acts: for budgets and for who may change a group's state.

    Bot API, Message.sender_chat: "Sender of the message when sent on behalf of a chat. For
    example, the supergroup itself for messages sent by its anonymous administrators or a
    linked channel for messages automatically forwarded to the channel's discussion group.
    For backward compatibility, if the message was sent on behalf of a chat, the field from
    contains a fake sender user in non-channel chats." That fake user is the same everywhere
    (GroupAnonymousBot, 1087968824, for anonymous administrators; Channel_Bot, 136817688, for
    users posting as a channel), so such a message speaks for its ``sender_chat``. A button
    press names its real user; the message it is on is the bot's own, never the speaker.
    """
    message = update.message
    if message is not None and message.sender_chat is not None:
        return Speaker(message.sender_chat.id, is_chat=True)
    user = update.effective_user
    return None if user is None else Speaker(user.id, is_chat=False)
