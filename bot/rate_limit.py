"""Telegram's message budget shared out: alerts first, then answers, the chats taking turns.

Telegram takes about 30 messages a second from a bot in all, and 20 a minute into one group.
python-telegram-bot's ``AIORateLimiter`` keeps to that first come, first served, so a burst of
answers (one chat sending 150 commands, or many chats at once) held every alert and every
other chat's answer behind it. Here the overall pace goes through a ``RequestGate``, as the
exchange calls do: a waiting alert always goes first (the deliver job claims ``PRICE``
urgency, as the price checks that raised it), and chats waiting for answers take turns, one
message each (the claim ``bot.access.authorized`` sets for every update). The limit per group
and the pause after a 429 stay python-telegram-bot's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from liqmap.policies.request_gate import CLAIM, Claim, RequestGate, Urgency

MESSAGES_PER_SECOND = 30


class FairRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` whose overall limit lets the most urgent go first, chats in turn."""

    def __init__(self, per_second: float = MESSAGES_PER_SECOND, max_retries: int = 0) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._gate = RequestGate(1 / per_second)

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
            await self._gate.turn(CLAIM.get() or Claim(Urgency.ON_DEMAND, f"chat:{chat_id}"))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
