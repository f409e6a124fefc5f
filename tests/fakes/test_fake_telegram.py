"""The fake Telegram Bot API, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    InputMediaPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, api_error, png_bytes

PRIVATE = 1001
GROUP = -4001
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Refresh", callback_data="refresh:BTC")]])


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url) as client:
        yield client


@asynccontextmanager
async def running(
    fake: FakeTelegram, *handlers: BaseHandler, poll: bool = True
) -> AsyncIterator[Application]:
    """A real Application against the fake, driven by hand like a test must."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    if poll:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()
        await app.shutdown()


# -- identity and commands -----------------------------------------------------------------------


async def test_get_me_and_commands(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "liqmap_test_bot"
    assert me.id == 123456
    assert me.is_bot
    assert me.can_join_groups

    assert await bot.set_my_commands([("ping", "Check the bot"), ("map", "Liquidation map")])
    assert await bot.set_my_commands(
        [BotCommand("admin", "Group settings")], scope=BotCommandScopeAllGroupChats()
    )
    commands = await bot.get_my_commands()
    assert [(c.command, c.description) for c in commands] == [
        ("ping", "Check the bot"),
        ("map", "Liquidation map"),
    ]
    group = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in group] == ["admin"]
    assert tg.commands()[0] == {"command": "ping", "description": "Check the bot"}
    assert tg.commands({"type": "all_group_chats"}) == [
        {"command": "admin", "description": "Group settings"}
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Name", "x")])


async def test_wrong_token_and_unknown_method(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong-token", base_url=tg.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert tg.calls_of("noSuchMethod")[0]["status"] == 404
    assert all(c["method"] != "getMe" or c["ok"] for c in tg.calls)


# -- updates and commands through a real Application ---------------------------------------------


async def test_ping_command_private_group_and_other_bot(tg: FakeTelegram) -> None:
    seen: list[int] = []

    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        await update.effective_message.reply_text(f"pong {len(context.args)}")

    async with running(tg, CommandHandler("ping", ping)):
        first = tg.user_sends(PRIVATE, "/ping")
        sent = await tg.wait_for_sent(PRIVATE)
        assert sent[0]["text"] == "pong 0"

        tg.user_sends(GROUP, "/ping@liqmap_test_bot BTC", chat_type="group", title="Traders")
        tg.user_sends(GROUP, "/ping@otherbot")
        tg.user_sends(GROUP, "ping without a slash")
        tg.user_sends(GROUP, "/ping@LIQMAP_TEST_BOT")  # bot names match case-insensitively
        sent = await tg.wait_for_sent(GROUP, count=2)
        assert [s["text"] for s in sent] == ["pong 1", "pong 0"]
        last = tg.user_sends(PRIVATE, "/ping again")
        await tg.wait_for_sent(PRIVATE, count=2)

    assert len(seen) == len(set(seen)) == 4
    assert seen[0] == first
    assert seen[-1] == last
    assert tg.pending_updates == 0  # the updater's shutdown call confirmed the last offset
    assert all(tg.deliveries(u) == 1 for u in range(first, last + 1))
    assert len(tg.sent(GROUP)) == 2
    reply = tg.sent(GROUP)[0]
    assert reply["reply_to_message_id"] is not None  # reply_text quotes in groups
    assert tg.message(GROUP, reply["message_id"])["chat"]["title"] == "Traders"


async def test_get_updates_long_poll_offset_and_limit(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3.0

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    first = tg.user_sends(PRIVATE, "hello")
    updates = await poll
    assert time.monotonic() - started < 1.0  # woken by the queued update, not by the timeout
    assert [u.update_id for u in updates] == [first]
    assert updates[0].message.text == "hello"
    assert updates[0].message.from_user.id == PRIVATE
    assert not updates[0].message.entities

    second = tg.user_sends(PRIVATE, "two")
    third = tg.user_sends(PRIVATE, "three")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first, second, third]
    assert [u.update_id for u in await bot.get_updates(offset=second, limit=1)] == [second]
    assert [u.update_id for u in await bot.get_updates(offset=third + 1)] == []
    assert tg.pending_updates == 0
    assert tg.deliveries(first) == 2


# -- photos, edits -------------------------------------------------------------------------------


async def test_photo_upload_resend_and_edits(tg: FakeTelegram, bot: Bot) -> None:
    chart = png_bytes(640, 480, seed=1)
    upload = io.BytesIO(chart)
    upload.name = "map.png"
    message = await bot.send_photo(
        PRIVATE, upload, caption="<b>BTC</b> map", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert message.caption == "BTC map"
    assert message.caption_entities[0].type == "bold"
    assert message.reply_markup == KEYBOARD
    largest = message.photo[-1]
    assert (largest.width, largest.height) == (640, 480)
    assert len({p.file_id for p in message.photo}) == len(message.photo) > 1
    stored = tg.sent(PRIVATE)[0]
    assert stored["photo"] == chart
    assert stored["caption"] == "<b>BTC</b> map"
    assert stored["file_id"] == largest.file_id
    assert tg.file_bytes(largest.file_id) == chart
    upload_call = tg.calls_of("sendPhoto")[0]
    assert upload_call["encoding"] == "multipart"
    assert upload_call["files"]["photo"] == chart
    assert upload_call["params"]["reply_markup"] == KEYBOARD.to_dict()

    again = await bot.send_photo(GROUP, largest.file_id, caption="shared")
    assert again.photo[-1].file_id == largest.file_id
    assert tg.sent(GROUP)[0]["photo"] == chart
    assert tg.calls_of("sendPhoto")[1]["encoding"] == "form"
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(GROUP, "no-such-file-id")
    with pytest.raises(BadRequest, match="File must be non-empty"):
        await bot.send_photo(GROUP, io.BytesIO(b""))

    newer = png_bytes(320, 200, seed=2)
    edited = await bot.edit_message_media(
        InputMediaPhoto(io.BytesIO(newer), caption="BTC map, 5 min later"),
        chat_id=PRIVATE,
        message_id=message.message_id,
        reply_markup=KEYBOARD,
    )
    assert edited.caption == "BTC map, 5 min later"
    assert edited.photo[-1].file_id != largest.file_id
    assert edited.edit_date is not None
    media_call = tg.calls_of("editMessageMedia")[0]
    assert media_call["encoding"] == "multipart"
    assert media_call["params"]["media"]["media"].startswith("attach://")
    stored = tg.sent(PRIVATE)[0]
    assert stored["photo"] == newer
    assert [e["method"] for e in stored["edits"]] == ["editMessageMedia"]

    await bot.edit_message_caption(
        PRIVATE, message.message_id, caption="final", reply_markup=KEYBOARD
    )
    assert tg.sent(PRIVATE)[0]["caption"] == "final"
    assert tg.message(PRIVATE, message.message_id)["caption"] == "final"
    with pytest.raises(BadRequest, match="Message is not modified") as exc:
        await bot.edit_message_caption(
            PRIVATE, message.message_id, caption="final", reply_markup=KEYBOARD
        )
    assert "exactly the same" in exc.value.message
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_media(
            InputMediaPhoto(edited.photo[-1].file_id, caption="final"),
            chat_id=PRIVATE,
            message_id=message.message_id,
            reply_markup=KEYBOARD,
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_caption(PRIVATE, 9999, caption="x")


async def test_text_edits_markup_and_delete(tg: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(
        PRIVATE, "BTC 60,000 &lt; price", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert message.text == "BTC 60,000 < price"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "BTC 60,000 &lt; price",
            PRIVATE,
            message.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=KEYBOARD,
        )
    edited = await bot.edit_message_text(
        "BTC 61,000", PRIVATE, message.message_id, reply_markup=KEYBOARD
    )
    assert edited.text == "BTC 61,000"
    assert tg.sent(PRIVATE)[0]["text"] == "BTC 61,000"

    await bot.edit_message_reply_markup(PRIVATE, message.message_id, reply_markup=None)
    assert "reply_markup" not in tg.message(PRIVATE, message.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(PRIVATE, message.message_id)
    with pytest.raises(BadRequest, match="There is no caption"):
        await bot.edit_message_caption(PRIVATE, message.message_id, caption="x")

    await bot.send_chat_action(PRIVATE, "typing")
    assert tg.chat_actions(PRIVATE) == ["typing"]
    assert await bot.delete_message(PRIVATE, message.message_id)
    assert tg.sent(PRIVATE)[0]["deleted"]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(PRIVATE, message.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("gone", PRIVATE, message.message_id)


async def test_markup_is_parsed_like_telegram(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities: can't find end tag"):
        await bot.send_message(PRIVATE, "<b>unclosed", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match='unsupported start tag ""'):
        await bot.send_message(PRIVATE, "price < 5", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
        await bot.send_message(PRIVATE, "price 1.5", parse_mode=ParseMode.MARKDOWN_V2)
    fine = await bot.send_message(PRIVATE, "*price* 1\\.5", parse_mode=ParseMode.MARKDOWN_V2)
    assert fine.text == "price 1.5"
    assert fine.entities[0].type == "bold"
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(PRIVATE, "x" * 4097)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(PRIVATE, io.BytesIO(png_bytes()), caption="x" * 1025)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(PRIVATE, "hi", reply_markup=too_long)
    assert len(tg.sent()) == 1


# -- callback queries ------------------------------------------------------------------------------


async def test_callback_query_reaches_handler_and_is_answered(tg: FakeTelegram) -> None:
    clicked: list[str] = []

    async def on_click(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        clicked.append(query.data)
        await query.answer("Refreshing")
        await query.edit_message_text("BTC refreshed", reply_markup=KEYBOARD)

    async with running(tg, CallbackQueryHandler(on_click)) as app:
        message = await app.bot.send_message(PRIVATE, "BTC", reply_markup=KEYBOARD)
        mark = tg.mark()
        tg.user_clicks(PRIVATE, message.message_id, "refresh:BTC")
        answer = await tg.wait_for("answerCallbackQuery", since=mark)
        await tg.wait_for("editMessageText", since=mark, ok=True)

    assert clicked == ["refresh:BTC"]
    assert answer["ok"]
    assert answer["params"]["text"] == "Refreshing"
    assert tg.callback_answers()[0]["data"] == "refresh:BTC"
    assert tg.sent(PRIVATE)[0]["text"] == "BTC refreshed"
    with pytest.raises(AssertionError, match="no button"):
        tg.user_clicks(PRIVATE, message.message_id, "not-a-button")


async def test_answering_a_query_twice_is_refused(tg: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(PRIVATE, "BTC", reply_markup=KEYBOARD)
    tg.user_clicks(PRIVATE, message.message_id, "refresh:BTC")
    (update,) = await bot.get_updates()
    assert update.callback_query.message.message_id == message.message_id
    assert update.callback_query.message.reply_markup == KEYBOARD
    assert await update.callback_query.answer()
    with pytest.raises(BadRequest, match="Query is too old"):
        await update.callback_query.answer()


# -- inline queries ------------------------------------------------------------------------------


def _article(result_id: str, text: str = "hello") -> InlineQueryResultArticle:
    content = InputTextMessageContent(text, parse_mode=ParseMode.HTML)
    return InlineQueryResultArticle(result_id, "title", content)


async def test_an_inline_query_is_delivered_and_answered(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_photo(PRIVATE, png_bytes())
    query_id = tg.user_inline_query(PRIVATE, "BTC 7d", chat_type="supergroup")
    (update,) = await bot.get_updates()
    inline = update.inline_query
    assert (inline.id, inline.query, inline.offset) == (query_id, "BTC 7d", "")
    assert inline.from_user.id == PRIVATE and inline.chat_type == "supergroup"
    photo = InlineQueryResultCachedPhoto(
        "p1", sent.photo[-1].file_id, caption="<b>BTC</b>", parse_mode=ParseMode.HTML
    )
    button = InlineQueryResultsButton("Open", start_parameter="map_BTC_7d")
    assert await inline.answer([photo], cache_time=60, is_personal=True, button=button)
    answer = tg.inline_answer(query_id)
    assert answer is not None
    (result,) = answer["results"]
    assert result["photo_file_id"] == sent.photo[-1].file_id and result["plain"] == "BTC"
    assert (answer["cache_time"], answer["is_personal"], answer["next_offset"]) == (60, True, "")
    assert answer["button"] == {"text": "Open", "start_parameter": "map_BTC_7d"}
    with pytest.raises(BadRequest, match="Query is too old"):  # answered already
        await inline.answer([])


async def test_an_inline_answer_is_checked_as_the_bot_api_checks_it(
    tg: FakeTelegram, bot: Bot
) -> None:
    query_id = tg.user_inline_query(PRIVATE, "x")
    refusals = [
        ([_article(str(n)) for n in range(51)], {}, "Too many inline query results specified"),
        ([_article("x" * 65)], {}, "Result_id_invalid"),
        ([_article("same"), _article("same")], {}, "Result_id_duplicate"),
        ([_article("a")], {"next_offset": "o" * 65}, "Next_offset_invalid"),
        ([_article("a", "<b>open")], {}, "Can't parse entities"),
        ([InlineQueryResultCachedPhoto("p", "no-such-file")], {}, "Wrong file identifier"),
        ([], {"button": InlineQueryResultsButton("Open", start_parameter="a b")}, "Start_param"),
    ]
    for results, extra, message in refusals:
        with pytest.raises(BadRequest, match=message):
            await bot.answer_inline_query(query_id, results, **extra)
    assert tg.inline_answer(query_id) is None  # a refused answer is no answer
    assert await bot.answer_inline_query(query_id, [_article("a")], cache_time=10**6)
    answer = tg.inline_answer(query_id)
    assert answer is not None and answer["cache_time"] == 86_400  # clamped, as the server does
    assert answer["results"][0]["plain"] == "hello" and answer["is_personal"] is False


async def test_a_stale_or_unknown_inline_query_is_too_old(tg: FakeTelegram, bot: Bot) -> None:
    stale = tg.user_inline_query(PRIVATE, "BTC", expired=True)
    for query_id in (stale, "12345"):
        with pytest.raises(BadRequest) as caught:
            await bot.answer_inline_query(query_id, [])
        assert caught.value.message == (
            "Query is too old and response timeout expired or query id is invalid"
        )


# -- errors --------------------------------------------------------------------------------------


async def test_blocked_user_raises_forbidden(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "hello")
    update_id = tg.block(PRIVATE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PRIVATE, "are you there?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(PRIVATE, "typing")
    (update,) = await bot.get_updates()
    assert update.update_id == update_id
    assert update.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
    assert update.my_chat_member.old_chat_member.status == ChatMemberStatus.MEMBER
    assert len(tg.sent(PRIVATE)) == 1

    tg.user_sends(PRIVATE, "/start")  # writing again unblocks, as in Telegram
    await bot.send_message(PRIVATE, "welcome back")
    assert len(tg.sent(PRIVATE)) == 2


async def test_group_migration_raises_chat_migrated(tg: FakeTelegram, bot: Bot) -> None:
    new_id = -1001234567890
    tg.migrate_group(GROUP, new_id)
    with pytest.raises(ChatMigrated) as exc:
        await bot.send_message(GROUP, "alert")
    assert exc.value.new_chat_id == new_id
    old, new = await bot.get_updates()
    assert old.message.migrate_to_chat_id == new_id
    assert new.message.migrate_from_chat_id == GROUP
    assert new.effective_chat.type == "supergroup"
    await bot.send_message(new_id, "alert")
    assert [s["chat_id"] for s in tg.sent()] == [new_id]


async def test_rate_limit_is_retried_by_aio_rate_limiter(tg: FakeTelegram) -> None:
    async with running(tg, poll=False) as app:
        tg.rate_limit(1, retry_after=1, method="sendMessage")
        started = time.monotonic()
        await app.bot.send_message(PRIVATE, "delivered once")
        waited = time.monotonic() - started
    assert waited >= 1.0
    assert tg.call_count("sendMessage", ok=True) == 1
    assert tg.call_count("sendMessage", ok=False) == 1
    assert tg.calls_of("sendMessage")[0]["status"] == 429
    assert [s["text"] for s in tg.sent(PRIVATE)] == ["delivered once"]
    assert tg.throttled == 1


async def test_rate_limit_without_limiter_and_throughput_cap() -> None:
    with FakeTelegram(max_per_second=5) as capped:
        async with Bot(capped.token, base_url=capped.base_url) as client:
            capped.rate_limit(1, retry_after=3)
            with pytest.raises(RetryAfter) as exc:
                await client.send_message(PRIVATE, "x")
            assert exc.value.retry_after == dtm.timedelta(seconds=3)
            results = await asyncio.gather(
                *(client.send_message(PRIVATE, str(i)) for i in range(8)),
                return_exceptions=True,
            )
    refused = [r for r in results if isinstance(r, RetryAfter)]
    assert len(refused) == 3
    assert len(capped.sent(PRIVATE)) == 5


async def test_a_group_gets_20_messages_a_rolling_minute_then_429_with_retry_after() -> None:
    """Bots FAQ: no more than 20 messages a minute to the same group (tests/fakes/group_limit)."""
    clock = Clock()
    with FakeTelegram(clock=lambda: clock() / 1000) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as client:
            for n in range(20):
                await client.send_message(GROUP, f"m{n}")
                await client.send_chat_action(GROUP, "typing")  # not a message
                clock.advance(1_000)
            with pytest.raises(RetryAfter) as exc:
                await client.send_photo(GROUP, png_bytes())
            assert exc.value.retry_after == dtm.timedelta(seconds=40)
            (refused,) = fake.calls_of("sendPhoto", ok=False)
            assert refused["status"] == 429
            assert refused["description"] == "Too Many Requests: retry after 40"
            for n in range(25):
                await client.send_message(PRIVATE, f"p{n}")  # private chats are not groups
            clock.advance(40_000)
            await client.send_message(GROUP, "the first left the minute")
            with pytest.raises(RetryAfter):
                await client.send_message(GROUP, "but only the first")
            fake.group_per_minute = None
            await client.send_message(GROUP, "no limit")
    assert len(fake.sent(GROUP)) == 22
    assert fake.throttled == 2


async def test_server_errors_raise_network_error(tg: FakeTelegram, bot: Bot) -> None:
    tg.inject(api_error(502, "Bad Gateway"), tg.path("sendMessage"))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(PRIVATE, "x")
    tg.inject(Fault(status=500, body="oops"), tg.path("sendMessage"))
    with pytest.raises(NetworkError):
        await bot.send_message(PRIVATE, "x")
    await bot.send_message(PRIVATE, "after the outage")
    assert [s["text"] for s in tg.sent(PRIVATE)] == ["after the outage"]
    assert tg.count(tg.path("sendMessage")) == 3


async def test_a_held_answer_comes_late_or_never_but_the_message_is_in_the_chat(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.hold_answers(30.0, when=lambda record: record["text"] == "late", times=1)
    late = asyncio.create_task(bot.send_message(PRIVATE, "late", read_timeout=20))
    await tg.wait_for_sent(PRIVATE, 1)
    assert tg.held == 1 and not late.done()
    await bot.send_message(PRIVATE, "not held")
    tg.release_answers()
    assert (await late).text == "late"
    tg.hold_answers(30.0)
    with pytest.raises(TimedOut):
        await bot.send_message(PRIVATE, "lost", read_timeout=0.2)
    tg.release_answers()
    assert [s["text"] for s in tg.sent(PRIVATE)] == ["late", "not held", "lost"]


# -- encodings, members, logging, waiting ----------------------------------------------------------


async def test_form_and_multipart_parameters_decode(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "123", reply_markup=KEYBOARD, disable_notification=True)
    await bot.send_photo(GROUP, io.BytesIO(png_bytes()), caption="42", reply_markup=KEYBOARD)
    form, multipart = tg.calls_of("sendMessage")[0], tg.calls_of("sendPhoto")[0]
    assert form["encoding"] == "form"
    assert multipart["encoding"] == "multipart"
    assert form["params"] == {
        "chat_id": PRIVATE,
        "text": "123",
        "reply_markup": KEYBOARD.to_dict(),
        "disable_notification": True,
    }
    assert multipart["params"]["chat_id"] == GROUP
    assert multipart["params"]["caption"] == "42"
    assert multipart["params"]["reply_markup"] == KEYBOARD.to_dict()
    assert tg.sent(PRIVATE)[0]["disable_notification"] is True
    assert tg.sent(GROUP)[0]["disable_notification"] is False
    assert tg.seen(tg.path("sendPhoto"))[0].headers["content-type"].startswith("multipart/")


async def test_chat_members_admins_and_chat() -> None:
    with FakeTelegram(chat_admins={GROUP: [7, 8]}) as fake:
        fake.user_sends(GROUP, "hi", user_id=9, title="Desk")
        async with Bot(fake.token, base_url=fake.base_url) as client:
            owner = await client.get_chat_member(GROUP, 7)
            admin = await client.get_chat_member(GROUP, 8)
            member = await client.get_chat_member(GROUP, 9)
            fake.set_member_status(GROUP, 9, "restricted")
            restricted = await client.get_chat_member(GROUP, 9)
            fake.set_member_status(GROUP, 9, "kicked")
            kicked = await client.get_chat_member(GROUP, 9)
            admins = await client.get_chat_administrators(GROUP)
            chat = await client.get_chat(GROUP)
            with pytest.raises(BadRequest, match="no administrators in the private chat"):
                await client.get_chat_administrators(PRIVATE)
    assert owner.status == ChatMemberStatus.OWNER
    assert admin.status == ChatMemberStatus.ADMINISTRATOR
    assert member.status == ChatMemberStatus.MEMBER
    assert restricted.status == ChatMemberStatus.RESTRICTED, "every field PTB requires is there"
    assert kicked.status == ChatMemberStatus.BANNED
    assert sorted(a.user.id for a in admins) == [7, 8]
    assert (chat.title, chat.type) == ("Desk", "group")


async def test_token_never_logged(tg: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tests.fakes.telegram")
    async with Bot(tg.token, base_url=tg.base_url) as client:
        await client.send_message(PRIVATE, "hi")
        tg.block(PRIVATE)
        with pytest.raises(Forbidden):
            await client.send_message(PRIVATE, "hi")
    with pytest.raises(InvalidToken):
        async with Bot(DEFAULT_TOKEN + "x", base_url=tg.base_url):
            pass
    ours = [r for r in caplog.records if r.name.startswith("tests.fakes.telegram")]
    assert ours, "the fake logs its calls at DEBUG"
    secret = DEFAULT_TOKEN.split(":", 1)[1]
    for record in ours:
        assert secret not in record.getMessage()
    assert all(secret not in repr(c) for c in tg.calls)


async def test_wait_for_reports_the_calls_seen(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(PRIVATE, "hi")
    with pytest.raises(AssertionError, match=r"(?s)sendPhoto.*#\d+ sendMessage chat=1001 -> 200"):
        await tg.wait_for("sendPhoto", timeout=0.2)
    found = await tg.wait_for(lambda c: c["params"].get("text") == "hi")
    assert found["method"] == "sendMessage"
    with pytest.raises(AssertionError, match="expected 2"):
        await tg.wait_for_sent(PRIVATE, count=2, timeout=0.2)


async def test_text_handler_sees_plain_messages_only(tg: FakeTelegram) -> None:
    texts: list[str] = []

    async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        texts.append(update.effective_message.text)
        await update.effective_message.reply_text("noted")

    handler = MessageHandler(filters.TEXT & ~filters.COMMAND, remember)
    async with running(tg, handler):
        tg.user_sends(PRIVATE, "/ping")
        tg.user_sends(PRIVATE, "BTC 60000")
        await tg.wait_for_sent(PRIVATE)
    assert texts == ["BTC 60000"]


# -- webhook mode --------------------------------------------------------------------------------


async def test_set_webhook_is_checked_like_the_bot_api_and_blocks_get_updates(
    tg: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://bot.example.test/hook")
    with pytest.raises(BadRequest, match=r"(?i)only on ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://bot.example.test:8080/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.test/hook", secret_token="a:b")
    assert tg.webhook() is None and (await bot.get_webhook_info()).url == ""

    tg.user_sends(PRIVATE, "/ping")
    assert await bot.set_webhook(
        "https://bot.example.test:8443/hook", secret_token="s3cret_-X", allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.test:8443/hook"
    assert info.allowed_updates == ("message",) and info.max_connections == 40
    assert info.pending_update_count == 1, "kept: no drop_pending_updates"
    assert info.last_error_message is not None, "no route in this fake: it posted nowhere"
    with pytest.raises(Exception, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)

    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/ping"], "nothing was lost"


def settled(tg: FakeTelegram, within: float = 10.0) -> None:
    """Wait until the fake has no update left to deliver."""
    deadline = time.monotonic() + within
    while tg.pending_updates and time.monotonic() < deadline:
        time.sleep(0.02)


async def test_the_webhook_gets_each_update_with_the_secret_until_it_answers_2xx(
    tg: FakeTelegram, bot: Bot
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[str | None, int]] = []
    answers = iter([503, 200, 200])

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                             body["update_id"]))  # fmt: skip
            self.send_response(next(answers, 200))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tg.webhook_route = lambda url: url.replace(
            "https://bot.example.test", f"http://127.0.0.1:{server.server_port}"
        )
        first, second = tg.user_sends(PRIVATE, "/a"), tg.user_sends(PRIVATE, "/b")
        assert await bot.set_webhook("https://bot.example.test/hook", secret_token="tok_1")
        await asyncio.to_thread(settled, tg)
    finally:
        server.shutdown()
        server.server_close()
    assert received == [("tok_1", first), ("tok_1", first), ("tok_1", second)], "503 retried"
    assert [p["status"] for p in tg.webhook_posts()] == [503, 200, 200]
    assert (tg.deliveries(first), tg.deliveries(second)) == (1, 1)
    assert "503" in ((await bot.get_webhook_info()).last_error_message or "")
