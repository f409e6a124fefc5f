"""``/subscribe`` and ``/unsubscribe``, and the one way any path subscribes (``/list`` is in
``bot.handlers.subscription_list``)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, may_change
from bot.arguments import Follow, Refusal, Setup, follow_request, unfollow
from bot.context import BotContext
from bot.deps import BotDeps
from bot.known_chats import known_chat
from bot.texts.common import ADMINS_ONLY, refused
from bot.texts.subscriptions import (
    already_subscribed,
    building_on,
    not_subscribed,
    real_on,
    real_refused,
    stopped,
    stopped_all,
    subscribed,
    updated,
)
from bot.texts.topics import moved_to
from bot.topics import settle_topic
from bot.updates import message_of
from jobs.on_demand.real_layer import positions_public
from liqmap.errors import UnsupportedRequest
from liqmap.market.instruments import Instrument
from storage.chats import Subscription


async def follow(
    deps: BotDeps,
    chat_id: int,
    inst: Instrument,
    request: Follow | None = None,
    thread_id: int | None = None,
) -> tuple[Setup | None, Setup]:
    """Subscribe a chat in forum topic ``thread_id`` (None: General), or change of an existing
    subscription only what ``request`` asks (command and button alike: the button asks
    nothing; the topic stays); the setup before (None: new) and after. The store enforces the
    per-chat and service-wide limits (``LimitReached``); real-cluster alerts on a venue that
    hides positions are refused before anything changes (``UnsupportedRequest``)."""
    stores, key = deps.stores, inst.key
    request = request or Follow(key)
    if request.real and not positions_public(inst):
        raise UnsupportedRequest(real_refused(inst))
    sub = await stores.run(stores.chats.subscription, chat_id, key)
    building = sub is not None and await stores.run(stores.building.watching, chat_id, key)
    real = sub is not None and await stores.run(stores.real_alerts.watching, chat_id, key)
    new = await stores.run(stores.chats.subscribe, chat_id, key, request.distance_pct, thread_id)
    before = None if new or sub is None else Setup(sub.distance_pct, building, real)
    after = request.applied(before or Setup())
    if after.building != (before or Setup()).building:
        await stores.run(stores.building.set, chat_id, key, after.building)
    if after.real != (before or Setup()).real:
        await stores.run(stores.real_alerts.set, chat_id, key, after.real)
    return before, after


@authorized
async def subscribe(update: Update, context: BotContext) -> None:
    message = message_of(update)
    request = follow_request(context.args or [])
    if isinstance(request, Refusal):
        await message.reply_text(refused("subscribe", request), parse_mode=ParseMode.HTML)
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    deps = context.deps
    inst = await deps.market.instrument(request.symbol)
    thread_id = await settle_topic(update, context)
    before, after = await follow(deps, message.chat.id, inst, request, thread_id)
    chats = deps.stores.chats
    moved = before is not None and await deps.stores.run(
        chats.move, message.chat.id, inst.key, thread_id
    )
    settings = (await known_chat(deps, message.chat.id)).settings
    label, exchange, public = inst.native_id, inst.exchange, positions_public(inst)
    if before is None:
        within = after.within(settings.alert_distance_pct)
        text = subscribed(label, exchange, within, settings.min_strength)
    elif before == after:
        text = already_subscribed(label, exchange, after, settings.alert_distance_pct, public)
    else:
        text = updated(label, exchange, before, after, settings.alert_distance_pct, public)
    if after.building and (before is None or not before.building):
        text += "\n" + building_on(label)
    if after.real and (before is None or not before.real):
        text += "\n" + real_on(inst.key)
    if moved:
        text += "\n" + moved_to(label, thread_id)
    await message.reply_text(text, parse_mode=ParseMode.HTML)


@authorized
async def unsubscribe(update: Update, context: BotContext) -> None:
    message = message_of(update)
    target = unfollow(context.args or [])
    if isinstance(target, Refusal):
        await message.reply_text(refused("unsubscribe", target), parse_mode=ParseMode.HTML)
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    deps = context.deps
    chat_id = message.chat.id
    chats = deps.stores.chats
    if target.symbol is None:
        gone = await deps.stores.run(chats.unsubscribe, chat_id)
        await message.reply_text(stopped_all(gone))
        return
    key = _subscribed_key(await deps.stores.run(chats.subscriptions, chat_id), target.symbol)
    if key is None:
        key = (await deps.market.instrument(target.symbol)).key
    if await deps.stores.run(chats.unsubscribe, chat_id, key):
        await message.reply_text(stopped(key))
    else:
        await message.reply_text(not_subscribed(key))


def _subscribed_key(subscriptions: list[Subscription], typed: str) -> str | None:
    """The subscription a typed name means without asking the exchange (``okx:BTC-USDT-SWAP``,
    ``BTC-USDT-SWAP``), so unsubscribing works even while the exchange is down."""
    wanted = typed.strip().upper()
    for sub in subscriptions:
        if wanted in (sub.instrument.upper(), sub.instrument.split(":", 1)[1].upper()):
            return sub.instrument
    return None
