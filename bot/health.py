"""Does Telegram accept the bot token? Asked with getMe (``liqmap doctor``)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from liqmap.checks import CheckResult


async def check_telegram(token: str | None, api_url: str) -> CheckResult:
    """The bot token, asked to Telegram at ``api_url``. The token itself is never in the
    detail."""
    if not token:
        return CheckResult("telegram", False, "TELEGRAM_BOT_TOKEN is not set (liqmap run needs it)")
    try:
        async with Bot(token, base_url=f"{api_url}/bot") as bot:
            me = bot.bot  # what initialize() learned from getMe
    except InvalidToken as exc:
        while isinstance(exc.__cause__, InvalidToken):  # the outer messages quote the token
            exc = exc.__cause__
        detail = f"the token was rejected by Telegram ({exc.message}); check it with @BotFather"
    except BadRequest as exc:  # a NetworkError to PTB, yet Telegram did answer
        detail = f"Telegram refused getMe: {exc.message}"
    except NetworkError as exc:
        detail = f"Telegram not reachable at {api_url}: {exc.message}"
    except TelegramError as exc:
        detail = f"Telegram answered getMe with an error: {exc.message}"
    else:
        return CheckResult("telegram", True, f"@{me.username} (bot id {me.id}) at {api_url}")
    return CheckResult("telegram", False, detail.replace(token, "<token>"))


async def check_webhook(token: str, api_url: str, url: str) -> CheckResult:
    """In webhook mode, what Telegram says of the webhook (getWebhookInfo): set to ``url``,
    and whether updates wait behind a failing post. Not set yet passes: ``liqmap run`` sets
    it at start."""
    try:
        async with Bot(token, base_url=f"{api_url}/bot") as bot:
            info = await bot.get_webhook_info()
    except TelegramError as exc:
        detail = f"Telegram did not answer getWebhookInfo: {exc.message}"
        return CheckResult("webhook", False, detail.replace(token, "<token>"))
    waiting = f"{info.pending_update_count} update(s) waiting"
    if not info.url:
        return CheckResult("webhook", True, "not set yet: liqmap run sets it at start")
    if info.url != url:
        return CheckResult(
            "webhook",
            False,
            f"Telegram posts to {info.url}, not LIQMAP_WEBHOOK_URL {url}: another service may "
            "use this token (liqmap run sets its own at start)",
        )
    if info.last_error_message and info.pending_update_count:
        return CheckResult(
            "webhook",
            False,
            f"{waiting} at {url}; Telegram's last post failed: {info.last_error_message} "
            "(is liqmap run up, and the proxy forwarding the secret header?)",
        )
    return CheckResult("webhook", True, f"Telegram posts to {url}; {waiting}")
