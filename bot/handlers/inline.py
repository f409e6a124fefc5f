"""Inline sharing: ``@yourbot BTC 7d`` typed in any chat offers that map as a photo.

The Bot API offers an inline photo by a public URL (``InlineQueryResultPhoto``) or by the file
id of a photo already on Telegram (``InlineQueryResultCachedPhoto``,
https://core.telegram.org/bots/api#inlinequeryresultcachedphoto); ``answerInlineQuery`` itself
uploads nothing (https://core.telegram.org/bots/api#answerinlinequery). The service has no
public URL, so a map is offered by the file id its chart got when the bot last sent it
(``storage.snapshots``, kept by ``bot.handlers.maps.remember_chart``). A map without one is
made the way ``/map`` makes it, charged to the asking user's map budget, and its chart is
uploaded once to the operator's storage chat (``LIQMAP_INLINE_CACHE_CHAT``) for a file id;
without that chat, a button above the (empty) results opens the map in a private chat with
the bot, which sends it there, and the next query offers it.

Whatever is typed gets an answer and never an error: a usage card for what is not a map
request, a card with the reason for a symbol with no map, a card saying when the budget frees
up past it. The allowlist applies to the user (a user's private chat id is the user's id), and
each user's queries are answered up to ``bot.deps.INLINE_QUERIES_PER_MINUTE`` a minute (the
rest get an empty answer): ``answerInlineQuery`` sends no message, so Telegram's message
budget (``bot.rate_limit``) does not count it, and the upload of a chart takes the user's turn
there as any answer of a command does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.arguments import symbol_and_window
from bot.busy import charge_keys
from bot.context import BotContext
from bot.deep_links import map_parameter, share_url
from bot.handlers.maps import remember_chart, render_chart
from bot.known_chats import chat_zone
from bot.texts.inline import Card, busy_card, open_in_bot, refused_card, usage_card
from bot.texts.maps import map_caption
from liqmap.errors import ExchangeError, LimitReached, LiqmapError
from liqmap.market.instruments import Instrument
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from storage.snapshots import StoredMap

log = logging.getLogger(__name__)

MAP_CACHE_S = 60
"""How long Telegram may hand a map answer to the same user again without asking: a minute,
well within a map's freshness, so a shared map is never much older than one asked for."""
CARD_CACHE_S = 300
"""A usage card depends on the text alone: Telegram's default."""
REFUSAL_CACHE_S = 60
"""Why a symbol has no map can change (Hyperliquid open interest recorded since, a listing)."""
DOWN_CACHE_S = 10
"""An exchange that failed is asked again soon."""


@dataclass(frozen=True)
class InlineAnswer:
    """What ``answerInlineQuery`` gets: the results, how long Telegram may keep them, whether
    only for this user, and a button above them."""

    results: list[InlineQueryResult] = field(default_factory=list)
    cache_time: int = CARD_CACHE_S
    is_personal: bool = False
    button: InlineQueryResultsButton | None = None


async def inline_query(update: Update, context: BotContext) -> None:
    """Answer an inline query; an answer Telegram no longer takes (the query is too old) is
    logged, not raised."""
    query = update.inline_query
    if query is None:
        return
    deps = context.deps
    user = query.from_user
    if not deps.settings.access.allows(user.id):
        stores = deps.stores
        first = await stores.run(stores.chats.first_refusal, user.id, "private", user.username)
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "refused inline queries of user %s (not on the allowlist)",
            user.id,
        )
        answer = InlineAnswer(cache_time=CARD_CACHE_S, is_personal=True)
    elif (pace := deps.inline_pace.take([f"user:{user.id}"], deps.clock())) is not None:
        log.debug("inline query of user %s past its pace; answered empty", user.id)
        answer = InlineAnswer(cache_time=max(1, round(pace.seconds)), is_personal=True)
    else:
        CLAIM.set(Claim(Urgency.ON_DEMAND, f"chat:{user.id}"))
        answer = await _answer(query, context)
    try:
        await query.answer(
            answer.results,
            cache_time=answer.cache_time,
            is_personal=answer.is_personal,
            button=answer.button,
        )
    except TelegramError as exc:
        log.info("inline query %s of user %s not answered: %s", query.id, user.id, exc)


async def _answer(query: InlineQuery, context: BotContext) -> InlineAnswer:
    deps = context.deps
    username = context.bot.username or "bot"
    parsed = symbol_and_window(query.query.split())
    if parsed is None:
        return _cards(usage_card(username))
    try:
        inst = await deps.market.instrument(parsed[0])
        window = parsed[1]
        if await deps.maps.would_compute(inst, window):
            await charge_keys(deps, [f"user:{query.from_user.id}"])
        answer = await deps.maps.get(inst, window)
    except LimitReached as exc:
        return _cards(busy_card(str(exc)), cache_time=1, is_personal=True)
    except ExchangeError as exc:
        reason = f"{exc.exchange} is unavailable right now ({exc.detail})"
        return _cards(refused_card(reason, username), cache_time=DOWN_CACHE_S)
    except LiqmapError as exc:
        return _cards(refused_card(str(exc), username), cache_time=REFUSAL_CACHE_S)
    return await _map_answer(query, context, inst, window, answer.stored, answer.error)


async def _map_answer(
    query: InlineQuery,
    context: BotContext,
    inst: Instrument,
    window: str,
    stored: StoredMap,
    error: ExchangeError | None,
) -> InlineAnswer:
    """The map as a photo by its chart's file id, uploaded first where it has none; without a
    file id, a button opening it in the bot."""
    deps = context.deps
    file_id = stored.chart_file_id or await _upload(context, inst, stored)
    if file_id is None:
        parameter = map_parameter(inst.key, window)
        button = (
            None
            if parameter is None
            else InlineQueryResultsButton(
                open_in_bot(stored.snapshot.label, window), start_parameter=parameter
            )
        )
        return InlineAnswer(cache_time=DOWN_CACHE_S, is_personal=True, button=button)
    caption = map_caption(
        stored.snapshot,
        deps.clock(),
        stored.computed_at,
        error,
        await chat_zone(deps, query.from_user.id),
        int(deps.settings.scan_seconds * 1000),
    )
    url = share_url(context.bot.username, inst.key, window) if context.bot.username else None
    photo = InlineQueryResultCachedPhoto(
        id=f"map-{stored.id}",
        photo_file_id=file_id,
        title=f"{stored.snapshot.label} {window} liquidation map",
        description=f"{stored.snapshot.source} · {window}",
        caption=caption,
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("🗺 Open in the bot", url=url)]])
        if url
        else None,
    )
    return InlineAnswer([photo], cache_time=MAP_CACHE_S, is_personal=True)


async def _upload(context: BotContext, inst: Instrument, stored: StoredMap) -> str | None:
    """The chart uploaded to the storage chat for its file id, kept with the map; None
    without a storage chat or when Telegram refuses (logged)."""
    chat_id = context.deps.settings.inline_cache_chat
    if chat_id is None:
        return None

    deps = context.deps

    async def upload() -> str | None:
        png = await render_chart(deps, inst, stored)
        snapshot = stored.snapshot
        label = escape(f"{snapshot.label} · {snapshot.source} · {snapshot.window} map")
        try:
            sent = await context.bot.send_photo(
                chat_id, png, caption=label, disable_notification=True
            )
        except TelegramError as exc:
            log.warning("could not upload a chart to the inline storage chat %s: %s", chat_id, exc)
            return None
        await remember_chart(deps, stored, sent)
        return sent.photo[-1].file_id if sent.photo else None

    return await deps.inline_uploads.run(stored.id, upload)


def _cards(card: Card, cache_time: int = CARD_CACHE_S, is_personal: bool = False) -> InlineAnswer:
    article = InlineQueryResultArticle(
        id="card",
        title=card.title,
        description=card.description,
        input_message_content=InputTextMessageContent(card.message, parse_mode=ParseMode.HTML),
    )
    return InlineAnswer([article], cache_time=cache_time, is_personal=is_personal)
