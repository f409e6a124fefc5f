"""Run the Application inside an existing event loop (tests and ``liqmap run`` alike)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, Updater

from bot.app import ALLOWED_UPDATES
from liqmap.config import Webhook
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
    Polling first deletes any webhook (PTB's bootstrap), keeping the updates Telegram holds.
    """

    async def start(updater: Updater) -> None:
        await updater.start_polling(
            timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1
        )

    async with _serving(application, start, start_retry):
        yield application


@contextlib.asynccontextmanager
async def webhook(
    application: Application, hook: Webhook, start_retry: RetryPolicy = TELEGRAM_START_RETRY
) -> AsyncIterator[Application]:
    """As ``polling``, but Telegram posts the updates to ``hook.url``, which a reverse proxy
    forwards to PTB's server on ``hook.listen``: it sets the webhook with the secret token and
    answers 403, handling nothing, to a request without that token in its
    ``X-Telegram-Bot-Api-Secret-Token`` header. The webhook stays set at exit, so Telegram
    keeps the updates that come while the service is down.

    A URL Telegram refuses, or a listen address taken, raises ``ConfigError``.
    """
    host, port = hook.listen

    async def start(updater: Updater) -> None:
        # set here first, so that a refusal is one clear line; PTB's start sets it again
        # (it always does), retrying quietly what just succeeded
        try:
            await updater.bot.set_webhook(
                hook.url, allowed_updates=ALLOWED_UPDATES, secret_token=hook.secret
            )
        except BadRequest as exc:
            raise ConfigError(
                f"Telegram refused LIQMAP_WEBHOOK_URL {hook.url}: {exc.message}"
            ) from None
        try:
            await updater.start_webhook(
                listen=host,
                port=port,
                url_path=hook.path,
                webhook_url=hook.url,
                secret_token=hook.secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=-1,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host or '*'}:{port} (LIQMAP_WEBHOOK_LISTEN): {exc.strerror}"
            ) from None
        log.info("webhook set: Telegram posts to %s, served on %s:%d", hook.url, host or "*", port)

    async with _serving(application, start, start_retry):
        yield application


@contextlib.asynccontextmanager
async def _serving(
    application: Application,
    start_updates: Callable[[Updater], Awaitable[None]],
    start_retry: RetryPolicy,
) -> AsyncIterator[None]:
    updater = application.updater
    if updater is None:
        raise ValueError("the Application was built without an updater: it cannot take updates")
    await _initialize(application, start_retry)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        try:
            await application.start()
            await retry_call(
                lambda: start_updates(updater), start_retry, (NetworkError, RetryAfter),
                _retrying,
            )  # fmt: skip
            yield
        finally:
            await stop_updates(application)
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
    finally:
        await application.shutdown()


async def stop_updates(application: Application) -> None:
    """Stop polling Telegram (or serving its webhook) and wait for the updates being handled
    (once; later calls do nothing); the bot can still send until ``polling`` exits."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()


def _retrying(exc: BaseException, delay: float) -> None:
    log.warning("Telegram unreachable (%s); retrying in %.0fs", exc, delay)


async def _initialize(application: Application, retry: RetryPolicy) -> None:
    try:
        await retry_call(application.initialize, retry, (NetworkError,), _retrying)
    except InvalidToken:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather"
        ) from None
