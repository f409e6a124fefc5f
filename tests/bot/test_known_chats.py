"""A handler's chat as the store knows it: its settings and time zone."""

from __future__ import annotations

import pytest

from bot.deps import BotDeps
from bot.known_chats import chat_zone, known_chat
from liqmap.signals.chat_settings import ChatSettings


async def test_a_handlers_chat_is_read_from_the_store(core: BotDeps) -> None:
    stores = core.stores
    await stores.run(stores.chats.seen, 1001, "private", "ann")
    await stores.run(stores.chats.save_settings, 1001, ChatSettings(tz="Europe/Berlin"))
    assert (await known_chat(core, 1001)).settings.tz == "Europe/Berlin"
    assert str(await chat_zone(core, 1001)) == "Europe/Berlin"


async def test_a_chat_never_stored_fails_by_name_and_shows_utc(core: BotDeps) -> None:
    with pytest.raises(LookupError, match="chat 4242 is not stored"):
        await known_chat(core, 4242)
    assert str(await chat_zone(core, 4242)) == "UTC"
