"""``/status`` for the admins: uptime, map freshness, the liquidation recorder's coverage and
lag, the scanner of real positions and how old its data is, exchange errors, pending
alerts."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized, is_admin
from bot.context import BotContext
from bot.texts.common import ago
from bot.texts.status import (
    STATUS_ADMINS_ONLY,
    discovery_lines,
    recorder_lines,
    scanner_lines,
    status_text,
)
from bot.updates import message_of
from liqmap.market.scan_passes import scan_age

RECENT_ERRORS = 8


@authorized
async def status(update: Update, context: BotContext) -> None:
    message = message_of(update)
    if not await is_admin(update, context):
        await message.reply_text(STATUS_ADMINS_ONLY)
        return
    deps = context.deps
    stores = deps.stores
    now = deps.clock()
    watched = await stores.run(stores.chats.watched_instruments)
    pending = await stores.run(stores.outbox.pending)
    maps = [
        f"{row.instrument} {row.window}: {ago(now - row.computed_at)}, "
        f"data {ago(now - row.as_of).removesuffix(' ago')} old"
        for row in await stores.run(stores.snapshots.freshness)
    ]
    incidents = [
        f"{datetime.fromtimestamp(i.ts_ms / 1000, UTC):%m-%d %H:%M} {i.exchange}: {i.detail}"
        for i in reversed(list(deps.market.incidents)[-RECENT_ERRORS:])
    ]
    streams = await stores.run(stores.realized.streams)
    recorder = recorder_lines(streams, deps.recorder, now)
    period_ms = int(deps.settings.scan_seconds * 1000)
    last, running = (await stores.run(stores.positions.last_pass),
                     await stores.run(stores.positions.open_pass))  # fmt: skip
    scanner = scanner_lines(scan_age(last, running, now, period_ms), period_ms) or ["no pass yet"]
    scanner += discovery_lines(deps.discovery, await stores.run(stores.positions.sources))
    text = status_text(
        now - deps.started_at_ms, len(watched), pending, maps, incidents, recorder,
        deps.market.bans(), scanner,
    )  # fmt: skip
    await message.reply_text(text, parse_mode=ParseMode.HTML)
