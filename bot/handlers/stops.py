"""``/stop SYMBOL long|short PRICE``: is a stop-loss inside a liquidation cluster?"""

from __future__ import annotations

import asyncio
import functools
import math
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatAction, ParseMode

from bot.access import authorized
from bot.context import BotContext
from bot.handlers.maps import map_answer
from bot.texts.common import usage
from bot.texts.stops import STOP_EMPTY_MAP, stop_problem_text, stop_text
from bot.updates import message_of
from liqmap.charts.map_chart import ChartLabels, Mark, render_png
from liqmap.engine.snapshot import MapSnapshot
from liqmap.engine.stops import POSITIONS, StopCheck, check_stop, stop_problem

STOP_WINDOW = "7d"
STOP_COLOUR = "#f0b429"
SUGGESTION_COLOUR = "#58a6ff"


@dataclass(frozen=True)
class StopRequest:
    symbol: str
    position: str
    stop: float


def parse_stop(args: list[str]) -> StopRequest | None:
    """``BTC long 61500`` (``61,500`` too); None unless a symbol, a side and a positive
    finite price."""
    if len(args) != 3 or args[1].lower() not in POSITIONS:
        return None
    try:
        stop = float(args[2].replace(",", ""))
    except ValueError:
        return None
    if not math.isfinite(stop) or stop <= 0:
        return None
    return StopRequest(args[0], args[1].lower(), stop)


@authorized
async def stop_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    request = parse_stop(context.args or [])
    if request is None:
        await message.reply_text(usage("stop"))
        return
    deps = context.deps
    inst = await deps.market.instrument(request.symbol)
    answer = await map_answer(update, context, inst, STOP_WINDOW, ChatAction.UPLOAD_PHOTO)
    snapshot = answer.stored.snapshot
    if snapshot.liq_map.is_empty:
        await message.reply_text(STOP_EMPTY_MAP)
        return
    problem = stop_problem(snapshot.liq_map, request.position, request.stop)
    if problem is not None:
        await message.reply_text(stop_problem_text(problem, request.position, snapshot.price))
        return
    check = check_stop(snapshot.liq_map, snapshot.clusters, request.position, request.stop)
    caption = stop_text(check, snapshot, deps.clock(), answer.stored.computed_at, answer.error)
    photo = await asyncio.to_thread(functools.partial(_chart, snapshot, check))
    await message.reply_photo(photo, caption=caption, parse_mode=ParseMode.HTML)


def _chart(snapshot: MapSnapshot, check: StopCheck) -> bytes:
    """The map with the stop and the suggested level marked."""
    marks: list[Mark] = [(check.stop, "stop", STOP_COLOUR)]
    if check.suggestion is not None:
        marks.append((check.suggestion, "suggested", SUGGESTION_COLOUR))
    labels = ChartLabels.of(snapshot)
    return render_png(snapshot.liq_map, snapshot.clusters, labels, marks=marks, real=snapshot.real)
