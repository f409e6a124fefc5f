"""``/whales BTC``: the largest real positions near price, from what the scanner stored."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.access import authorized
from bot.arguments import Refusal, whales_symbol
from bot.context import BotContext
from bot.texts.common import refused
from bot.texts.whales import no_scans, whales_text
from bot.updates import message_of


@authorized
async def whales_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    symbol = whales_symbol(context.args or [])
    if isinstance(symbol, Refusal):
        await message.reply_text(refused("whales", symbol), parse_mode=ParseMode.HTML)
        return
    deps = context.deps
    inst = await deps.market.instrument(symbol)
    board = await deps.whales.board(inst)
    if board is None:
        text = no_scans(inst)
    else:
        shown = deps.settings.whale_addresses == "shown"
        text = whales_text(board, inst, deps.clock(), shown)
    await message.reply_text(text, parse_mode=ParseMode.HTML)
