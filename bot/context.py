"""The ``context`` every handler gets: python-telegram-bot's ``CallbackContext`` with a typed
``bot_data`` that holds the bot's dependencies (as PTB's ``examples/contexttypesbot.py``)."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.deps import BotDeps


class BotData:
    """``application.bot_data``: the bot's dependencies, handed over once the Application is
    built (python-telegram-bot makes ``bot_data`` without arguments)."""

    def __init__(self) -> None:
        self._deps: BotDeps | None = None

    @property
    def deps(self) -> BotDeps:
        if self._deps is None:
            raise RuntimeError(
                "the bot's dependencies were never handed over: build the bot with "
                "bot.app.build_application"
            )
        return self._deps

    @deps.setter
    def deps(self, deps: BotDeps) -> None:
        self._deps = deps


class BotContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]):
    """What every handler and the error handler get as ``context``; ``deps`` is the core.

    ``ExtBot[int]``: the bot behind ``bot.rate_limit.FairRateLimiter``, whose per-call argument
    is an int; chats' and users' data are PTB's plain dicts (unused)."""

    @property
    def deps(self) -> BotDeps:
        return self.bot_data.deps


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
"""Given to the ``ApplicationBuilder``: every callback gets a ``BotContext``."""
