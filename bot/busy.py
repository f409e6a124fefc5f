"""While the bot computes for a chat: what the chat sees (a chat action) and what it costs
(one of the chat's, the speaker's and the service's map budgets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.deps import BotDeps
from bot.texts.common import service_busy, try_later
from bot.updates import chat_of, speaker_of
from liqmap.errors import LimitReached

log = logging.getLogger(__name__)

ACTION_EVERY_S = 4.5
"""Telegram shows a chat action for about five seconds: renew it while computing."""


@contextlib.asynccontextmanager
async def showing(
    bot: Bot, chat_id: int, action: str, thread_id: int | None = None
) -> AsyncIterator[None]:
    """Keep the chat's action (e.g. 'uploading photo') on until the block ends, in forum
    topic ``thread_id`` (None: General)."""

    async def keep_showing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, action, message_thread_id=thread_id)
            except TelegramError as exc:
                log.debug("chat action failed: %s", exc)
            await asyncio.sleep(ACTION_EVERY_S)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def charge(update: Update, deps: BotDeps) -> None:
    """Take one new map from the chat's, the speaker's (``speaker_of``: the user, or the chat
    a message speaks for) and the service's budget; past one, ``LimitReached`` says when to
    try again."""
    keys = [f"chat:{chat_of(update).id}"]
    speaker = speaker_of(update)
    if speaker is not None and speaker.key not in keys:
        keys.append(speaker.key)
    await charge_keys(deps, keys)


async def charge_keys(deps: BotDeps, keys: list[str]) -> None:
    """Take one new map from the budgets of ``keys`` and the service's; past one,
    ``LimitReached`` says when to try again."""
    refusal = await deps.budgets.take(keys)
    if refusal is not None:
        text = service_busy if refusal.service else try_later
        raise LimitReached(text(refusal.seconds))
