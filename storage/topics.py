"""Forum topics: where a subscription's alerts go, the names the bot learnt, the dead ones.

A subscription (and a chat's digest) remembers the topic it was set up in
(``subscriptions.thread_id``, ``chats.digest_thread_id``; NULL is the General topic, or a
chat without topics). Each outbox row carries the topic it goes to (``outbox.thread_id``),
chosen when it is queued. A topic Telegram calls closed or deleted is marked here once: from
then on rows for it go to the General topic, and the one row that marked it carries a note
(``outbox.topic_note``) saying so, so the chat reads it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

CLOSED, DELETED = "closed", "deleted"
"""Why a topic takes no more messages, as Telegram says it (``TOPIC_CLOSED``, or the thread
not found: deleted)."""

LIVE = (
    "NOT EXISTS (SELECT 1 FROM forum_topics t WHERE t.chat_id = {chat} "
    "AND t.thread_id = {thread} AND t.gone IS NOT NULL)"
)
"""SQL: the topic ``{thread}`` of chat ``{chat}`` is not known to be gone."""
SUBSCRIPTION_THREAD = (
    "(SELECT s.thread_id FROM subscriptions s WHERE s.chat_id = ? AND s.instrument = ? AND "
    + LIVE.format(chat="s.chat_id", thread="s.thread_id")
    + ")"
)
"""SQL (parameters: chat id, instrument): the topic a subscription's alerts go to now; NULL
for the General topic, a topic gone, or no subscription (a receipt after /unsubscribe)."""
DIGEST_THREAD = (
    "(SELECT c.digest_thread_id FROM chats c WHERE c.id = ? AND "
    + LIVE.format(chat="c.id", thread="c.digest_thread_id")
    + ")"
)
"""SQL (parameter: chat id): the topic the chat's digest goes to now."""


@dataclass(frozen=True)
class Topic:
    """A forum topic of a chat as the bot knows it."""

    thread_id: int
    name: str | None
    gone: str | None
    """``CLOSED`` or ``DELETED`` once Telegram refused a message to it; None while it works."""


class TopicStore:
    """Learn topics' names, mark topics gone (once), and see a topic alive again."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock

    def named(self, chat_id: int, thread_id: int, name: str) -> None:
        """The topic's name, from its creation message (``forum_topic_created``)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO forum_topics (chat_id, thread_id, name) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id, thread_id) DO UPDATE SET name = excluded.name",
                [chat_id, thread_id, name],
            )

    def alive(self, chat_id: int, thread_id: int) -> None:
        """A command came from the topic: it takes messages again (reopened)."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE forum_topics SET gone = NULL, gone_at = NULL "
                "WHERE chat_id = ? AND thread_id = ?",
                [chat_id, thread_id],
            )

    def of_chat(self, chat_id: int) -> dict[int, Topic]:
        rows = self.db.execute(
            "SELECT thread_id, name, gone FROM forum_topics WHERE chat_id = ?", [chat_id]
        ).fetchall()
        return {row[0]: Topic(*row) for row in rows}

    def gone(self, row_id: int, chat_id: int, thread_id: int, reason: str) -> bool:
        """Telegram refused outbox row ``row_id`` because its topic is closed or deleted: mark
        the topic gone and send the row, and every other pending row for the topic, to the
        General topic, due now. The row that marks the topic carries ``reason`` as its note;
        True for it, False when the topic was marked already (no second note)."""
        now = self.clock()
        with self.db.atomic():
            first = (
                self.db.execute(
                    "INSERT INTO forum_topics (chat_id, thread_id, gone, gone_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(chat_id, thread_id) DO UPDATE SET "
                    "gone = excluded.gone, gone_at = excluded.gone_at "
                    "WHERE forum_topics.gone IS NULL",
                    [chat_id, thread_id, reason, now],
                ).rowcount
                > 0
            )
            self.db.execute(
                "UPDATE outbox SET thread_id = NULL, state = 'pending', next_attempt_at = ?, "
                "topic_note = ? WHERE id = ?",
                [now, reason if first else None, row_id],
            )
            self.db.execute(
                "UPDATE outbox SET thread_id = NULL "
                "WHERE chat_id = ? AND thread_id = ? AND state = 'pending'",
                [chat_id, thread_id],
            )
        return first
