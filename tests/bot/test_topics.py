"""Where an update's topic comes from (never from button data), and Telegram's refusals of a
message to a topic that is gone, as the alert sender reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ExtBot

from bot.alert_sender import TelegramAlertSender
from bot.texts.topics import topic_label
from bot.topics import topic_name, topic_of
from jobs.scheduled.delivery import DeliveryRejected, TopicGone
from liqmap.signals.digest import Digest
from storage.topics import CLOSED, DELETED, Topic
from tests.fakes.telegram import FakeTelegram, api_error, parse_formatted

FORUM = -1_001_700_000_002
USER = {"id": 5, "is_bot": False, "first_name": "Ann"}
CHAT = {"id": FORUM, "type": "supergroup", "title": "traders", "is_forum": True}


def press_on(message: dict, data: str) -> Update:
    query = {"id": "1", "from": USER, "chat_instance": "7", "data": data, "message": message}
    return Update.de_json({"update_id": 1, "callback_query": query}, None)


def bot_message(**thread: object) -> dict:
    return {"message_id": 40, "date": 0, "chat": CHAT, "text": "map", **thread}


@given(data=st.text(max_size=64), thread=st.integers(1, 2**31 - 1), other=st.integers())
def test_a_press_is_in_the_topic_of_the_message_it_is_on_whatever_its_data(
    data: str, thread: int, other: int
) -> None:
    in_topic = bot_message(message_thread_id=thread, is_topic_message=True)
    for forged in (data, f"{data}|{other}", f"s|7d|okx:BTC-USDT-SWAP|thread={other}"):
        assert topic_of(press_on(in_topic, forged)) == thread
        assert topic_of(press_on(bot_message(), forged)) is None


def test_a_reply_thread_outside_a_forum_is_no_topic() -> None:
    """A reply chain in a plain supergroup carries ``message_thread_id`` without
    ``is_topic_message``; sending to it would fail (grammyjs/auto-thread#3)."""
    reply = bot_message(message_thread_id=12)
    assert topic_of(press_on(reply, "x")) is None


def test_the_topic_name_comes_from_the_creation_message_it_replies_to() -> None:
    created = bot_message(message_id=12, forum_topic_created={"name": "BTC", "icon_color": 7322096})
    message = bot_message(message_thread_id=12, is_topic_message=True, reply_to_message=created)
    update = Update.de_json({"update_id": 2, "message": message}, None)
    assert (topic_of(update), topic_name(update)) == (12, "BTC")
    assert topic_name(Update.de_json({"update_id": 3, "message": bot_message()}, None)) is None


@pytest.fixture
async def sender(tg: FakeTelegram) -> AsyncIterator[TelegramAlertSender]:
    async with ExtBot(tg.token, base_url=tg.base_url) as bot:
        yield TelegramAlertSender(bot)


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        ("Bad Request: TOPIC_CLOSED", CLOSED),
        ("Bad Request: message thread not found", DELETED),
        ("Bad Request: TOPIC_DELETED", DELETED),
    ],
)
async def test_refusals_of_a_topic_that_is_gone_are_told_apart(
    tg: FakeTelegram, sender: TelegramAlertSender, description: str, reason: str
) -> None:
    tg.inject(api_error(400, description), path=tg.path("sendMessage"))
    digest = Digest(0, "UTC", (), (), 0, False)
    with pytest.raises(TopicGone) as gone:
        await sender.send(FORUM, digest, None, 7)
    assert gone.value.reason == reason


async def test_other_refusals_stay_refusals(tg: FakeTelegram, sender: TelegramAlertSender) -> None:
    tg.inject(api_error(400, "Bad Request: chat not found"), path=tg.path("sendMessage"))
    with pytest.raises(DeliveryRejected):
        await sender.send(FORUM, Digest(0, "UTC", (), (), 0, False), None, 7)


@given(name=st.text(max_size=128), thread=st.integers(2, 2**31 - 1))
def test_any_topic_name_is_shown_as_written_in_valid_telegram_html(name: str, thread: int) -> None:
    for gone in (None, CLOSED, DELETED):
        label = topic_label(thread, {thread: Topic(thread, name, gone)})
        plain, _ = parse_formatted(label, "HTML")  # raises where Telegram would refuse it
        assert (f"“{name}”" if name else f"#{thread}") in plain


def test_topic_labels() -> None:
    topics = {12: Topic(12, "BTC signals", None), 13: Topic(13, None, DELETED)}
    assert topic_label(None, topics) == "in the General topic"
    assert topic_label(12, topics) == "in topic “BTC signals”"
    assert topic_label(14, topics) == "in topic #14", "a topic whose name the bot never saw"
    assert topic_label(13, topics) == "topic #13 deleted: alerts go to the General topic"
