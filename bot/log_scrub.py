"""Keep the bot token (part of every Bot API URL) and the webhook secret out of logs."""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore", "telegram.request")


class TokenScrubber(logging.Filter):
    """Replaces the token, and any other secret named, in a record's message (and arguments)
    and traceback before it is written."""

    def __init__(self, token: str, *secrets: str) -> None:
        super().__init__()
        self.token = token
        self.secrets: dict[str, str] = {}
        self.add(token, "<token>")
        for secret in secrets:
            self.add(secret, "<secret>")

    def add(self, secret: str, mask: str) -> None:
        """Scrub ``secret`` too, written as ``mask``."""
        if secret:
            self.secrets[secret] = mask

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg = self._scrubbed(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(secret in text for secret in self.secrets):
                record.exc_text = self._scrubbed(text)
        return True

    def _scrubbed(self, text: str) -> str:
        for secret, mask in self.secrets.items():
            text = text.replace(secret, mask)
        return text


def scrub(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text


def install(token: str, *secrets: str) -> None:
    """Silence per-request HTTP logs and scrub the token (and ``secrets``, e.g. the webhook
    secret) from every root handler."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        scrubbers = [f for f in handler.filters if isinstance(f, TokenScrubber)]
        if not scrubbers:
            handler.addFilter(TokenScrubber(token, *secrets))
            continue
        scrubbers[0].add(token, "<token>")
        for secret in secrets:
            scrubbers[0].add(secret, "<secret>")
