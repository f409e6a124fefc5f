"""What a handler's registration guarantees is narrowed by name, or fails loudly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User

from bot.updates import UnexpectedUpdate, chat_of, message_of, query_of

CHAT = Chat(1001, Chat.PRIVATE)
USER = User(1001, "Ann", is_bot=False)
MESSAGE = Message(7, datetime(2026, 1, 1, tzinfo=UTC), CHAT, from_user=USER, text="/map BTC")


def test_a_command_update_gives_its_message_and_chat() -> None:
    update = Update(1, message=MESSAGE)
    assert message_of(update) is MESSAGE
    assert chat_of(update) is CHAT


def test_a_button_press_gives_its_query_the_message_it_is_on_and_that_chat() -> None:
    query = CallbackQuery("q1", USER, "instance", message=MESSAGE, data="w|7d|okx:BTC")
    update = Update(2, callback_query=query)
    assert query_of(update) is query
    assert message_of(update) is MESSAGE
    assert chat_of(update) is CHAT


def test_what_an_update_lacks_fails_by_name() -> None:
    inline = Update(3, callback_query=CallbackQuery("q2", USER, "instance", data="w|7d|okx:BTC"))
    with pytest.raises(UnexpectedUpdate, match="update 3 carries no message"):
        message_of(inline)
    with pytest.raises(UnexpectedUpdate, match="update 3 comes from no chat"):
        chat_of(inline)
    with pytest.raises(UnexpectedUpdate, match="update 4 carries no button press"):
        query_of(Update(4, message=MESSAGE))
