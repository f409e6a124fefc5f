"""The detector's memory per chat and instrument, written together with the alerts it made."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.signals.proximity import SWEPT, Alert, Watch, as_state, from_state
from storage.outbox import enqueue
from storage.sweeps import add_sweep


@dataclass(frozen=True)
class Checked:
    """One chat's check of an instrument: its next state and the alerts to deliver."""

    chat_id: int
    watch: Watch
    alerts: list[Alert]


class AlertStore:
    """Load detector states; save states and enqueue alerts in one transaction."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock

    def watches(self, instrument: str) -> dict[int, Watch]:
        rows = self.db.execute(
            "SELECT chat_id, state FROM alert_state WHERE instrument = ?", [instrument]
        ).fetchall()
        return {chat_id: from_state(json.loads(state)) for chat_id, state in rows}

    def forget_unsubscribed(self) -> int:
        """Delete the states of chats and instruments with no subscription any more; how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM alert_state WHERE NOT EXISTS (SELECT 1 FROM subscriptions s "
                "WHERE s.chat_id = alert_state.chat_id AND s.instrument = alert_state.instrument)"
            )
        return cursor.rowcount

    def record(
        self,
        instrument: str,
        checks: Iterable[Checked],
        snapshot_id: int | None,
        ttl_ms: int,
    ) -> int:
        """Save every chat's state and queue its alerts atomically; how many alerts."""
        now = self.clock()
        queued = 0
        with self.db.atomic():
            for checked in checks:
                self.db.execute(
                    "INSERT INTO alert_state (chat_id, instrument, state, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(chat_id, instrument) DO UPDATE SET "
                    "state = excluded.state, updated_at = excluded.updated_at",
                    [checked.chat_id, instrument, json.dumps(as_state(checked.watch)), now],
                )
                for alert in checked.alerts:
                    enqueue(self.db, checked.chat_id, instrument, alert, snapshot_id, now, ttl_ms)
                    if alert.kind == SWEPT:
                        add_sweep(self.db, checked.chat_id, alert, now)
                    queued += 1
        return queued
