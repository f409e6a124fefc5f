"""Chats, their alert settings and their subscriptions: everything a restart must keep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from liqmap.errors import LimitReached
from liqmap.policies.access import Access
from liqmap.policies.fair_use import SubscriptionLimits
from liqmap.signals.chat_settings import ChatSettings, QuietHours


@dataclass(frozen=True)
class Chat:
    """A private chat or group the bot talks to."""

    id: int
    kind: str
    title: str | None
    active: bool
    settings: ChatSettings
    refused_at: int | None = None
    digest_thread_id: int | None = None
    """The forum topic its digest goes to (None: the General topic)."""


@dataclass(frozen=True)
class Subscription:
    """A chat watching one instrument; ``distance_pct`` None means the chat's setting."""

    chat_id: int
    instrument: str
    distance_pct: float | None
    created_at: int
    muted_until: int | None = None
    """No alerts for this subscription before this time (ms)."""
    thread_id: int | None = None
    """The forum topic it was made in, where its alerts go (None: the General topic, or a
    chat without topics)."""

    def distance(self, settings: ChatSettings) -> float:
        return self.distance_pct if self.distance_pct is not None else settings.alert_distance_pct

    def muted(self, now: int) -> bool:
        return self.muted_until is not None and now < self.muted_until


@dataclass(frozen=True)
class Migration:
    """What moving a group into its supergroup left behind."""

    dropped: tuple[str, ...] = ()
    """The supergroup's own subscriptions that did not fit under the cap beside the group's."""
    settings_replaced: bool = False
    """The supergroup had settings of its own, replaced by the group's."""

    @property
    def news(self) -> bool:
        """Whether the supergroup lost something it had set and should be told."""
        return bool(self.dropped) or self.settings_replaced


class ChatStore:
    """Read and write chats and subscriptions, within the access rule and the limits.

    Chats the allowlist leaves out keep their subscriptions, paused: they count as neither
    subscribers nor watchers until allowed again.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], int],
        access: Access | None = None,
        limits: SubscriptionLimits | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.access = access or Access()
        self.limits = limits or SubscriptionLimits()
        self._allowed = [
            len(self.access.allowed_chats),
            json.dumps(sorted(self.access.allowed_chats)),
        ]

    def seen(self, chat_id: int, kind: str, title: str | None) -> Chat:
        """Record that a chat talked to the bot (creating it, reactivating it); return it."""
        now = self.clock()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO chats (id, kind, title, active, created_at, updated_at) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, "
                "title = excluded.title, active = 1, updated_at = excluded.updated_at",
                [chat_id, kind, title, now, now],
            )
        chat = self.get(chat_id)
        assert chat is not None
        return chat

    def get(self, chat_id: int) -> Chat | None:
        row = next(self.db.query("SELECT * FROM chats WHERE id = ?", [chat_id]), None)
        return _chat(row) if row else None

    def save_settings(self, chat_id: int, settings: ChatSettings) -> None:
        quiet = settings.quiet
        with self.db.atomic():
            self.db.execute(
                "UPDATE chats SET alert_distance_pct = ?, min_strength = ?, cooldown_minutes = ?, "
                "quiet_start = ?, quiet_end = ?, tz = ?, digest_at = ?, updated_at = ? "
                "WHERE id = ?",
                [
                    settings.alert_distance_pct,
                    settings.min_strength,
                    settings.cooldown_minutes,
                    quiet.start if quiet else None,
                    quiet.end if quiet else None,
                    settings.tz,
                    settings.digest_at,
                    self.clock(),
                    chat_id,
                ],
            )

    def set_active(self, chat_id: int, active: bool) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE chats SET active = ?, updated_at = ? WHERE id = ?",
                [int(active), self.clock(), chat_id],
            )

    def first_refusal(self, chat_id: int, kind: str, title: str | None) -> bool:
        """Note a chat outside the allowlist; True only the first time (it gets one answer)."""
        now = self.clock()
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO chats (id, kind, title, active, refused_at, created_at, updated_at) "
                "VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "refused_at = excluded.refused_at WHERE chats.refused_at IS NULL",
                [chat_id, kind, title, now, now, now],
            )
        return cursor.rowcount > 0

    def migrate(self, old_id: int, new_id: int) -> Migration:
        """A group became a supergroup: move the chat, its settings, subscriptions (with their
        building alerts), digests and pending alerts to the new id.

        When the supergroup is known already (a command there came before the migration), the
        old group's settings and subscriptions win, and the supergroup's own subscriptions fill
        what room the cap leaves; the rest are dropped and returned.
        """
        moved = Migration()
        with self.db.atomic():
            old, new = self.get(old_id), self.get(new_id)
            if old is not None and new is not None:
                dropped = self._fold_into(old_id, new_id)
                own = new.settings not in (old.settings, ChatSettings())
                moved = Migration(tuple(dropped), settings_replaced=own)
            self.db.execute("UPDATE chats SET id = ? WHERE id = ?", [new_id, old_id])
            for table in ("outbox", "sweeps"):
                self.db.execute(
                    f"UPDATE {table} SET chat_id = ? WHERE chat_id = ? AND state = 'pending'",
                    [new_id, old_id],
                )
            self.db.execute(
                "UPDATE OR REPLACE alert_state SET chat_id = ? WHERE chat_id = ?", [new_id, old_id]
            )
            self.db.execute(
                "UPDATE OR IGNORE forum_topics SET chat_id = ? WHERE chat_id = ?", [new_id, old_id]
            )
            self.db.execute("DELETE FROM forum_topics WHERE chat_id = ?", [old_id])
            self.db.execute(
                "UPDATE OR IGNORE digests SET chat_id = ? WHERE chat_id = ?", [new_id, old_id]
            )
            self.db.execute("DELETE FROM digests WHERE chat_id = ?", [old_id])
        return moved

    def _fold_into(self, old_id: int, new_id: int) -> list[str]:
        """Give the old group the supergroup's subscriptions it lacks, within the cap, and its
        webhooks, then drop the supergroup's row (it keeps its name and kind); the
        subscriptions over the cap."""
        old = {s.instrument for s in self.subscriptions(old_id)}
        own = sorted(
            (s for s in self.subscriptions(new_id) if s.instrument not in old),
            key=lambda s: (s.created_at, s.instrument),
        )
        room = max(0, self.limits.per_chat - len(old))
        dropped = [s.instrument for s in own[room:]]
        for instrument in (*old, *dropped):
            self.db.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? AND instrument = ?",
                [new_id, instrument],
            )
        self.db.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [old_id, new_id])
        self.db.execute("UPDATE webhooks SET chat_id = ? WHERE chat_id = ?", [old_id, new_id])
        self.db.execute(
            "UPDATE chats SET (kind, title, active) = (SELECT n.kind, n.title, "
            "max(n.active, chats.active) FROM chats n WHERE n.id = ?) WHERE id = ?",
            [new_id, old_id],
        )
        self.db.execute("DELETE FROM chats WHERE id = ?", [new_id])
        return sorted(dropped)

    def subscribe(
        self,
        chat_id: int,
        instrument: str,
        distance_pct: float | None,
        thread_id: int | None = None,
    ) -> bool:
        """Subscribe in forum topic ``thread_id`` (None: General, or no topics), or give an
        existing subscription its own distance (None keeps the one it has; its topic stays:
        ``move``); True when the subscription is new.

        Raises ``LimitReached`` when the chat follows all it may, or a new instrument would
        take the service past the instruments it watches.
        """
        with self.db.atomic():
            existed = self.subscription(chat_id, instrument) is not None
            if not existed:
                self._check_limits(chat_id, instrument)
            self.db.execute(
                "INSERT INTO subscriptions (chat_id, instrument, distance_pct, created_at, "
                "thread_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT(chat_id, instrument) "
                "DO UPDATE SET distance_pct = coalesce(excluded.distance_pct, distance_pct)",
                [chat_id, instrument, distance_pct, self.clock(), thread_id],
            )
        return not existed

    def unsubscribe(self, chat_id: int, instrument: str | None = None) -> int:
        """Drop one subscription, or all of the chat's with ``instrument`` None; how many went."""
        with self.db.atomic():
            if instrument is None:
                cursor = self.db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
            else:
                cursor = self.db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND instrument = ?",
                    [chat_id, instrument],
                )
        return cursor.rowcount

    def move(self, chat_id: int, instrument: str, thread_id: int | None) -> bool:
        """Send an existing subscription's alerts to forum topic ``thread_id`` (None: General)
        from now on; True if that changed its topic."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE subscriptions SET thread_id = ? WHERE chat_id = ? AND instrument = ? "
                "AND thread_id IS NOT ?",
                [thread_id, chat_id, instrument, thread_id],
            )
        return cursor.rowcount > 0

    def set_digest_thread(self, chat_id: int, thread_id: int | None) -> None:
        """The forum topic the chat's digest goes to (None: General)."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE chats SET digest_thread_id = ? WHERE id = ?", [thread_id, chat_id]
            )

    def set_distance(self, chat_id: int, instrument: str, distance_pct: float) -> bool:
        """Change an existing subscription's distance; False if there is none."""
        return self._update(chat_id, instrument, "distance_pct", distance_pct)

    def mute(self, chat_id: int, instrument: str, until: int | None) -> bool:
        """Mute an existing subscription until ``until`` (None unmutes); False if none."""
        return self._update(chat_id, instrument, "muted_until", until)

    def subscription(self, chat_id: int, instrument: str) -> Subscription | None:
        row = self.db.execute(
            f"SELECT {_SUBSCRIPTION} FROM subscriptions WHERE chat_id = ? AND instrument = ?",
            [chat_id, instrument],
        ).fetchone()
        return Subscription(*row) if row else None

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {_SUBSCRIPTION} FROM subscriptions WHERE chat_id = ? ORDER BY instrument",
            [chat_id],
        ).fetchall()
        return [Subscription(*row) for row in rows]

    def subscribers(self, instrument: str) -> list[tuple[Chat, Subscription]]:
        """Active, allowed chats subscribed to ``instrument``, with their subscriptions."""
        rows = self.db.query(
            "SELECT chats.*, s.distance_pct AS sub_distance, s.created_at AS sub_created, "
            "s.muted_until AS sub_muted, s.thread_id AS sub_thread "
            "FROM subscriptions s JOIN chats ON chats.id = s.chat_id "
            f"WHERE s.instrument = ? AND chats.active = 1 AND {_ALLOWED} ORDER BY chats.id",
            [instrument, *self._allowed],
        )
        return [
            (_chat(row), Subscription(row["id"], instrument, row["sub_distance"],
                                      row["sub_created"], row["sub_muted"], row["sub_thread"]))
            for row in rows
        ]  # fmt: skip

    def _watched(self, instrument: str) -> bool:
        """Whether an active, allowed chat subscribes to ``instrument`` (one index lookup,
        where listing every watched instrument reads all subscriptions)."""
        row = self.db.execute(
            "SELECT 1 FROM subscriptions s JOIN chats ON chats.id = s.chat_id "
            f"WHERE s.instrument = ? AND chats.active = 1 AND {_ALLOWED} LIMIT 1",
            [instrument, *self._allowed],
        ).fetchone()
        return row is not None

    def watched_instruments(self) -> list[str]:
        """Instruments at least one active, allowed chat subscribes to."""
        rows = self.db.execute(
            "SELECT DISTINCT s.instrument FROM subscriptions s JOIN chats ON chats.id = s.chat_id "
            f"WHERE chats.active = 1 AND {_ALLOWED} ORDER BY s.instrument",
            self._allowed,
        ).fetchall()
        return [row[0] for row in rows]

    def _update(self, chat_id: int, instrument: str, column: str, value: object) -> bool:
        with self.db.atomic():
            cursor = self.db.execute(
                f"UPDATE subscriptions SET {column} = ? WHERE chat_id = ? AND instrument = ?",
                [value, chat_id, instrument],
            )
        return cursor.rowcount > 0

    def _check_limits(self, chat_id: int, instrument: str) -> None:
        follows = self.db.execute(
            "SELECT count(*) FROM subscriptions WHERE chat_id = ?", [chat_id]
        ).fetchone()[0]
        if follows >= self.limits.per_chat:
            raise LimitReached(
                f"This chat already follows {self.limits.per_chat} symbols, the most it can; "
                "/unsubscribe one first."
            )
        if self._watched(instrument):
            return
        if len(self.watched_instruments()) >= self.limits.watched:
            raise LimitReached(
                f"The bot already watches {self.limits.watched} instruments, the most it can; "
                "subscribe to one of those (e.g. BTC) or ask its owner."
            )


_SUBSCRIPTION = "chat_id, instrument, distance_pct, created_at, muted_until, thread_id"
_ALLOWED = "(? = 0 OR chats.id IN (SELECT value FROM json_each(?)))"
"""Everyone when the allowlist is empty, else its chats (parameters: its size, its JSON)."""


def _chat(row: dict[str, Any]) -> Chat:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = QuietHours(row["quiet_start"], row["quiet_end"])
    return Chat(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        active=bool(row["active"]),
        settings=ChatSettings(
            alert_distance_pct=row["alert_distance_pct"],
            min_strength=row["min_strength"],
            cooldown_minutes=row["cooldown_minutes"],
            quiet=quiet,
            tz=row["tz"],
            digest_at=row["digest_at"],
        ),
        refused_at=row["refused_at"],
        digest_thread_id=row["digest_thread_id"],
    )
