"""The alert outbox: alerts are written here first and marked sent only once Telegram took them.

Rows move from ``pending`` to ``sending`` (committed before the send, with the time) and on to
``sent``, back to ``pending`` (to be tried again), ``failed`` (the chat is gone or refused) or
``unconfirmed`` (it may or may not have arrived, and is not sent again); ``pending`` rows
too old to be worth sending after an outage become ``expired``. A row still ``sending`` when
the service starts was cut off by a crash, or went out without its ``sent`` being written.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlite_utils import Database

from liqmap.signals.digest import DIGEST, Digest, Level, Watched
from liqmap.signals.proximity import ESTIMATE, Alert
from liqmap.signals.receipts import Receipt
from storage.topics import SUBSCRIPTION_THREAD

PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, EXPIRED, UNCONFIRMED = "failed", "expired", "unconfirmed"
UNFINISHED = (PENDING, SENDING)
"""States of rows that may still go out: their maps are kept, they are not pruned."""


@dataclass(frozen=True)
class Outgoing:
    """An alert (or a chat's daily digest) due for delivery."""

    id: int
    chat_id: int
    alert: Alert | Digest
    snapshot_id: int | None
    attempts: int
    expires_at: int | None
    thread_id: int | None = None
    """The forum topic it goes to; None: the General topic, or a chat without topics."""
    topic_note: str | None = None
    """Why it goes to the General topic instead of its own (``storage.topics.CLOSED`` or
    ``DELETED``), on the one row that found the topic gone; the chat is told with it."""


class Outbox:
    """Read and move outbox rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def pending(self) -> int:
        """Alerts not yet delivered (waiting, or being sent)."""
        row = self.db.execute(
            "SELECT count(*) FROM outbox WHERE state IN (?, ?)", list(UNFINISHED)
        ).fetchone()
        return int(row[0])

    def due(self, now_ms: int, limit: int = 1000) -> list[Outgoing]:
        """Pending alerts whose time has come, oldest first."""
        return self._select("state = ? AND next_attempt_at <= ?", [PENDING, now_ms], limit)

    def in_flight(self) -> list[Outgoing]:
        """Rows marked ``sending``, oldest first: at start, the sends a crash cut off (or whose
        ``sent`` could not be written)."""
        return self._select("state = ?", [SENDING], 1_000_000)

    def begin(self, row_id: int, now_ms: int) -> None:
        """Mark the row ``sending``, committed before it is handed to Telegram."""
        self._update(row_id, "state = ?, attempted_at = ?", [SENDING, now_ms])

    def mark_sent(self, row_id: int, now_ms: int) -> None:
        self._update(row_id, "state = ?, sent_at = ?, attempts = attempts + 1", [SENT, now_ms])

    def retry(self, row_id: int, at_ms: int, error: str) -> None:
        self._update(
            row_id,
            "state = ?, next_attempt_at = ?, attempts = attempts + 1, error = ?",
            [PENDING, at_ms, error[:300]],
        )

    def requeue(self, row_id: int) -> None:
        """A row cut off while sending goes back to ``pending``, due as it was."""
        self._update(row_id, "state = ?", [PENDING])

    def unconfirm(self, row_id: int, error: str) -> None:
        """It may have reached the chat or not; it is not sent again."""
        self._update(row_id, "state = ?, error = ?", [UNCONFIRMED, error[:300]])

    def fail(self, row_id: int, error: str) -> None:
        self._update(row_id, "state = ?, attempts = attempts + 1, error = ?", [FAILED, error[:300]])

    def expire(self, row_id: int) -> None:
        self._update(row_id, "state = ?", [EXPIRED])

    def prune(self, created_before_ms: int) -> int:
        """Delete finished rows (sent, failed, expired, unconfirmed) created before
        ``created_before_ms``; how many went."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM outbox WHERE state NOT IN (?, ?) AND created_at < ?",
                [*UNFINISHED, created_before_ms],
            )
        return cursor.rowcount

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {state: int(count) for state, count in rows}

    def _select(self, where: str, values: list, limit: int) -> list[Outgoing]:
        rows = self.db.execute(
            "SELECT id, chat_id, kind, payload, snapshot_id, attempts, expires_at, thread_id, "
            "topic_note FROM outbox "
            f"WHERE {where} ORDER BY id LIMIT ?",
            [*values, limit],
        ).fetchall()
        return [Outgoing(row[0], row[1], message(row[2], row[3]), *row[4:]) for row in rows]

    def _update(self, row_id: int, assignments: str, values: list) -> None:
        with self.db.atomic():
            self.db.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", [*values, row_id])


def enqueue(
    db: Database,
    chat_id: int,
    instrument: str,
    alert: Alert,
    snapshot_id: int | None,
    now_ms: int,
    ttl_ms: int,
) -> None:
    """Queue ``alert`` for ``chat_id``, due now, to the topic its subscription goes to (the
    General topic without one); call inside the caller's transaction."""
    db.execute(
        "INSERT INTO outbox (chat_id, instrument, kind, text, silent, payload, snapshot_id, "
        "created_at, next_attempt_at, expires_at, thread_id) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {SUBSCRIPTION_THREAD})",
        [
            chat_id,
            instrument,
            alert.kind,
            summary(alert),
            int(alert.silent),
            json.dumps(asdict(alert)),
            snapshot_id,
            now_ms,
            now_ms,
            now_ms + ttl_ms,
            chat_id,
            instrument,
        ],
    )


def summary(alert: Alert) -> str:
    """One plain line for logs and the database."""
    layer = "" if alert.layer == ESTIMATE else f" {alert.layer}"
    return (
        f"{alert.kind}{layer} {alert.label} {alert.side} {alert.low:g}-{alert.high:g} "
        f"at {alert.price:g} ({alert.distance_pct:.2f}%)"
    )


def message(kind: str, payload: str) -> Alert | Digest:
    """An outbox row's alert or digest, from its kind and JSON payload."""
    fields = json.loads(payload)
    if kind != DIGEST:
        return _alert(fields)
    watched = tuple(
        Watched(**(w | {"levels": tuple(Level(**level) for level in w["levels"])}))
        for w in fields["watched"]
    )
    swept = tuple(_alert(alert) for alert in fields["swept"])
    return Digest(**(fields | {"watched": watched, "swept": swept}))


def _alert(fields: dict) -> Alert:
    receipt = fields.get("receipt")
    if receipt is not None:
        fields["receipt"] = receipt_from(receipt)
    return Alert(**fields)


def receipt_from(fields: dict) -> Receipt:
    """A receipt from its JSON form (tuples come back as lists)."""
    return Receipt(**(fields | {k: tuple(fields[k]) for k in ("venues", "sampled")}))
