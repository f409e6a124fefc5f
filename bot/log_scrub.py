"""Keep the bot token out of logs: it is part of every Bot API URL."""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore", "telegram.request")


class TokenScrubber(logging.Filter):
    """Replaces the token in a record's message (and arguments) before it is written."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "<token>")
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, "<token>")
        return True


def scrub(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text


def install(token: str) -> None:
    """Silence per-request HTTP logs and scrub the token from every root handler."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    scrubber = TokenScrubber(token)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenScrubber) for f in handler.filters):
            handler.addFilter(scrubber)
