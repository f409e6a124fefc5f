"""One retry policy for every call to the outside: growing pauses up to a cap.

Only faults that may pass are retried: the caller names them. Anything else, our own
bugs included, surfaces at once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all (None: until it works), pauses growing by ``factor``."""

    attempts: int | None = 5
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 15.0

    def delay(self, retry: int) -> float:
        """Seconds to pause before retry number ``retry`` (0 for the first)."""
        return min(self.first_delay * self.factor**retry, self.max_delay)

    def delays(self) -> Iterator[float]:
        """The pauses between tries: ``attempts - 1`` of them, or endless."""
        retries = itertools.count() if self.attempts is None else range(self.attempts - 1)
        return (self.delay(retry) for retry in retries)


async def retry_call(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    transient: tuple[type[BaseException], ...],
    on_retry: Callable[[BaseException, float], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``call()`` until it returns; a ``transient`` fault pauses and tries again while the
    policy allows (``on_retry`` hears of each), then is raised. Other errors raise at once."""
    delays = policy.delays()
    while True:
        try:
            return await call()
        except transient as exc:
            delay = next(delays, None)
            if delay is None:
                raise
            on_retry(exc, delay)
            await sleep(delay)
