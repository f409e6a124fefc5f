"""Run the Application inside an existing event loop (tests and ``liqmap run`` alike)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from telegram.error import NetworkError
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES
from liqmap.policies.retry import RetryPolicy, retry_call

log = logging.getLogger(__name__)

TELEGRAM_START_RETRY = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=60.0)
"""Start-up waits for Telegram as long as it takes, pausing up to a minute between tries."""


@contextlib.asynccontextmanager
async def polling(application: Application, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Initialize, start and poll; on exit stop polling and shut down in reverse order.

    ``post_init`` and ``post_shutdown`` run here: PTB calls them only in ``run_polling``.
    While Telegram cannot be reached, starting is retried with growing pauses. Long polls
    last up to ``poll_timeout`` seconds.
    """
    updater = application.updater
    if updater is None:
        raise ValueError("the Application was built without an updater: it cannot poll")
    await _initialize(application)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await updater.start_polling(
            timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1
        )
        try:
            yield application
        finally:
            await updater.stop()
            await application.stop()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
    finally:
        await application.shutdown()


async def _initialize(application: Application) -> None:
    def retrying(exc: BaseException, delay: float) -> None:
        log.warning("Telegram unreachable (%s); retrying in %.0fs", exc, delay)

    await retry_call(application.initialize, TELEGRAM_START_RETRY, (NetworkError,), retrying)
