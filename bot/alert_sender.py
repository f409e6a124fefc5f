"""Alerts to Telegram: the bot's side of ``jobs.scheduled.delivery.AlertSender``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.keyboards.subscriptions import alert_keyboard
from bot.texts.alerts import alert_text, digest_text
from bot.texts.common import CAPTION_LIMIT, TEXT_LIMIT
from bot.texts.html import clip_html
from bot.texts.topics import topic_gone_note
from jobs.scheduled.delivery import (
    AnswerLost,
    ChatBlocked,
    ChatMoved,
    DeliveryRejected,
    RetryLater,
    TopicGone,
)
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import Alert
from storage.topics import CLOSED, DELETED

log = logging.getLogger(__name__)

NETWORK_RETRY_S = 5.0
SEND_READ_TIMEOUT_S = 30.0
"""How long a send waits for Telegram's answer. Past it nobody knows whether the chat got the
message (the Bot API takes no idempotency key), so it is set where only a lost answer goes:
Telegram answers a send within a second when well, and python-telegram-bot's default of 5 s
is a general figure, not Telegram's bound; an answer 8 s late gave a second copy. 30 s holds
one of delivery's 20 slots at most that long, far inside the 15 minutes an alert may wait."""
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport failures before the request left: Telegram cannot have the message."""
TOPIC_REFUSALS = {
    "topic_closed": CLOSED,
    "message thread not found": DELETED,
    "topic_deleted": DELETED,
}
"""Telegram's refusals of a message to a forum topic that takes none, by what they mean:
"Bad Request: TOPIC_CLOSED" (rteixeirax/qbittorrent_telegram_notification#12), "Bad Request:
message thread not found" for a deleted topic in a group (tdlib/telegram-bot-api#854,
ruitunion-org/feedback-bot#1), and "Bad Request: TOPIC_DELETED" also seen for a deleted topic
(SideCloudGroup/BetterForward#58). Matched in lower case: python-telegram-bot capitalises
the description ("Topic_closed")."""


class TelegramAlertSender:
    """Sends an alert as a photo with caption (or text without a chart), silently if asked."""

    def __init__(self, bot: Bot, read_timeout: float = SEND_READ_TIMEOUT_S) -> None:
        self.bot = bot
        self.read_timeout = read_timeout

    async def send(
        self,
        chat_id: int,
        alert: Alert | Digest,
        chart: bytes | str | None,
        thread_id: int | None = None,
        topic_note: str | None = None,
    ) -> str | None:
        """Into forum topic ``thread_id`` (None: General), with the note that the chat's topic
        is gone first when ``topic_note`` says so."""
        caption = digest_text(alert) if isinstance(alert, Digest) else alert_text(alert)
        if topic_note is not None:
            limit = TEXT_LIMIT if chart is None else CAPTION_LIMIT
            caption = clip_html(f"{topic_gone_note(topic_note)}\n\n{caption}", limit)
        markup = alert_keyboard(alert.instrument) if isinstance(alert, Alert) else None
        message = _Message(chat_id, thread_id, caption, alert.silent, markup)
        try:
            return await self._send(message, chart)
        except BadRequest as exc:
            _topic_refusal(exc)
            if isinstance(chart, str):
                log.warning("alert chart %s refused (%s); sending the text alone", chart, exc)
                await self._guarded(message)
                return None
            raise DeliveryRejected(str(exc)) from exc
        except (Forbidden, ChatMigrated, RetryAfter, NetworkError) as exc:
            raise _mapped(exc) from exc

    async def _guarded(self, message: _Message) -> None:
        try:
            await self._send(message, None)
        except BadRequest as exc:
            _topic_refusal(exc)
            raise DeliveryRejected(str(exc)) from exc
        except (Forbidden, ChatMigrated, RetryAfter, NetworkError) as exc:
            raise _mapped(exc) from exc

    async def _send(self, message: _Message, chart: bytes | str | None) -> str | None:
        """Send with the alert's buttons (mute, open map), into the message's topic."""
        chat_id, thread_id, caption = message.chat_id, message.thread_id, message.caption
        silent, markup = message.silent, message.markup
        if chart is None:
            await self.bot.send_message(
                chat_id, caption, parse_mode=ParseMode.HTML, disable_notification=silent,
                reply_markup=markup, message_thread_id=thread_id, read_timeout=self.read_timeout,
            )  # fmt: skip
            return None
        sent = await self.bot.send_photo(
            chat_id, chart, caption=caption, parse_mode=ParseMode.HTML, disable_notification=silent,
            reply_markup=markup, message_thread_id=thread_id, read_timeout=self.read_timeout,
        )  # fmt: skip
        return sent.photo[-1].file_id if sent.photo else None


@dataclass(frozen=True)
class _Message:
    """One alert or digest as it goes out: where (chat, forum topic), what and how."""

    chat_id: int
    thread_id: int | None
    caption: str
    silent: bool
    markup: InlineKeyboardMarkup | None


def _topic_refusal(exc: BadRequest) -> None:
    """Raise ``TopicGone`` if Telegram refused the message because its topic is gone."""
    text = exc.message.lower()
    for words, reason in TOPIC_REFUSALS.items():
        if words in text:
            raise TopicGone(reason) from exc


def _mapped(exc: Exception) -> Exception:
    if isinstance(exc, Forbidden):
        return ChatBlocked(str(exc))
    if isinstance(exc, ChatMigrated):
        return ChatMoved(exc.new_chat_id)
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return RetryLater(seconds, "rate limited by Telegram")
    cause = exc.__cause__
    if isinstance(cause, httpx.TransportError) and not isinstance(cause, NOT_SENT):
        # the request may have reached Telegram (a read timeout, a cut connection)
        return AnswerLost(NETWORK_RETRY_S, f"no answer: {type(cause).__name__} {exc}")
    return RetryLater(NETWORK_RETRY_S, f"network: {exc}")
