"""What a caller in the same process may change about a command: tests make it fast and stop
it without signals. The defaults are what ``liqmap`` does when run from a shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from liqmap.policies.retry import RetryPolicy

Stop = Callable[[], None]
"""Stops a running ``liqmap run`` or ``liqmap record`` as SIGTERM does; callable from any
thread."""


@dataclass(frozen=True)
class Tuning:
    """Pacing, retries, time and stopping of the commands; None means the production default."""

    exchange_retry: RetryPolicy | None = None
    """Retries of exchange requests; None: each command's own (the service's patient policy,
    doctor's single retry)."""
    ccxt_config: Mapping[str, object] = field(default_factory=dict)
    """Extra ccxt options for every exchange, e.g. ``rateLimit`` and ``timeout``."""
    telegram_start_retry: RetryPolicy | None = None
    """How ``liqmap run`` retries reaching Telegram at start; None: until it answers, pausing
    up to a minute."""
    telegram_poll_timeout: int | None = None
    """Seconds a getUpdates long poll lasts; None: the bot runner's default."""
    database_busy_timeout: float | None = None
    """Seconds doctor's database check waits for another process's write lock; None: 2."""
    clock: Callable[[], int] | None = None
    """Milliseconds since the epoch; None: the wall clock."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    """How ``liqmap record --for SECONDS`` waits."""
    on_start: Callable[[Stop], None] | None = None
    """None: SIGINT and SIGTERM stop ``run`` and ``record``. Otherwise no signal handler is
    installed (the command may run outside the main thread) and this receives, as the command
    starts, the function that stops it."""
