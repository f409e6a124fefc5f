"""``/accuracy``: how well the map predicted the liquidations the recorder saw."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction, ParseMode

from bot.access import authorized
from bot.arguments import aggregate_of
from bot.busy import charge, showing
from bot.context import BotContext
from bot.deps import BotDeps
from bot.texts.accuracy import accuracy_text, hit_rate_lines, not_enough, not_recorded_here
from bot.texts.common import usage
from bot.topics import topic_of
from bot.updates import chat_of, message_of
from liqmap.evaluation.live_accuracy import HISTORY, LiveAccuracy, NothingRecorded
from liqmap.market.instruments import ALL, Instrument
from liqmap.market.timeframes import window_ms
from liqmap.market.venues import CENTRALIZED


@authorized
async def accuracy_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    symbols, every = aggregate_of(context.args or [])
    if len(symbols) != 1:
        await message.reply_text(usage("accuracy"))
        return
    deps = context.deps
    inst = await deps.market.instrument(f"{ALL}:{symbols[0]}" if every else symbols[0])
    if not any(m.exchange in CENTRALIZED for m in inst.members or (inst,)):
        text = not_recorded_here(str(inst), inst.exchange, CENTRALIZED)
        await message.reply_text(text, parse_mode=ParseMode.HTML)
        return
    try:
        accuracy = await _accuracy(update, context, deps, inst)
    except NothingRecorded as exc:
        await message.reply_text(not_enough(str(exc)), parse_mode=ParseMode.HTML)
        return
    text = accuracy_text(accuracy, await alerted_cluster_lines(deps, inst))
    await message.reply_text(text, parse_mode=ParseMode.HTML)


async def _accuracy(
    update: Update, context: BotContext, deps: BotDeps, inst: Instrument
) -> LiveAccuracy:
    """A score made moments ago is free; a new one walks hundreds of maps forward, so it
    costs one of the map budgets (``bot.busy.charge``)."""
    if not deps.accuracy.would_compute(inst):
        return await deps.accuracy.get(inst)
    await charge(update, deps)
    async with showing(context.bot, chat_of(update).id, ChatAction.TYPING, topic_of(update)):
        return await deps.accuracy.get(inst)


async def alerted_cluster_lines(deps: BotDeps, inst: Instrument) -> list[str]:
    """HTML lines appended under the live figures: how the clusters alerted on for ``inst``
    over the scored history fared once swept (the sweep receipts' hit rate)."""
    since = deps.clock() - window_ms(HISTORY)
    rate = await deps.stores.run(deps.stores.sweeps.hit_rate, [inst.key], since)
    return hit_rate_lines(rate)
