"""The heartbeat of ``liqmap run``: a beat from the event loop every few seconds, so that a
loop that hangs shows in ``liqmap doctor`` (``storage.heartbeat``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from storage import heartbeat

log = logging.getLogger(__name__)


async def keep_beating(
    path: Path,
    clock: Callable[[], int],
    every_s: float = heartbeat.HEARTBEAT_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Beat into ``path`` now and every ``every_s`` until cancelled; then remove it. A beat
    that cannot be written (a full disk) is logged and the next one tried."""
    try:
        while True:
            try:
                heartbeat.beat(path, clock())
            except OSError as exc:
                log.warning("cannot write the heartbeat %s: %s", path, exc)
            await sleep(every_s)
    finally:
        heartbeat.clear(path)
