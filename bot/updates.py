"""What a handler's registration guarantees its update carries, narrowed in one place.

A command or message handler always gets a message, a button handler a callback query, and
every handler behind ``bot.access.authorized`` a chat. An update without one is a wiring
mistake: it fails here, loudly and by name, instead of as an attribute of None.
"""

from __future__ import annotations

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
