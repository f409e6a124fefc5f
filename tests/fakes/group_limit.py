"""Telegram's limit per group, as the fake Bot API enforces it.

Telegram Bots FAQ, "My bot is hitting limits, how do I avoid this?": "If you're sending bulk
notifications to multiple users [...] your bot will not be able to send more than 20 messages
per minute to the same group." Past it Telegram answers HTTP 429 "Too Many Requests: retry
after N" with ``parameters.retry_after`` (Bot API, "ResponseParameters": "the number of
seconds left to wait before the request can be repeated"). The FAQ speaks of messages sent, so
chat actions and edits are not counted here; the minute is a rolling one.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

MINUTE_S = 60.0


def is_message(method: str) -> bool:
    """A call that puts a new message into a chat."""
    return method.startswith(("send", "copy", "forward")) and method != "sendChatAction"


@dataclass
class GroupLimit:
    """The messages each group got in the last minute, by the fake's clock (seconds)."""

    _sent: defaultdict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def retry_after(self, chat_id: int, now: float, per_minute: int) -> int | None:
        """Seconds until the group may get another of ``per_minute`` messages; None: now."""
        sent = self._sent[chat_id]
        while sent and sent[0] <= now - MINUTE_S:
            sent.popleft()
        if len(sent) < per_minute:
            return None
        return max(1, math.ceil(sent[0] + MINUTE_S - now))

    def note(self, chat_id: int, now: float) -> None:
        self._sent[chat_id].append(now)
