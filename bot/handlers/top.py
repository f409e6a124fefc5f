"""``/top [N]``: the most urgent dense clusters across the chat's watchlist, or else the
default exchange's largest perpetuals by open interest.

Maps come from the store while fresh (subscribed instruments are refreshed by the alert jobs);
each map that must be computed costs one of the chat's and the user's fair-use budget, and
once that is spent the screen shows what it has.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction, ParseMode

from bot.access import authorized
from bot.arguments import Refusal, top_count
from bot.busy import charge, showing
from bot.context import BotContext
from bot.deps import BotDeps
from bot.handlers.maps import send_map
from bot.keyboards.common import offered
from bot.keyboards.top import top_keyboard, top_press
from bot.known_chats import known_chat
from bot.texts.common import STALE_BUTTON, loading, refused
from bot.texts.top import largest_unknown, not_recorded, top_text
from bot.topics import topic_of
from bot.updates import message_of, query_of
from jobs.market_sync import NotYetRecorded
from liqmap.errors import ExchangeError, InstrumentError, LimitReached, UnsupportedRequest
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import HOUR_MS, step_ms
from liqmap.signals.proximity import ALERT_WINDOW
from liqmap.signals.screener import (
    MAJORS,
    RANGE_HOURS,
    Ranked,
    hourly_range_pct,
    most_urgent,
    nearest_dense,
)
from storage.snapshots import StoredMap


@authorized
async def top_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    count = top_count(context.args or [])
    if isinstance(count, Refusal):
        await message.reply_text(refused("top", count), parse_mode=ParseMode.HTML)
        return
    deps = context.deps
    chat_id = message.chat.id
    chat = await known_chat(deps, chat_id)
    watchlist = [s.instrument for s in await deps.stores.run(deps.stores.chats.subscriptions,
                                                             chat_id)]  # fmt: skip
    ranked: list[Ranked] = []
    notes: list[str] = []
    unrecorded: list[str] = []
    screened = 0
    async with showing(context.bot, chat_id, ChatAction.TYPING, topic_of(update)):
        scope = watchlist or await _largest(deps, count, notes)
        for name in scope:
            if not watchlist and screened == count:
                break
            try:
                inst = await deps.market.instrument(name)
                if await deps.maps.would_compute(inst, ALERT_WINDOW):
                    await charge(update, deps)
                answer = await deps.maps.get(inst, ALERT_WINDOW)
            except InstrumentError:
                continue  # a major this exchange does not list
            except NotYetRecorded:
                unrecorded.append(name)  # a venue without OI history, too few snapshots yet
                continue
            except ExchangeError as exc:
                notes.append(f"{name} left out: {exc.detail}")
                continue
            except LimitReached as exc:
                notes.append(f"Not everything was screened: {exc}")
                break
            screened += 1
            row = await _ranked(deps, inst, answer.stored, chat.settings.min_strength)
            if row is not None:
                ranked.append(row)
    if unrecorded:
        notes.insert(0, not_recorded(unrecorded))
    top = most_urgent(ranked, count)
    keyboard = top_keyboard([(r.label, r.instrument) for r in top], ALERT_WINDOW) if top else None
    exchange = deps.settings.default_exchange
    text = top_text(top, None if watchlist else exchange, notes)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


@authorized
async def top_button(update: Update, context: BotContext) -> None:
    """A /top button: that instrument's map as a new message (only on the message that has
    this very button)."""
    query = query_of(update)
    press = top_press(query.data)
    if press is None or not offered(query.message, query.data):
        await query.answer(STALE_BUTTON)
        return
    inst = await context.deps.market.instrument(press.instrument)
    await query.answer(loading(press.window))
    await send_map(update, context, inst, press.window)


async def _largest(deps: BotDeps, count: int, notes: list[str]) -> list[str]:
    """With no watchlist: the default exchange's perpetuals with the most open interest (one
    request), else the majors, saying why."""
    exchange = deps.settings.default_exchange
    try:
        return [inst.key for inst in await deps.market.largest(exchange, count)]
    except (ExchangeError, UnsupportedRequest) as exc:
        notes.append(f"{largest_unknown(exchange)}: {exc}")
        return list(MAJORS)


async def _ranked(
    deps: BotDeps, inst: Instrument, stored: StoredMap, min_strength: float
) -> Ranked | None:
    """The instrument's nearest dense cluster in its hourly range (from the map's candles)."""
    snapshot = stored.snapshot
    nearest = nearest_dense(snapshot.clusters, snapshot.price, min_strength)
    if nearest is None:
        return None
    member = inst.members[0] if inst.is_aggregate else inst
    end = snapshot.as_of_ms + step_ms(snapshot.step)
    candles = await deps.stores.run(
        deps.stores.cache.candles, member, snapshot.step, end - RANGE_HOURS * HOUR_MS, end
    )
    cluster, distance = nearest
    return Ranked(
        inst.key, snapshot.label, snapshot.source, cluster, distance, hourly_range_pct(candles)
    )
