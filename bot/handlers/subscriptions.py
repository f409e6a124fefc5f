"""``/subscribe`` and ``/unsubscribe``, and the one way any path subscribes (``/list`` is in
``bot.handlers.subscription_list``)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, may_change
from bot.arguments import Refusal, aggregate_of, unfollow
from bot.context import BotContext
from bot.deps import BotDeps
from bot.known_chats import known_chat
from bot.texts.common import ADMINS_ONLY, refused, usage
from bot.texts.subscriptions import building_on, not_subscribed, stopped, stopped_all, subscribed
from bot.updates import message_of
from liqmap.market.instruments import ALL, Instrument
from liqmap.signals.chat_settings import parse_distance
from liqmap.signals.growing_clusters import BUILDING
from storage.chats import Subscription


async def follow(deps: BotDeps, chat_id: int, inst: Instrument, distance: float | None) -> bool:
    """Subscribe a chat (command and button alike); True if new. The store enforces the
    per-chat and service-wide limits (``LimitReached``)."""
    chats = deps.stores.chats
    return await deps.stores.run(chats.subscribe, chat_id, inst.key, distance)


@authorized
async def subscribe(update: Update, context: BotContext) -> None:
    message = message_of(update)
    args, every = aggregate_of(context.args or [])
    building = bool(args) and args[-1].lower() == BUILDING
    args = args[:-1] if building else args
    if not 1 <= len(args) <= 2:
        await message.reply_text(usage("subscribe"))
        return
    if not await may_change(update, context):
        await message.reply_text(ADMINS_ONLY)
        return
    deps = context.deps
    distance = parse_distance(args[1]) if len(args) == 2 else None
    inst = await deps.market.instrument(f"{ALL}:{args[0]}" if every else args[0])
    new = await follow(deps, message.chat.id, inst, distance)
    await deps.stores.run(deps.stores.building.set, message.chat.id, inst.key, building)
    chat = await known_chat(deps, message.chat.id)
    within = distance if distance is not None else chat.settings.alert_distance_pct
    text = subscribed(inst.native_id, inst.exchange, within, chat.settings.min_strength, new)
    if building:
        text += "\n" + building_on(inst.native_id)
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
