"""Queue each chat's daily digest once its local time has come (delivered by the outbox)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from jobs.scheduled.chat_guard import ChatGuard
from liqmap.signals.digest import SPAN_MS, Digest, Watched, due_day
from liqmap.signals.proximity import in_quiet_hours
from storage.chats import Chat
from storage.stores import Stores

log = logging.getLogger(__name__)

DIGEST_WINDOW = "7d"
"""The digest tells the nearest clusters of this window's stored map."""
DIGEST_TTL_MS = 6 * 3_600_000
"""A digest not delivered within this time (an outage) is dropped, not sent late."""


class Digests:
    """One pass: every chat whose digest is due today and not yet queued gets one; one
    chat's bad row skips that chat alone (``guard``)."""

    def __init__(self, stores: Stores, clock: Callable[[], int], guard: ChatGuard) -> None:
        self.stores = stores
        self.store = stores.digests
        self.clock = clock
        self.guard = guard

    async def run(self) -> int:
        """How many digests were queued."""
        run, queued = self.stores.run, 0
        for chat in await run(self.store.wanting):
            with self.guard.step(log, chat.id):
                queued += await self._digest(chat)
        return queued

    async def _digest(self, chat: Chat) -> int:
        """Queue the chat's digest if it is due and not queued yet; 1 if it was."""
        run, now = self.stores.run, self.clock()
        self.guard.zone(chat)
        day = due_day(chat.settings, now)
        if day is None or await run(self.store.queued, chat.id, day):
            return 0
        digest = await self._compose(chat, now)
        if not await run(self.store.queue, chat.id, day, digest, DIGEST_TTL_MS):
            return 0
        log.info("digest of %s queued for chat %s", day, chat.id)
        return 1

    async def _compose(self, chat: Chat, now: int) -> Digest:
        run, watched = self.stores.run, []
        for sub in await run(self.stores.chats.subscriptions, chat.id):
            stored = await run(self.stores.snapshots.latest, sub.instrument, DIGEST_WINDOW)
            if stored is not None:
                watched.append(Watched.of(stored.snapshot))
        swept, alerts = await run(self.store.sent_since, chat.id, now - SPAN_MS)
        silent = in_quiet_hours(chat.settings, now)
        return Digest(now, chat.settings.zone.key, tuple(watched), tuple(swept), alerts, silent)
