"""``/subscribe``, ``/unsubscribe`` and ``/list``."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import texts
from bot.access import authorized, may_change
from bot.services import services
from liqmap.chat_settings import parse_distance
from liqmap.errors import ExchangeError, LiqmapError

MAX_SUBSCRIPTIONS = 30


@authorized
async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, args = update.effective_message, context.args or []
    if not 1 <= len(args) <= 2:
        await message.reply_text(texts.usage("subscribe"))
        return
    if not await may_change(update, context):
        await message.reply_text(texts.ADMINS_ONLY)
        return
    core = services(context)
    try:
        distance = parse_distance(args[1]) if len(args) == 2 else None
        inst = await core.market.instrument(args[0])
    except LiqmapError as exc:
        await message.reply_text(texts.problem(str(exc)))
        return
    chat_id = message.chat.id
    chats = core.stores.chats
    current = await core.stores.run(chats.subscriptions, chat_id)
    if len(current) >= MAX_SUBSCRIPTIONS and all(s.instrument != inst.key for s in current):
        await message.reply_text(
            f"This chat already follows {MAX_SUBSCRIPTIONS} symbols, the most it can; "
            "/unsubscribe one first."
        )
        return
    new = await core.stores.run(chats.subscribe, chat_id, inst.key, distance)
    chat = await core.stores.run(chats.get, chat_id)
    within = distance if distance is not None else chat.settings.alert_distance_pct
    head = "🔔 Subscribed to" if new else "Updated"
    await message.reply_text(
        f"{head} <b>{texts.problem(inst.native_id)}</b> on {inst.exchange}: I will alert when "
        f"price comes within {within:g}% of a cluster at least {chat.settings.min_strength:g}× "
        "denser than average. /list shows all; /settings changes the defaults.",
        parse_mode=ParseMode.HTML,
    )


@authorized
async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, args = update.effective_message, context.args or []
    if len(args) != 1:
        await message.reply_text(texts.usage("unsubscribe"))
        return
    if not await may_change(update, context):
        await message.reply_text(texts.ADMINS_ONLY)
        return
    core = services(context)
    chat_id = message.chat.id
    chats = core.stores.chats
    if args[0].lower() == "all":
        gone = await core.stores.run(chats.unsubscribe, chat_id)
        await message.reply_text(f"Stopped all alerts ({gone} subscription{'s' * (gone != 1)}).")
        return
    key = _subscribed_key(await core.stores.run(chats.subscriptions, chat_id), args[0])
    if key is None:
        try:
            key = (await core.market.instrument(args[0])).key
        except ExchangeError as exc:
            await message.reply_text(
                f"Cannot look up that symbol right now ({texts.problem(str(exc))})."
            )
            return
        except LiqmapError as exc:
            await message.reply_text(texts.problem(str(exc)))
            return
    if await core.stores.run(chats.unsubscribe, chat_id, key):
        await message.reply_text(f"Stopped alerts for {texts.problem(key)}.")
    else:
        await message.reply_text(f"This chat is not subscribed to {texts.problem(key)}. /list")


@authorized
async def list_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = services(context)
    chat_id = update.effective_message.chat.id
    chat = await core.stores.run(core.stores.chats.get, chat_id)
    subscriptions = await core.stores.run(core.stores.chats.subscriptions, chat_id)
    text = texts.subscriptions_text(subscriptions, chat.settings)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


def _subscribed_key(subscriptions: list, typed: str) -> str | None:
    """The subscription a typed name means without asking the exchange (``okx:BTC-USDT-SWAP``,
    ``BTC-USDT-SWAP``), so unsubscribing works even while the exchange is down."""
    wanted = typed.strip().upper()
    for sub in subscriptions:
        if wanted in (sub.instrument.upper(), sub.instrument.split(":", 1)[1].upper()):
            return sub.instrument
    return None
