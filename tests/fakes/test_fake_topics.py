"""Forum topics in the fake Telegram Bot API, driven by the real python-telegram-bot client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot
from telegram.error import BadRequest

from tests.fakes.telegram import FakeTelegram, png_bytes

FORUM = -1001555000111


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url) as client:
        yield client


async def test_a_message_in_a_topic_carries_its_thread_and_the_topic_creation(
    tg: FakeTelegram, bot: Bot
) -> None:
    thread = tg.create_topic(FORUM, "BTC signals")
    tg.user_sends(FORUM, "/map BTC", thread_id=thread)
    tg.user_sends(FORUM, "/map ETH")  # the General topic
    created, in_topic, in_general = await bot.get_updates()
    assert created.message.forum_topic_created.name == "BTC signals"
    assert created.message.message_thread_id == thread == created.message.message_id
    assert created.effective_chat.is_forum
    assert in_topic.message.message_thread_id == thread
    assert in_topic.message.is_topic_message
    assert in_topic.message.reply_to_message.forum_topic_created.name == "BTC signals"
    assert in_general.message.message_thread_id is None
    assert not in_general.message.is_topic_message


async def test_replies_and_sends_land_in_the_topic(tg: FakeTelegram, bot: Bot) -> None:
    thread = tg.create_topic(FORUM, "ETH")
    tg.user_sends(FORUM, "/help", thread_id=thread)
    _, update = await bot.get_updates()
    # python-telegram-bot's reply_* set message_thread_id for a topic message
    reply = await update.message.reply_text("in the topic")
    assert reply.message_thread_id == thread and reply.is_topic_message
    photo = await bot.send_photo(FORUM, png_bytes(), message_thread_id=thread)
    assert photo.message_thread_id == thread
    general = await bot.send_message(FORUM, "to General")
    assert general.message_thread_id is None and not general.is_topic_message
    assert [s["message_thread_id"] for s in tg.sent(FORUM)] == [thread, thread, None]
    assert tg.sent(FORUM)[0]["params"]["message_thread_id"] == thread


async def test_closed_deleted_and_unknown_topics_are_refused_as_telegram_does(
    tg: FakeTelegram, bot: Bot
) -> None:
    thread = tg.create_topic(FORUM, "SOL")
    tg.close_topic(FORUM, thread)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_message(FORUM, "alert", message_thread_id=thread)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_photo(FORUM, png_bytes(), message_thread_id=thread)
    tg.reopen_topic(FORUM, thread)
    await bot.send_message(FORUM, "alert", message_thread_id=thread)
    tg.delete_topic(FORUM, thread)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "alert", message_thread_id=thread)
    # the General topic takes no thread id: 1 is refused (python-telegram-bot#4739)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "alert", message_thread_id=1)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "alert", message_thread_id=999)
    await bot.send_message(FORUM, "General still works")
    refused = [c["description"] for c in tg.calls if not c["ok"]]
    assert refused == [
        "Bad Request: TOPIC_CLOSED",
        "Bad Request: TOPIC_CLOSED",
        *["Bad Request: message thread not found"] * 3,
    ]


async def test_deleting_a_topic_deletes_its_messages(tg: FakeTelegram, bot: Bot) -> None:
    thread = tg.create_topic(FORUM, "XRP")
    sent = await bot.send_message(FORUM, "alert", message_thread_id=thread)
    tg.delete_topic(FORUM, thread)
    assert tg.sent(FORUM)[0]["deleted"]
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("edited", chat_id=FORUM, message_id=sent.message_id)


async def test_chat_actions_record_their_thread(tg: FakeTelegram, bot: Bot) -> None:
    thread = tg.create_topic(FORUM, "DOGE")
    await bot.send_chat_action(FORUM, "typing", message_thread_id=thread)
    await bot.send_chat_action(FORUM, "typing")
    assert tg.chat_action_threads(FORUM) == [thread, None]


async def test_a_closed_general_topic_refuses_sends_without_a_thread(
    tg: FakeTelegram, bot: Bot
) -> None:
    thread = tg.create_topic(FORUM, "open")
    tg.close_general(FORUM)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_message(FORUM, "to General")
    await bot.send_message(FORUM, "into the topic", message_thread_id=thread)
    tg.close_general(FORUM, closed=False)
    await bot.send_message(FORUM, "to General")
