"""Alerts a subscription opts in to, with a detector's memory per chat: one table of
``(chat_id, instrument, state, updated_at)`` rows per kind (building clusters, real clusters).

A row lives as long as its subscription (a foreign key deletes it with it); the memory and the
alerts it made are written in one transaction, so each alert is queued exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from sqlite_utils import Database

from liqmap.signals.proximity import Alert
from storage.outbox import enqueue

W = TypeVar("W")
W_co = TypeVar("W_co", covariant=True)


class Checked(Protocol[W_co]):
    """One chat's check: its next memory and the alerts to deliver."""

    @property
    def chat_id(self) -> int: ...
    @property
    def watch(self) -> W_co: ...
    @property
    def alerts(self) -> list[Alert]: ...


class OptInWatches(Generic[W]):
    """Opt subscriptions in and out of one kind of alert; load memories; save them with their
    alerts. ``table`` holds the rows; ``to_state`` and ``from_state`` turn a memory into JSON
    and back."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], int],
        table: str,
        to_state: Callable[[W], dict[str, Any]],
        from_state: Callable[[Mapping[str, Any]], W],
    ) -> None:
        self.db = db
        self.clock = clock
        self.table = table
        self._to_state = to_state
        self._from_state = from_state

    def set(self, chat_id: int, instrument: str, on: bool) -> None:
        """Opt a subscription in (keeping its memory if it already was) or out."""
        with self.db.atomic():
            if on:
                self.db.execute(
                    f"INSERT OR IGNORE INTO {self.table} (chat_id, instrument, updated_at) "
                    "VALUES (?, ?, ?)",
                    [chat_id, instrument, self.clock()],
                )
            else:
                self.db.execute(
                    f"DELETE FROM {self.table} WHERE chat_id = ? AND instrument = ?",
                    [chat_id, instrument],
                )

    def watching(self, chat_id: int, instrument: str) -> bool:
        """Whether the chat's subscription to ``instrument`` opted in."""
        row = self.db.execute(
            f"SELECT 1 FROM {self.table} WHERE chat_id = ? AND instrument = ?",
            [chat_id, instrument],
        ).fetchone()
        return row is not None

    def watches(self, instrument: str) -> dict[int, W]:
        """The memory of every chat that opted in for ``instrument``."""
        rows = self.db.execute(
            f"SELECT chat_id, state FROM {self.table} WHERE instrument = ?", [instrument]
        ).fetchall()
        return {chat_id: self._from_state(json.loads(state)) for chat_id, state in rows}

    def record(
        self, instrument: str, checks: Iterable[Checked[W]], snapshot_id: int | None, ttl_ms: int
    ) -> int:
        """Save every chat's memory and queue its alerts atomically; how many alerts."""
        now = self.clock()
        queued = 0
        with self.db.atomic():
            for checked in checks:
                self.db.execute(
                    f"UPDATE {self.table} SET state = ?, updated_at = ? "
                    "WHERE chat_id = ? AND instrument = ?",
                    [json.dumps(self._to_state(checked.watch)), now, checked.chat_id, instrument],
                )
                for alert in checked.alerts:
                    enqueue(self.db, checked.chat_id, instrument, alert, snapshot_id, now, ttl_ms)
                    queued += 1
        return queued
