"""``liqmap run``: the service, the Telegram bot and the scheduled jobs, until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from liqmap.cli.arguments import Commands
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data, open_stores, stop_on_request
from liqmap.config import Settings

log = logging.getLogger("liqmap")

STOP_GRACE_S = 2.0
"""At a stop, how long running jobs (a delivery under way) may finish before they are
cancelled."""


def add_commands(commands: Commands) -> None:
    """``run``."""
    run = commands.add_parser(
        "run",
        help="the service: Telegram bot and alert jobs (needs TELEGRAM_BOT_TOKEN), until stopped",
        description="Serve the Telegram bot and run the jobs (refresh maps, watch prices, "
        "deliver alerts) until SIGINT or SIGTERM. Settings come from the environment and .env "
        "(see .env.example).",
    )
    run.set_defaults(command=serve)


async def serve(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Serve until SIGINT or SIGTERM cancels this task; then stop in order, quietly: no new
    updates, the jobs (a moment to finish, then cancelled), the exchanges, the database."""
    from bot import log_scrub
    from bot.alert_sender import TelegramAlertSender
    from bot.app import build_application
    from bot.deps import open_deps
    from bot.runner import POLL_TIMEOUT_S, TELEGRAM_START_RETRY, polling, stop_updates, webhook
    from bot.texts.webhooks import webhook_text
    from bot.webhook_notice import TelegramPauseNotice
    from jobs.scheduled.alert_jobs import AlertJobs
    from jobs.scheduled.delivery import Delivery
    from jobs.scheduled.discovery import discovery_for
    from jobs.scheduled.heartbeat import keep_beating
    from jobs.scheduled.recorder import recorder_for
    from jobs.scheduled.scanner import Scanner
    from jobs.scheduled.scheduler import start_jobs
    from jobs.scheduled.webhooks import WebhookDeliveries
    from liqmap.webhooks.posting import WebhookPoster
    from storage.heartbeat import heartbeat_path

    token = settings.require_token()
    hook = settings.webhook
    log_scrub.install(token, *([hook.secret] if hook is not None else []))
    stop_on_request(tuning)
    poll_timeout = tuning.telegram_poll_timeout or POLL_TIMEOUT_S
    start_retry = tuning.telegram_start_retry or TELEGRAM_START_RETRY
    try:
        async with contextlib.AsyncExitStack() as stack:
            stores = stack.enter_context(open_stores(settings, tuning))
            clock = clock_of(tuning)
            beating = asyncio.create_task(keep_beating(heartbeat_path(settings.db_path), clock))
            stack.push_async_callback(_finish, beating)
            stack.callback(log.info, "stopping: exchanges closed")
            market = await stack.enter_async_context(market_data(settings, None, tuning))
            recorder = recorder_for(settings, stores, clock)
            discovery = discovery_for(settings, stores, clock)
            deps = open_deps(settings, market, stores, clock, recorder.status, discovery.status)
            bot = build_application(deps)
            updates = (
                polling(bot, poll_timeout, start_retry)
                if hook is None
                else webhook(bot, hook, start_retry)
            )
            application = await stack.enter_async_context(updates)
            delivery = Delivery(stores, TelegramAlertSender(application.bot), clock)
            scanner = Scanner(market, stores, clock, int(settings.scan_seconds * 1000),
                              settings.scan_weight_per_minute)  # fmt: skip
            webhooks = WebhookDeliveries(
                stores,
                deps.webhook_poster
                or WebhookPoster(settings.webhooks_private, allowed=settings.webhooks_allowed),
                webhook_text, TelegramPauseNotice(application.bot), clock,
            )  # fmt: skip
            jobs = AlertJobs(market, stores, deps.maps, delivery, clock, settings.refresh_seconds,
                             scanner=scanner, webhooks=webhooks)  # fmt: skip
            scheduler = start_jobs(
                jobs, settings.refresh_seconds, settings.price_seconds, settings.scan_seconds
            )
            recorder.follow(market, settings.refresh_seconds)
            discovery.follow(market, settings.refresh_seconds)
            discovery.poll_leaderboard()
            if settings.metrics_address is not None:
                from jobs.metrics import Sources, serving_metrics

                sources = Sources(stores, market, deps.maps, deps.budgets.policy, delivery,
                                  recorder.status, clock)  # fmt: skip
                host, port = settings.metrics_address
                await stack.enter_async_context(serving_metrics(host, port, sources))
            log.info("liqmap is running (database %s); stop with Ctrl-C", settings.db_path)
            try:
                await asyncio.Event().wait()
            finally:
                log.info("stopping: no new updates")
                await stop_updates(application)
                scheduler.pause()  # no new runs; its shutdown would cancel the running ones
                await jobs.stop(STOP_GRACE_S)
                scheduler.shutdown(wait=False)
                await recorder.stop()
                await discovery.stop()
                log.info("stopping: jobs stopped")
    except asyncio.CancelledError:
        log.info("liqmap stopped")
    return 0


async def _finish(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has let go."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
