"""Daily digests: the chats that want one, what they were sent, and one digest per local day.

A digest goes through the outbox like an alert; the ``digests`` row written in the same
transaction (keyed by chat and local day) makes a second run, or a restart, queue nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlite_utils import Database

from liqmap.signals.digest import DIGEST, Digest
from liqmap.signals.proximity import APPROACH, RECEIPT, SWEPT, Alert
from storage.chats import Chat, ChatStore
from storage.outbox import SENT, message
from storage.topics import DIGEST_THREAD


class DigestStore:
    """Read what a digest needs and queue it, once per chat and local day."""

    def __init__(self, db: Database, chats: ChatStore) -> None:
        self.db = db
        self.chats = chats

    def wanting(self) -> list[Chat]:
        """Active, allowed chats with the digest on."""
        rows = self.db.execute(
            "SELECT id FROM chats WHERE digest_at IS NOT NULL AND active = 1 ORDER BY id"
        ).fetchall()
        chats = (self.chats.get(row[0]) for row in rows)
        return [chat for chat in chats if chat is not None and self.chats.access.allows(chat.id)]

    def queued(self, chat_id: int, day: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM digests WHERE chat_id = ? AND day = ?", [chat_id, day]
        ).fetchone()
        return row is not None

    def sent_since(self, chat_id: int, since_ms: int) -> tuple[list[Alert], int]:
        """Sweeps and receipts sent to the chat since ``since_ms``, and how many approaches."""
        rows = self.db.execute(
            "SELECT kind, payload FROM outbox WHERE chat_id = ? AND state = ? AND sent_at >= ? "
            "AND kind IN (?, ?, ?) ORDER BY id",
            [chat_id, SENT, since_ms, APPROACH, SWEPT, RECEIPT],
        ).fetchall()
        swept = [message(kind, payload) for kind, payload in rows if kind != APPROACH]
        return [a for a in swept if isinstance(a, Alert)], sum(k == APPROACH for k, _ in rows)

    def queue(self, chat_id: int, day: str, digest: Digest, ttl_ms: int) -> bool:
        """Queue ``digest`` as the chat's digest of ``day``; False if that day has one."""
        now = digest.made_at
        with self.db.atomic():
            if self.queued(chat_id, day):
                return False
            cursor = self.db.execute(
                "INSERT INTO outbox (chat_id, instrument, kind, text, silent, payload, "
                "created_at, next_attempt_at, expires_at, thread_id) "
                f"VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, {DIGEST_THREAD})",
                [
                    chat_id,
                    DIGEST,
                    f"digest of {day}",
                    int(digest.silent),
                    json.dumps(asdict(digest)),
                    now,
                    now,
                    now + ttl_ms,
                    chat_id,
                ],
            )
            self.db.execute(
                "INSERT INTO digests (chat_id, day, outbox_id) VALUES (?, ?, ?)",
                [chat_id, day, cursor.lastrowid],
            )
        return True

    def prune(self, before_day: str) -> int:
        """Forget which digests went out before ``before_day`` (``YYYY-MM-DD``): the rows only
        guard their own local day. How many went."""
        with self.db.atomic():
            return self.db.execute("DELETE FROM digests WHERE day < ?", [before_day]).rowcount
