"""Handlers reach the bot's core as ``context.deps``, handed over once the bot is built."""

from __future__ import annotations

import pytest

from bot.context import BotData
from bot.deps import BotDeps


def test_bot_data_without_its_deps_says_how_to_build_the_bot() -> None:
    with pytest.raises(RuntimeError, match=r"never handed over: .*build_application"):
        _ = BotData().deps


def test_bot_data_gives_back_the_deps_handed_over(core: BotDeps) -> None:
    data = BotData()
    data.deps = core
    assert data.deps is core
