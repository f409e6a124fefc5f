"""A chat's webhooks and their deliveries: each alert or receipt of the chat, once per webhook.

Deliveries are made from the outbox in one transaction (``hand_over``): a row per webhook for
every outbox row not yet handed over, and the outbox rows marked, so a crash at any point
makes each delivery once. They then move as the outbox's rows do: ``pending`` to ``sending``
(committed before the request) to ``sent``, back to ``pending`` to try again, ``failed``,
``expired`` or ``unconfirmed``. A webhook failing ``PAUSE_AFTER`` deliveries in a row (or
gone: 404, 410) is paused; its chat is told once (``told_at``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.signals.digest import DIGEST, Digest
from liqmap.signals.proximity import Alert
from storage.outbox import EXPIRED, FAILED, PENDING, SENDING, SENT, UNCONFIRMED, message

MAX_WEBHOOKS = 3
"""Webhooks one chat may have."""
PAUSE_AFTER = 5
"""Deliveries failed in a row (each after its retries) that pause a webhook."""


class TooManyWebhooks(Exception):
    """The chat has ``MAX_WEBHOOKS`` already."""


@dataclass(frozen=True)
class Webhook:
    id: int
    chat_id: int
    url: str
    kind: str
    secret: str | None
    created_at: int
    paused_at: int | None
    paused_why: str | None
    failures: int

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


@dataclass(frozen=True)
class WebhookDelivery:
    """One alert or receipt due at one webhook."""

    id: int
    webhook: Webhook
    alert: Alert | Digest
    snapshot_id: int | None
    attempts: int
    expires_at: int | None


_COLUMNS = "id, chat_id, url, kind, secret, created_at, paused_at, paused_why, failures"


class WebhookStore:
    """Add, list and remove a chat's webhooks; hand outbox rows to them and move deliveries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, chat_id: int, url: str, kind: str, secret: str | None, now_ms: int) -> Webhook:
        """Keep a webhook for the chat; ``TooManyWebhooks`` past ``MAX_WEBHOOKS``."""
        with self.db.atomic():
            if len(self.of_chat(chat_id)) >= MAX_WEBHOOKS:
                raise TooManyWebhooks
            cursor = self.db.execute(
                "INSERT INTO webhooks (chat_id, url, kind, secret, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [chat_id, url, kind, secret, now_ms],
            )
            row_id = int(cursor.lastrowid or 0)
        found = self.get(row_id)
        assert found is not None
        return found

    def of_chat(self, chat_id: int) -> list[Webhook]:
        """The chat's webhooks in the order they were added (``/webhook list`` numbers them)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM webhooks WHERE chat_id = ? ORDER BY id", [chat_id]
        ).fetchall()
        return [Webhook(*row) for row in rows]

    def get(self, webhook_id: int) -> Webhook | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", [webhook_id]
        ).fetchone()
        return None if row is None else Webhook(*row)

    def remove(self, chat_id: int, number: int) -> Webhook | None:
        """Remove the chat's ``number``-th webhook (from 1) with its deliveries; which it was."""
        with self.db.atomic():
            hooks = self.of_chat(chat_id)
            if not 1 <= number <= len(hooks):
                return None
            gone = hooks[number - 1]
            self.db.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", [gone.id])
            self.db.execute("DELETE FROM webhooks WHERE id = ?", [gone.id])
        return gone

    def hand_over(self, now_ms: int) -> int:
        """Make a delivery per active webhook for each alert and receipt queued since the last
        call (digests stay in Telegram), and mark those outbox rows; how many were made."""
        with self.db.atomic():
            last = self.db.execute(
                "SELECT max(id) FROM outbox WHERE webhooks_at IS NULL"
            ).fetchone()[0]
            if last is None:
                return 0
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO webhook_deliveries (webhook_id, outbox_id, kind, payload, "
                "snapshot_id, created_at, next_attempt_at, expires_at) "
                "SELECT w.id, o.id, o.kind, o.payload, o.snapshot_id, ?, ?, o.expires_at "
                "FROM outbox o JOIN webhooks w ON w.chat_id = o.chat_id "
                "WHERE o.webhooks_at IS NULL AND o.id <= ? AND o.kind != ? "
                "AND w.paused_at IS NULL AND w.created_at <= o.created_at",
                [now_ms, now_ms, last, DIGEST],
            )
            made = cursor.rowcount
            self.db.execute(
                "UPDATE outbox SET webhooks_at = ? WHERE webhooks_at IS NULL AND id <= ?",
                [now_ms, last],
            )
        return made

    def due(self, now_ms: int, limit: int = 500) -> list[WebhookDelivery]:
        return self._select("d.state = ? AND d.next_attempt_at <= ?", [PENDING, now_ms], limit)

    def in_flight(self) -> list[WebhookDelivery]:
        """Deliveries left ``sending`` (a crash cut them off)."""
        return self._select("d.state = ?", [SENDING], 100_000)

    def begin(self, delivery_id: int, now_ms: int) -> None:
        self._update(delivery_id, "state = ?, attempted_at = ?", [SENDING, now_ms])

    def requeue(self, delivery_id: int) -> None:
        self._update(delivery_id, "state = ?", [PENDING])

    def retry(self, delivery_id: int, at_ms: int, error: str) -> None:
        self._update(
            delivery_id,
            "state = ?, next_attempt_at = ?, attempts = attempts + 1, error = ?",
            [PENDING, at_ms, error[:300]],
        )

    def unconfirm(self, delivery_id: int, error: str) -> None:
        self._update(delivery_id, "state = ?, error = ?", [UNCONFIRMED, error[:300]])

    def expire(self, delivery: WebhookDelivery, now_ms: int) -> Webhook | None:
        """The delivery's time ran out unsent: a failed delivery (see ``failed``)."""
        return self.failed(delivery, "expired unsent", now_ms, state=EXPIRED)

    def sent(self, delivery: WebhookDelivery, now_ms: int) -> None:
        """Delivered: the webhook's run of failures ends."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE webhook_deliveries SET state = ?, sent_at = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                [SENT, now_ms, delivery.id],
            )
            self.db.execute("UPDATE webhooks SET failures = 0 WHERE id = ?", [delivery.webhook.id])

    def failed(
        self, delivery: WebhookDelivery, error: str, now_ms: int, gone: bool = False,
        state: str = FAILED,
    ) -> Webhook | None:  # fmt: skip
        """The delivery failed for good; the webhook, if this paused it (``gone``, or
        ``PAUSE_AFTER`` failures in a row). Pausing fails its other pending deliveries."""
        hook = delivery.webhook
        with self.db.atomic():
            self.db.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, error = ? "
                "WHERE id = ?",
                [state, error[:300], delivery.id],
            )
            self.db.execute("UPDATE webhooks SET failures = failures + 1 WHERE id = ?", [hook.id])
            current = self.get(hook.id)
            if current is None or current.paused:
                return None
            if not gone and current.failures < PAUSE_AFTER:
                return None
            why = error if gone else f"{current.failures} deliveries failed in a row; last: {error}"
            self.db.execute(
                "UPDATE webhooks SET paused_at = ?, paused_why = ? WHERE id = ?",
                [now_ms, why[:300], hook.id],
            )
            self.db.execute(
                "UPDATE webhook_deliveries SET state = ?, error = 'webhook paused' "
                "WHERE webhook_id = ? AND state = ?",
                [FAILED, hook.id, PENDING],
            )
        return self.get(hook.id)

    def untold(self) -> list[Webhook]:
        """Paused webhooks whose chat has not been told yet."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM webhooks WHERE paused_at IS NOT NULL AND told_at IS NULL "
            "ORDER BY id"
        ).fetchall()
        return [Webhook(*row) for row in rows]

    def told(self, webhook_id: int, now_ms: int) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE webhooks SET told_at = ? WHERE id = ?", [now_ms, webhook_id])

    def counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT state, count(*) FROM webhook_deliveries GROUP BY state"
        ).fetchall()
        return {state: int(count) for state, count in rows}

    def prune(self, created_before_ms: int) -> int:
        """Delete finished deliveries made before ``created_before_ms``; how many went."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM webhook_deliveries WHERE state NOT IN (?, ?) AND created_at < ?",
                [PENDING, SENDING, created_before_ms],
            )
        return cursor.rowcount

    def _select(self, where: str, values: list, limit: int) -> list[WebhookDelivery]:
        columns = ", ".join(f"w.{c.strip()}" for c in _COLUMNS.split(","))
        rows = self.db.execute(
            f"SELECT d.id, d.kind, d.payload, d.snapshot_id, d.attempts, d.expires_at, {columns} "
            "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
            f"WHERE {where} ORDER BY d.id LIMIT ?",
            [*values, limit],
        ).fetchall()
        return [
            WebhookDelivery(row[0], Webhook(*row[6:]), message(row[1], row[2]), *row[3:6])
            for row in rows
        ]

    def _update(self, delivery_id: int, assignments: str, values: list) -> None:
        with self.db.atomic():
            self.db.execute(
                f"UPDATE webhook_deliveries SET {assignments} WHERE id = ?", [*values, delivery_id]
            )
