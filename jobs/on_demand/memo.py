"""Made once however many ask (``Shared``), and kept while fresh (``Memo``): the memory of the
on-demand services."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Shared(Generic[K, V]):
    """Work by key, done once for everyone who asks while it runs; its errors reach them all."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(task)


class Memo(Generic[K, V]):
    """Values by key: the one made in the last ``fresh_ms``, else a new one, made once for
    everyone who asks while it is made. The last ``keep`` stay in memory."""

    def __init__(self, fresh_ms: int, clock: Callable[[], int], keep: int) -> None:
        self.fresh_ms = fresh_ms
        self.clock = clock
        self.keep = keep
        self._made: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._shared: Shared[K, V] = Shared()

    def last(self, key: K) -> V | None:
        """The last value made for ``key``, fresh or not."""
        made = self._made.get(key)
        return None if made is None else made[0]

    def would_make(self, key: K) -> bool:
        """Whether ``get`` would make a new value rather than answer from memory."""
        made = self._made.get(key)
        return made is None or self.clock() - made[1] >= self.fresh_ms

    async def get(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        """The fresh value of ``key``, else ``make()``'s, shared with those already waiting
        for it; its errors reach every one of them."""
        if not self.would_make(key):
            self._made.move_to_end(key)
            return self._made[key][0]
        return await self._shared.run(key, lambda: self._make(key, make))

    def replace(self, key: K, old: V, new: V) -> None:
        """Put ``new`` in place of ``old`` (as fresh as it was), unless a newer value came."""
        made = self._made.get(key)
        if made is not None and made[0] is old:
            self._made[key] = (new, made[1])

    async def _make(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        value = await make()
        self._made[key] = (value, self.clock())
        self._made.move_to_end(key)
        while len(self._made) > self.keep:
            self._made.popitem(last=False)
        return value
