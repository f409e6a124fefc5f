"""Building-cluster alerts: which subscriptions opted in, and the detector's memory for each.

A row lives as long as its subscription (a foreign key deletes it with it); the memory and the
alerts it made are written in one transaction, so each alert is queued exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.signals.growing_clusters import BuildingWatch, as_state, from_state
from liqmap.signals.proximity import Alert
from storage.outbox import enqueue


@dataclass(frozen=True)
class Built:
    """One chat's check of a new map: its next memory and the alerts to deliver."""

    chat_id: int
    watch: BuildingWatch
    alerts: list[Alert]


class BuildingStore:
    """Opt subscriptions in and out; load memories; save them with their alerts."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock

    def set(self, chat_id: int, instrument: str, on: bool) -> None:
        """Opt a subscription in (keeping its memory if it already was) or out."""
        with self.db.atomic():
            if on:
                self.db.execute(
                    "INSERT OR IGNORE INTO building_watch (chat_id, instrument, updated_at) "
                    "VALUES (?, ?, ?)",
                    [chat_id, instrument, self.clock()],
                )
            else:
                self.db.execute(
                    "DELETE FROM building_watch WHERE chat_id = ? AND instrument = ?",
                    [chat_id, instrument],
                )

    def watching(self, chat_id: int, instrument: str) -> bool:
        """Whether the chat's subscription to ``instrument`` opted in."""
        row = self.db.execute(
            "SELECT 1 FROM building_watch WHERE chat_id = ? AND instrument = ?",
            [chat_id, instrument],
        ).fetchone()
        return row is not None

    def watches(self, instrument: str) -> dict[int, BuildingWatch]:
        """The memory of every chat that opted in for ``instrument``."""
        rows = self.db.execute(
            "SELECT chat_id, state FROM building_watch WHERE instrument = ?", [instrument]
        ).fetchall()
        return {chat_id: from_state(json.loads(state)) for chat_id, state in rows}

    def record(
        self, instrument: str, checks: Iterable[Built], snapshot_id: int | None, ttl_ms: int
    ) -> int:
        """Save every chat's memory and queue its alerts atomically; how many alerts."""
        now = self.clock()
        queued = 0
        with self.db.atomic():
            for built in checks:
                self.db.execute(
                    "UPDATE building_watch SET state = ?, updated_at = ? "
                    "WHERE chat_id = ? AND instrument = ?",
                    [json.dumps(as_state(built.watch)), now, built.chat_id, instrument],
                )
                for alert in built.alerts:
                    enqueue(self.db, built.chat_id, instrument, alert, snapshot_id, now, ttl_ms)
                    queued += 1
        return queued
