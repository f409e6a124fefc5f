"""``/list`` and the buttons that manage subscriptions: under the list and under every alert.

Every press passes the same gate as the map's buttons: it counts only on the message the bot
put that very button on (``offered``), acts only on the pressing chat's own subscriptions, and
in groups only administrators change anything.
"""

from __future__ import annotations

from datetime import UTC

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.access import authorized, may_change
from bot.context import BotContext
from bot.deps import BotDeps
from bot.handlers.maps import send_map
from bot.keyboards.common import offered
from bot.keyboards.subscriptions import (
    ALERT_MUTE,
    ALERT_MUTE_HOURS,
    CHANGES,
    DELETE,
    DISTANCE,
    LIST,
    MUTE,
    OPEN_MAP,
    REAL_ALERTS,
    UNMUTE,
    Manage,
    list_keyboard,
    parse_manage,
    subscription_keyboard,
)
from bot.known_chats import known_chat
from bot.standings import Standing, ranked, standing_of
from bot.texts.common import ADMINS_ONLY_ANSWER, ANSWER_LIMIT, STALE_BUTTON, loading
from bot.texts.html import plain
from bot.texts.subscriptions import (
    NOT_FOLLOWED,
    STALE_LIST_BUTTON,
    distance_changed,
    muted,
    real_refused_key,
    real_switched,
    stopped,
    subscription_detail,
    subscription_list,
    unmuted,
)
from bot.updates import chat_of, message_of, query_of
from liqmap.market.timeframes import HOUR_MS
from liqmap.market.venues import POSITIONS_PUBLIC
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import ALERT_WINDOW
from storage.chats import Subscription
from storage.topics import Topic


@authorized
async def list_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    text, keyboard = await _list_view(context.deps, message.chat.id)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


@authorized
async def button(update: Update, context: BotContext) -> None:
    """A press under /list or under an alert."""
    query = query_of(update)
    press = parse_manage(query.data)
    if press is None:  # no data at all reaches every handler: answered as the map's are
        await query.answer(STALE_BUTTON)
        return
    if not offered(query.message, query.data):
        await query.answer(STALE_LIST_BUTTON)
        return
    deps = context.deps
    if press.op == OPEN_MAP:
        inst = await deps.market.instrument(press.instrument)
        await query.answer(loading(ALERT_WINDOW))
        await send_map(update, context, inst, ALERT_WINDOW)
        return
    if press.op in CHANGES and not await may_change(update, context):
        await query.answer(ADMINS_ONLY_ANSWER, show_alert=True)
        return
    chat_id = chat_of(update).id
    answer = await _apply(deps, chat_id, press)
    await query.answer(answer)
    if press.op == ALERT_MUTE:
        return  # the alert stays as it was
    sub = None
    if press.op not in (LIST, DELETE):
        sub = await deps.stores.run(deps.stores.chats.subscription, chat_id, press.instrument)
    text, keyboard = await (
        _list_view(deps, chat_id) if sub is None else _detail_view(deps, chat_id, sub)
    )
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _apply(deps: BotDeps, chat_id: int, press: Manage) -> str | None:
    """Carry out a press on the chat's own subscription; the short answer to show, if any."""
    chats, key, now = deps.stores.chats, press.instrument, deps.clock()
    if press.op == DISTANCE:
        done = await deps.stores.run(chats.set_distance, chat_id, key, float(press.arg))
        answer = distance_changed(key, float(press.arg))
    elif press.op in (MUTE, ALERT_MUTE):
        hours = int(press.arg) if press.op == MUTE else ALERT_MUTE_HOURS
        until = now + hours * HOUR_MS
        done = await deps.stores.run(chats.mute, chat_id, key, until)
        chat = await deps.stores.run(chats.get, chat_id)
        answer = muted(key, until, chat.settings.zone if chat else UTC)
    elif press.op == UNMUTE:
        done = await deps.stores.run(chats.mute, chat_id, key, None)
        answer = unmuted(key)
    elif press.op == DELETE:
        done = await deps.stores.run(chats.unsubscribe, chat_id, key) > 0
        answer = plain(stopped(key), ANSWER_LIMIT)
    elif press.op == REAL_ALERTS:
        if not public_positions(key):
            return plain(real_refused_key(key), ANSWER_LIMIT)  # the rule /subscribe keeps
        done = await deps.stores.run(chats.subscription, chat_id, key) is not None
        if done:
            await deps.stores.run(deps.stores.real_alerts.set, chat_id, key, press.arg == "on")
        answer = real_switched(key, press.arg == "on")
    else:
        return None
    return answer if done else NOT_FOLLOWED


async def _list_view(deps: BotDeps, chat_id: int) -> tuple[str, InlineKeyboardMarkup]:
    chat = await known_chat(deps, chat_id)
    subscriptions = await deps.stores.run(deps.stores.chats.subscriptions, chat_id)
    standings = ranked([await _standing(deps, sub, chat.settings) for sub in subscriptions])
    real = await deps.stores.run(deps.stores.real_alerts.watched, chat_id)
    topics = await _forum_topics(deps, chat_id, subscriptions)
    text = subscription_list(standings, chat.settings, deps.clock(), real, topics)
    return text, list_keyboard([s.subscription.instrument for s in standings])


async def _detail_view(
    deps: BotDeps, chat_id: int, sub: Subscription
) -> tuple[str, InlineKeyboardMarkup]:
    chat = await known_chat(deps, chat_id)
    standing = await _standing(deps, sub, chat.settings)
    now = deps.clock()
    real = await deps.stores.run(deps.stores.real_alerts.watching, chat_id, sub.instrument)
    topics = await _forum_topics(deps, chat_id, [sub])
    text = subscription_detail(standing, chat.settings, now, real, topics)
    offer = real if public_positions(sub.instrument) else None
    keyboard = subscription_keyboard(sub.instrument, standing.distance_pct, sub.muted(now), offer)
    return text, keyboard


async def _forum_topics(
    deps: BotDeps, chat_id: int, subscriptions: list[Subscription]
) -> dict[int, Topic] | None:
    """The chat's known topics, if it has topics at all (None: no topic to show)."""
    topics = await deps.stores.run(deps.stores.topics.of_chat, chat_id)
    if not topics and all(sub.thread_id is None for sub in subscriptions):
        return None
    return topics


async def _standing(deps: BotDeps, sub: Subscription, settings: ChatSettings) -> Standing:
    """Where the subscription stands on its stored alert map (the one the watch job uses)."""
    stored = await deps.stores.run(deps.stores.snapshots.latest, sub.instrument, ALERT_WINDOW)
    snapshot = stored.snapshot if stored is not None else None
    return standing_of(sub, sub.distance(settings), snapshot, settings.min_strength)


def public_positions(key: str) -> bool:
    """Whether the instrument of ``key`` (``hyperliquid:BTC``) is on a venue whose positions
    are public; a sum of exchanges (``all:BTC``) is not."""
    return key.partition(":")[0] in POSITIONS_PUBLIC
