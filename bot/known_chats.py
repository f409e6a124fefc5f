"""The stored record of a chat the bot answers: its settings and time zone.

``bot.access.authorized`` stores every chat it lets through before the handler runs, so an
authorized handler's chat is always there; a missing one fails loudly.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

from bot.deps import BotDeps
from storage.chats import Chat


async def known_chat(deps: BotDeps, chat_id: int) -> Chat:
    """The record of the chat an authorized handler answers."""
    chat = await deps.stores.run(deps.stores.chats.get, chat_id)
    if chat is None:
        raise LookupError(
            f"chat {chat_id} is not stored, though bot.access.authorized stores every chat "
            "it lets through"
        )
    return chat


async def chat_zone(deps: BotDeps, chat_id: int) -> tzinfo:
    """The time zone a chat's times are shown in (UTC for a chat not seen yet)."""
    chat = await deps.stores.run(deps.stores.chats.get, chat_id)
    return chat.settings.zone if chat is not None else UTC
