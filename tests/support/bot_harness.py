"""Playing users against the real bot: who they are, running the bot, talking to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from telegram.ext import Application

from bot.alert_sender import TelegramAlertSender
from bot.app import build_application
from bot.deps import BotDeps, open_deps
from bot.runner import polling
from jobs.scheduled.alert_jobs import AlertJobs
from jobs.scheduled.delivery import Delivery
from liqmap.config import Settings
from liqmap.exchanges.market_data import MarketData
from storage.stores import Stores
from tests.fakes.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.support.fast import FAST_CCXT, FAST_RETRY

ANN, BOB, CAROL, ADMIN = 1001, 1002, 1003, 9001
GROUP, GROUP_OWNER, MEMBER = -4001, 501, 777
ADMIN_GROUP = -4009
BOT = "liqmap_test_bot"


@asynccontextmanager
async def running(
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    ccxt_config: Mapping[str, Any] = FAST_CCXT,
) -> AsyncIterator[BotDeps]:
    """The bot polling the fake Bot API, with its stores and exchanges, until the block ends."""
    clock = clock or Clock()
    stores = Stores(db, clock, settings.access, settings.subscription_limits)
    async with MarketData(
        urls=settings.exchange_urls, clock=clock, retry=FAST_RETRY, ccxt_config=ccxt_config
    ) as market:
        core = open_deps(settings, market, stores, clock)
        try:
            async with polling(build_application(core), poll_timeout=1):
                yield core
        finally:
            stores.close()


@dataclass
class Service:
    """The bot and its alert jobs, wired as ``liqmap run`` wires them."""

    core: BotDeps
    application: Application
    jobs: AlertJobs


@asynccontextmanager
async def serving(
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    ccxt_config: Mapping[str, Any] = FAST_CCXT,
) -> AsyncIterator[Service]:
    """``running`` plus the refresh/watch/deliver jobs (not scheduled: the test runs them, or
    puts them on ``jobs.scheduled.scheduler.start_jobs``); alerts go out through the bot
    itself, behind the same rate limiter as the answers to commands."""
    clock = clock or Clock()
    stores = Stores(db, clock, settings.access, settings.subscription_limits)
    async with MarketData(
        urls=settings.exchange_urls, clock=clock, retry=FAST_RETRY, ccxt_config=ccxt_config
    ) as market:
        core = open_deps(settings, market, stores, clock)
        try:
            async with polling(build_application(core), poll_timeout=1) as application:
                delivery = Delivery(stores, TelegramAlertSender(application.bot), clock)
                jobs = AlertJobs(market, stores, core.maps, delivery, clock,
                                 settings.refresh_seconds)  # fmt: skip
                try:
                    yield Service(core, application, jobs)
                finally:
                    await jobs.stop()
        finally:
            stores.close()


async def say(tg: FakeTelegram, chat: int, text: str, replies: int = 1, **who: Any) -> list[dict]:
    """The user sends ``text``; wait for ``replies`` new messages to the chat; return them."""
    before = len(tg.sent(chat))
    tg.user_sends(chat, text, **who)
    sent = await tg.wait_for_sent(chat, before + replies, timeout=20)
    return sent[before:]


async def press(tg: FakeTelegram, chat: int, message_id: int, data: str, **who: Any) -> dict:
    """The user presses a button (or forges one); the bot's answer to the press."""
    mark = tg.mark()
    tg.user_clicks(chat, message_id, data, check_button=False, **who)
    return await tg.wait_for("answerCallbackQuery", since=mark)


def words(message: dict) -> str:
    return message.get("plain") or ""


def idle(tg: FakeTelegram, application: Application) -> bool:
    """Every update the fake queued was fetched and handled, error handlers included: nothing
    the bot does in answer is still on its way."""
    return (
        tg.pending_updates == 0
        and application.update_queue.empty()
        and application.update_processor.current_concurrent_updates == 0
    )


async def wait_until(
    condition: Callable[[], bool], within: float = 30.0, what: str = "the condition"
) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``within`` s (a
    generous deadline: it only bounds how long a failing test takes to say so)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)
