"""Real-cluster alerts: which subscriptions opted in, and the proximity detector's memory of
the real layer for each, kept apart from the estimate's (``alert_state``).

A row lives as long as its subscription (a foreign key deletes it with it, and moves it with a
group that became a supergroup); the memory and the alerts it made are written in one
transaction, so each alert is queued exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlite_utils import Database

from liqmap.signals.proximity import Watch, as_state, from_state
from storage.alerts import Checked
from storage.outbox import enqueue


class RealAlertStore:
    """Opt subscriptions in and out; load memories; save them with their alerts."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock

    def set(self, chat_id: int, instrument: str, on: bool) -> None:
        """Opt a subscription in (keeping its memory if it already was) or out."""
        with self.db.atomic():
            if on:
                self.db.execute(
                    "INSERT OR IGNORE INTO real_watch (chat_id, instrument, updated_at) "
                    "VALUES (?, ?, ?)",
                    [chat_id, instrument, self.clock()],
                )
            else:
                self.db.execute(
                    "DELETE FROM real_watch WHERE chat_id = ? AND instrument = ?",
                    [chat_id, instrument],
                )

    def watching(self, chat_id: int, instrument: str) -> bool:
        """Whether the chat's subscription to ``instrument`` opted in."""
        row = self.db.execute(
            "SELECT 1 FROM real_watch WHERE chat_id = ? AND instrument = ?",
            [chat_id, instrument],
        ).fetchone()
        return row is not None

    def watched(self, chat_id: int) -> frozenset[str]:
        """The chat's subscriptions that opted in."""
        rows = self.db.execute(
            "SELECT instrument FROM real_watch WHERE chat_id = ?", [chat_id]
        ).fetchall()
        return frozenset(row[0] for row in rows)

    def watches(self, instrument: str) -> dict[int, Watch]:
        """The memory of every chat that opted in for ``instrument``."""
        rows = self.db.execute(
            "SELECT chat_id, state FROM real_watch WHERE instrument = ?", [instrument]
        ).fetchall()
        return {chat_id: from_state(json.loads(state)) for chat_id, state in rows}

    def record(
        self, instrument: str, checks: Iterable[Checked], snapshot_id: int | None, ttl_ms: int
    ) -> int:
        """Save every chat's memory and queue its alerts atomically; how many alerts."""
        now = self.clock()
        queued = 0
        with self.db.atomic():
            for checked in checks:
                self.db.execute(
                    "UPDATE real_watch SET state = ?, updated_at = ? "
                    "WHERE chat_id = ? AND instrument = ?",
                    [json.dumps(as_state(checked.watch)), now, checked.chat_id, instrument],
                )
                for alert in checked.alerts:
                    enqueue(self.db, checked.chat_id, instrument, alert, snapshot_id, now, ttl_ms)
                    queued += 1
        return queued
