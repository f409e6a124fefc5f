"""``/status`` for the admin chats: uptime, map freshness, exchange errors, pending alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import texts
from bot.access import authorized, is_admin_chat
from bot.services import services

RECENT_ERRORS = 8


@authorized
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if not is_admin_chat(update, context):
        await message.reply_text(texts.STATUS_ADMINS_ONLY)
        return
    core = services(context)
    now = core.clock()
    stores = core.stores
    watched = await stores.run(stores.chats.watched_instruments)
    pending = await stores.run(stores.outbox.pending)
    lines = [
        "<b>liqmap status</b>",
        f"up {texts.ago(now - core.started_at_ms).removesuffix(' ago')}, "
        f"{len(watched)} watched instrument{'s' * (len(watched) != 1)}, "
        f"{pending} pending alert{'s' * (pending != 1)}",
        "",
        "<b>Maps</b> (last computed, data age)",
    ]
    fresh = await stores.run(stores.snapshots.freshness)
    if not fresh:
        lines.append("none computed yet")
    for row in fresh:
        lines.append(
            f"{escape(row.instrument)} {row.window}: {texts.ago(now - row.computed_at)}, "
            f"data {texts.ago(now - row.as_of).removesuffix(' ago')} old"
        )
    lines += ["", "<b>Recent exchange errors</b>"]
    incidents = list(core.market.incidents)[-RECENT_ERRORS:]
    if not incidents:
        lines.append("none")
    for incident in reversed(incidents):
        when = datetime.fromtimestamp(incident.ts_ms / 1000, UTC).strftime("%m-%d %H:%M")
        lines.append(f"{when} {escape(incident.exchange)}: {escape(incident.detail)}")
    await message.reply_text("\n".join(lines)[: texts.TEXT_LIMIT], parse_mode=ParseMode.HTML)
