"""Run the Application inside an existing event loop (tests and ``liqmap run`` alike)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES
from liqmap.errors import ConfigError
from liqmap.policies.retry import RetryPolicy, retry_call

log = logging.getLogger(__name__)

TELEGRAM_START_RETRY = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=60.0)
"""Start-up waits for Telegram as long as it takes, pausing up to a minute between tries."""
POLL_TIMEOUT_S = 10
"""How long one getUpdates long poll waits for an update, in whole seconds."""


@contextlib.asynccontextmanager
async def polling(
    application: Application,
    poll_timeout: int = POLL_TIMEOUT_S,
    start_retry: RetryPolicy = TELEGRAM_START_RETRY,
) -> AsyncIterator[Application]:
    """Initialize, start and poll; on exit stop polling and shut down in reverse order.

    ``post_init`` and ``post_shutdown`` run here: PTB calls them only in ``run_polling``.
    While Telegram cannot be reached, starting is retried as ``start_retry`` says; a token
    Telegram rejects raises ``ConfigError``. Long polls last up to ``poll_timeout`` seconds.
    """
    updater = application.updater
    if updater is None:
        raise ValueError("the Application was built without an updater: it cannot poll")
    await _initialize(application, start_retry)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        try:
            await application.start()
            await updater.start_polling(
                timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1
            )
            yield application
        finally:
            await stop_updates(application)
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
    finally:
        await application.shutdown()


async def stop_updates(application: Application) -> None:
    """Stop polling Telegram and wait for the updates being handled (once; later calls do
    nothing); the bot can still send until ``polling`` exits."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()


async def _initialize(application: Application, retry: RetryPolicy) -> None:
    def retrying(exc: BaseException, delay: float) -> None:
        log.warning("Telegram unreachable (%s); retrying in %.0fs", exc, delay)

    try:
        await retry_call(application.initialize, retry, (NetworkError,), retrying)
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather"
        ) from None
