"""``/map``, ``/clusters`` and the buttons under a map."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.access import ADMINS_ONLY_ANSWER, authorized, may_change
from bot.keyboards import REFRESH, SUBSCRIBE, map_keyboard, parse_press
from bot.services import BotServices, services
from jobs.maps import MapAnswer
from liqmap.chart import ChartLabels, render_png
from liqmap.errors import ExchangeError, LiqmapError
from liqmap.instruments import Instrument
from liqmap.timeframes import WINDOWS
from storage.snapshots import StoredMap

log = logging.getLogger(__name__)

DEFAULT_WINDOW = "7d"
ACTION_EVERY_S = 4.5
"""Telegram shows a chat action for about five seconds: renew it while computing."""


def symbol_and_window(args: list[str]) -> tuple[str, str] | None:
    """``BTC``, ``BTC 7d`` or ``7d BTC``; None when that is not what was typed."""
    windows = [a.lower() for a in args if a.lower() in WINDOWS]
    symbols = [a for a in args if a.lower() not in WINDOWS]
    if len(symbols) != 1 or len(windows) > 1:
        return None
    return symbols[0], windows[0] if windows else DEFAULT_WINDOW


@authorized
async def map_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(texts.usage("map"))
        return
    inst = await _instrument(message, context, parsed[0])
    if inst is not None:
        await send_map(message, context, inst, parsed[1])


@authorized
async def clusters_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(texts.usage("clusters"))
        return
    inst = await _instrument(message, context, parsed[0])
    if inst is None:
        return
    answer = await _map_answer(message, context, inst, parsed[1], ChatAction.TYPING)
    if answer is not None:
        text = texts.clusters_text(answer.stored.snapshot, answer.error)
        await message.reply_text(text, parse_mode=ParseMode.HTML)


@authorized
async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Window switch, refresh and subscribe under a map photo."""
    query = update.callback_query
    press = parse_press(query.data)
    if press is None or query.message is None:
        await query.answer("This button no longer works; send /map again.")
        return
    core = services(context)
    try:
        inst = await core.market.instrument(press.instrument)
    except LiqmapError as exc:
        await query.answer(str(exc)[:190], show_alert=True)
        return
    if press.action == SUBSCRIBE:
        await _subscribe_from_button(update, context, inst)
        return
    await query.answer("Refreshing…" if press.action == REFRESH else f"Loading {press.window}…")
    chat_id = query.message.chat.id
    try:
        async with _showing(context, chat_id, ChatAction.UPLOAD_PHOTO, core, inst, press.window):
            answer = await core.maps.get(inst, press.window, refresh=press.action == REFRESH)
    except ExchangeError as exc:
        await context.bot.send_message(chat_id, texts.unavailable(inst.native_id, exc))
        return
    caption = texts.map_caption(
        answer.stored.snapshot, core.clock(), answer.stored.computed_at, answer.error
    )
    keyboard = map_keyboard(inst.key, press.window)
    try:
        edited = await query.edit_message_media(
            InputMediaPhoto(
                await _photo(answer.stored), caption=caption, parse_mode=ParseMode.HTML
            ),
            reply_markup=keyboard,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
        return
    if isinstance(edited, Message):
        await _remember_chart(core, answer.stored, edited)


async def send_map(
    message: Message, context: ContextTypes.DEFAULT_TYPE, inst: Instrument, window: str
) -> None:
    """Reply with the map photo, its caption and buttons (the stored map while fresh)."""
    answer = await _map_answer(message, context, inst, window, ChatAction.UPLOAD_PHOTO)
    if answer is None:
        return
    core = services(context)
    caption = texts.map_caption(
        answer.stored.snapshot, core.clock(), answer.stored.computed_at, answer.error
    )
    keyboard = map_keyboard(inst.key, window)
    photo = await _photo(answer.stored)
    try:
        sent = await message.reply_photo(
            photo, caption=caption, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    except BadRequest as exc:
        if not isinstance(photo, str):
            raise
        log.warning("stored chart %s refused (%s); uploading it again", photo, exc)
        sent = await message.reply_photo(
            await _render(answer.stored), caption=caption, parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )  # fmt: skip
    await _remember_chart(core, answer.stored, sent)


async def _instrument(
    message: Message, context: ContextTypes.DEFAULT_TYPE, symbol: str
) -> Instrument | None:
    try:
        return await services(context).market.instrument(symbol)
    except ExchangeError as exc:
        await message.reply_text(
            f"Cannot look up {texts.problem(symbol)} right now ({texts.problem(str(exc))})."
        )
    except LiqmapError as exc:
        await message.reply_text(texts.problem(str(exc)))
    return None


async def _map_answer(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    inst: Instrument,
    window: str,
    action: str,
) -> MapAnswer | None:
    core = services(context)
    try:
        async with _showing(context, message.chat.id, action, core, inst, window):
            return await core.maps.get(inst, window)
    except ExchangeError as exc:
        await message.reply_text(texts.unavailable(inst.native_id, exc))
    except LiqmapError as exc:
        await message.reply_text(texts.problem(str(exc)))
    return None


async def _subscribe_from_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, inst: Instrument
) -> None:
    query = update.callback_query
    if not await may_change(update, context):
        await query.answer(ADMINS_ONLY_ANSWER, show_alert=True)
        return
    stores = services(context).stores
    chat_id = query.message.chat.id
    chat = await stores.run(stores.chats.get, chat_id)
    distance = chat.settings.alert_distance_pct if chat else 1.0
    existing = await stores.run(stores.chats.subscription, chat_id, inst.key)
    if existing is None:
        await stores.run(stores.chats.subscribe, chat_id, inst.key, None)
        await query.answer(f"Subscribed to {inst.native_id}: alerts within {distance:g}%.")
    else:
        await query.answer(f"Already subscribed to {inst.native_id}.")


@contextlib.asynccontextmanager
async def _showing(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    action: str,
    core: BotServices,
    inst: Instrument,
    window: str,
) -> AsyncIterator[None]:
    """While a map is being computed, keep the chat's 'uploading photo' action on."""
    if not await core.maps.needs_computing(inst, window):
        yield
        return

    async def keep_showing() -> None:
        while True:
            try:
                await context.bot.send_chat_action(chat_id, action)
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


async def _photo(stored: StoredMap) -> str | bytes:
    """The chart's Telegram file id once it was sent, else the PNG rendered off the loop."""
    return stored.chart_file_id or await _render(stored)


async def _render(stored: StoredMap) -> bytes:
    snapshot = stored.snapshot
    labels = ChartLabels(snapshot.label, snapshot.source, snapshot.window)
    return await asyncio.to_thread(render_png, snapshot.liq_map, snapshot.clusters, labels)


async def _remember_chart(core: BotServices, stored: StoredMap, sent: Message) -> None:
    if sent.photo and stored.chart_file_id is None:
        snapshots = core.stores.snapshots
        await core.stores.run(snapshots.set_chart_file_id, stored.id, sent.photo[-1].file_id)
