"""``/heatmap``: the liquidation map over time, as a photo."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest

from bot.access import authorized
from bot.arguments import symbol_and_window
from bot.busy import charge, showing
from bot.context import BotContext
from bot.known_chats import chat_zone
from bot.texts.common import usage
from bot.texts.maps import heatmap_caption
from bot.topics import topic_of
from bot.updates import chat_of, message_of

log = logging.getLogger(__name__)


@authorized
async def heatmap_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(usage("heatmap"))
        return
    deps = context.deps
    inst = await deps.market.instrument(parsed[0])
    window = parsed[1]
    if deps.heatmaps.would_compute(inst, window):
        await charge(update, deps)
        async with showing(
            context.bot, chat_of(update).id, ChatAction.UPLOAD_PHOTO, topic_of(update)
        ):
            answer = await deps.heatmaps.get(inst, window)
    else:
        answer = await deps.heatmaps.get(inst, window)
    rendered = answer.rendered
    zone = await chat_zone(deps, message.chat.id)
    caption = heatmap_caption(rendered, deps.clock(), answer.error, zone)
    try:
        sent = await message.reply_photo(
            rendered.file_id or rendered.png, caption=caption, parse_mode=ParseMode.HTML
        )
    except BadRequest as exc:
        if rendered.file_id is None:
            raise
        log.warning("sent heatmap %s refused (%s); uploading it again", rendered.file_id, exc)
        sent = await message.reply_photo(rendered.png, caption=caption, parse_mode=ParseMode.HTML)
    if sent.photo and rendered.file_id is None:
        deps.heatmaps.remember_file_id(inst, window, rendered, sent.photo[-1].file_id)
