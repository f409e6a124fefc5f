"""``/map``, ``/clusters`` and the buttons under a map."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest

from bot.access import authorized, may_change
from bot.arguments import symbol_and_window
from bot.busy import charge, showing
from bot.context import BotContext
from bot.deps import BotDeps
from bot.handlers.subscriptions import follow
from bot.keyboards.common import offered
from bot.keyboards.maps import REFRESH, SUBSCRIBE, map_keyboard, parse_press
from bot.known_chats import chat_zone, known_chat
from bot.texts.common import ADMINS_ONLY_ANSWER, STALE_BUTTON, loading, usage
from bot.texts.maps import REFRESHING, clusters_text, map_caption
from bot.texts.subscriptions import already_subscribed_button, subscribed_button
from bot.topics import topic_of
from bot.updates import chat_of, message_of, query_of
from jobs.on_demand.maps import MapAnswer
from jobs.on_demand.realized_view import realized_view
from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import window_ms
from storage.snapshots import StoredMap

log = logging.getLogger(__name__)


@authorized
async def map_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(usage("map"))
        return
    inst = await context.deps.market.instrument(parsed[0])
    await send_map(update, context, inst, parsed[1])


@authorized
async def clusters_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(usage("clusters"))
        return
    inst = await context.deps.market.instrument(parsed[0])
    answer = await map_answer(update, context, inst, parsed[1], ChatAction.TYPING)
    text = clusters_text(answer.stored.snapshot, answer.error)
    await message.reply_text(text, parse_mode=ParseMode.HTML)


@authorized
async def button(update: Update, context: BotContext) -> None:
    """Window switch, refresh and subscribe under a map photo: only the buttons this bot put
    on that very message count, so forged callback data does nothing."""
    query = query_of(update)
    press = parse_press(query.data)
    if press is None or not offered(query.message, query.data):
        await query.answer(STALE_BUTTON)
        return
    deps = context.deps
    inst = await deps.market.instrument(press.instrument)
    if press.action == SUBSCRIBE:
        await _subscribe_from_button(update, context, inst)
        return
    refresh = press.action == REFRESH
    await _charge(update, deps, inst, press.window, refresh)
    await query.answer(REFRESHING if refresh else loading(press.window))
    chat_id = chat_of(update).id
    async with _showing(context, update, ChatAction.UPLOAD_PHOTO, deps, inst, press.window):
        answer = await deps.maps.get(inst, press.window, refresh=refresh)
    zone = await chat_zone(deps, chat_id)
    caption = map_caption(
        answer.stored.snapshot,
        deps.clock(),
        answer.stored.computed_at,
        answer.error,
        zone,
        int(deps.settings.scan_seconds * 1000),
    )
    keyboard = map_keyboard(inst.key, press.window, context.bot.username)
    media = await _photo(deps, inst, answer.stored)
    photo = InputMediaPhoto(media, caption=caption, parse_mode=ParseMode.HTML)
    try:
        edited = await query.edit_message_media(photo, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
        return
    if isinstance(edited, Message):
        await remember_chart(deps, answer.stored, edited)


async def send_map(update: Update, context: BotContext, inst: Instrument, window: str) -> None:
    """Reply with the map photo, its caption and buttons (the stored map while fresh)."""
    message = message_of(update)
    answer = await map_answer(update, context, inst, window, ChatAction.UPLOAD_PHOTO)
    deps = context.deps
    zone = await chat_zone(deps, message.chat.id)
    caption = map_caption(
        answer.stored.snapshot,
        deps.clock(),
        answer.stored.computed_at,
        answer.error,
        zone,
        int(deps.settings.scan_seconds * 1000),
    )
    keyboard = map_keyboard(inst.key, window, context.bot.username)
    photo = await _photo(deps, inst, answer.stored)
    try:
        sent = await message.reply_photo(
            photo, caption=caption, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    except BadRequest as exc:
        if not isinstance(photo, str):
            raise
        log.warning("stored chart %s refused (%s); uploading it again", photo, exc)
        sent = await message.reply_photo(
            await render_chart(deps, inst, answer.stored), caption=caption,
            parse_mode=ParseMode.HTML, reply_markup=keyboard,
        )  # fmt: skip
    await remember_chart(deps, answer.stored, sent)


async def map_answer(
    update: Update,
    context: BotContext,
    inst: Instrument,
    window: str,
    action: str,
) -> MapAnswer:
    """The map to show, charged to the chat's budget and shown as ``action`` if it must be
    computed."""
    deps = context.deps
    await _charge(update, deps, inst, window)
    async with _showing(context, update, action, deps, inst, window):
        return await deps.maps.get(inst, window)


async def _charge(
    update: Update, deps: BotDeps, inst: Instrument, window: str, refresh: bool = False
) -> None:
    """A map that must be computed costs one of the map budgets (``bot.busy.charge``); past
    one, ``LimitReached`` says when to try again. Stored maps cost nothing."""
    if await deps.maps.would_compute(inst, window, refresh):
        await charge(update, deps)


async def _subscribe_from_button(update: Update, context: BotContext, inst: Instrument) -> None:
    query = query_of(update)
    if not await may_change(update, context):
        await query.answer(ADMINS_ONLY_ANSWER, show_alert=True)
        return
    deps = context.deps
    chat_id = chat_of(update).id
    before, after = await follow(deps, chat_id, inst, thread_id=topic_of(update))
    chat = await known_chat(deps, chat_id)
    distance = after.within(chat.settings.alert_distance_pct)
    if before is None:
        await query.answer(subscribed_button(inst.native_id, distance))
    else:
        await query.answer(already_subscribed_button(inst.native_id, distance, after.building))


@contextlib.asynccontextmanager
async def _showing(
    context: BotContext,
    update: Update,
    action: str,
    deps: BotDeps,
    inst: Instrument,
    window: str,
) -> AsyncIterator[None]:
    """While a map is being computed, keep the chat's 'uploading photo' action on."""
    if not await deps.maps.would_compute(inst, window):
        yield
        return
    async with showing(context.bot, chat_of(update).id, action, topic_of(update)):
        yield


async def _photo(deps: BotDeps, inst: Instrument, stored: StoredMap) -> str | bytes:
    """The chart's Telegram file id once it was sent, else the PNG rendered off the loop."""
    return stored.chart_file_id or await render_chart(deps, inst, stored)


async def render_chart(deps: BotDeps, inst: Instrument, stored: StoredMap) -> bytes:
    """The chart, with the liquidations recorded over its window where the recorder ran."""
    snapshot = stored.snapshot
    end = snapshot.as_of_ms
    realized = await realized_view(
        deps.stores, deps.market, inst, end - window_ms(snapshot.window), end
    )
    draw = functools.partial(
        render_png, snapshot.liq_map, snapshot.clusters, ChartLabels.of(snapshot),
        realized=realized, real=snapshot.real,
    )  # fmt: skip
    return await asyncio.to_thread(draw)


async def remember_chart(deps: BotDeps, stored: StoredMap, sent: Message) -> None:
    """Keep the file id of the chart ``sent`` with its map, so it is re-sent by it."""
    if sent.photo and stored.chart_file_id is None:
        snapshots = deps.stores.snapshots
        await deps.stores.run(snapshots.set_chart_file_id, stored.id, sent.photo[-1].file_id)
