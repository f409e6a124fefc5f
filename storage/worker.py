"""One thread for all database work, so the event loop never waits on SQLite or its lock.

Another process holding the write lock (a backup, the sqlite-utils CLI, ``liqmap fetch``)
makes database calls wait in this thread; chats and jobs that need no database go on, and
those that do wait no longer than the lock. One thread also means one connection is never
used by two threads at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DbWorker:
    """Runs the stores' synchronous methods off the event loop, one at a time, in order."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liqmap-db")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in the database thread; awaited, never blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for the work already queued, then stop the thread."""
        self._executor.shutdown(wait=True)
