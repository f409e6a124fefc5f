"""Telegram's message budget shared out: alerts first, then answers, the chats taking turns.

Telegram takes about 30 messages a second from a bot in all, and 20 a minute into one group.
python-telegram-bot's ``AIORateLimiter`` keeps to both first come, first served, so a burst of
answers (one chat sending 150 commands, or many chats at once) held every alert and every
other chat's answer behind it, and a member's chatter in a group held the group's next alert
back by a minute. Here the overall pace goes through a ``RequestGate``, as the exchange calls
do: a waiting alert always goes first (the deliver job claims ``PRICE`` urgency, as the price
checks that raised it), and chats waiting for answers take turns, one message each (the claim
``bot.access.authorized`` sets for every update). Each group's minute is our own
``GroupBudget``: answers keep to their share at the gate (``bot.access``), and an alert finding
the group's minute full is not sent but answered ``RetryAfter``, so the outbox tries it again
when a message leaves the minute. The pause after a 429 stays python-telegram-bot's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from liqmap.policies.group_budget import GroupBudget
from liqmap.policies.request_gate import CLAIM, Claim, RequestGate, Urgency

MESSAGES_PER_SECOND = 30


class FairRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` whose overall limit lets the most urgent go first, chats in turn, and
    whose limit per group keeps the alerts' share of the group's minute."""

    def __init__(
        self,
        groups: GroupBudget,
        clock: Callable[[], int],
        per_second: float = MESSAGES_PER_SECOND,
        max_retries: int = 0,
    ) -> None:
        super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
        self._gate = RequestGate(1 / per_second)
        self._groups = groups
        self._clock = clock

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if chat_id is not None:  # what Telegram's overall limit counts
            claim = CLAIM.get() or Claim(Urgency.ON_DEMAND, f"chat:{chat_id}")
            if claim.urgency is Urgency.PRICE and isinstance(chat_id, int) and chat_id < 0:
                wait_ms = self._groups.alert_wait_ms(chat_id, self._clock())
                if wait_ms > 0:
                    raise RetryAfter(timedelta(milliseconds=wait_ms))
            await self._gate.turn(claim)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
