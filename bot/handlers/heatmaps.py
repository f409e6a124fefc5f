"""``/heatmap``: the liquidation map over time, as a photo."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.access import authorized
from bot.arguments import symbol_and_window
from bot.busy import charge, showing
from bot.deps import services
from bot.handlers.digest import chat_zone
from bot.texts.common import usage
from bot.texts.maps import heatmap_caption

log = logging.getLogger(__name__)


@authorized
async def heatmap_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    parsed = symbol_and_window(context.args or [])
    if parsed is None:
        await message.reply_text(usage("heatmap"))
        return
    core = services(context)
    inst = await core.market.instrument(parsed[0])
    window = parsed[1]
    if core.heatmaps.would_compute(inst, window):
        charge(update, core)
        async with showing(context.bot, update.effective_chat.id, ChatAction.UPLOAD_PHOTO):
            answer = await core.heatmaps.get(inst, window)
    else:
        answer = await core.heatmaps.get(inst, window)
    rendered = answer.rendered
    zone = await chat_zone(core, message.chat.id)
    caption = heatmap_caption(rendered, core.clock(), answer.error, zone)
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
        core.heatmaps.remember_file_id(inst, window, rendered, sent.photo[-1].file_id)
