"""Forum topics in storage: the migration, where each outbox row goes, a topic marked gone
once, and a group's move into its supergroup keeping its topics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from liqmap.signals.digest import Digest
from liqmap.signals.proximity import Alert
from storage.migrations import MIGRATIONS, forum_topics
from storage.outbox import enqueue
from storage.stores import Stores
from storage.topics import CLOSED, DELETED, Topic
from tests.fakes.clock import Clock

FORUM, OTHER = -1_001_000_000_777, -1_001_000_000_778
BTC, ETH = "okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP"
TTL_MS = 15 * 60_000


def approach(instrument: str = BTC) -> Alert:
    return Alert("approach", instrument, instrument.split(":")[1], "okx", "long", 99.0, 99.5,
                 1e7, 3.0, 100.0, None, 0.5, False, "7d")  # fmt: skip


def queued(stores: Stores, chat: int, instrument: str) -> None:
    with stores.db.atomic():
        enqueue(stores.db, chat, instrument, approach(instrument), None, stores.chats.clock(),
                TTL_MS)  # fmt: skip


def threads(stores: Stores) -> list[tuple[int, int | None, str | None]]:
    """(row id, topic, note) of every outbox row, oldest first."""
    rows = stores.db.execute("SELECT id, thread_id, topic_note FROM outbox ORDER BY id")
    return [tuple(row) for row in rows.fetchall()]


def test_the_migration_adds_topics_to_a_database_that_had_none(tmp_path: Path) -> None:
    from storage.database import migrate

    db = Database(sqlite3.connect(tmp_path / "old.db"))
    before = MIGRATIONS.index(forum_topics)
    for version, migration in enumerate(MIGRATIONS[:before], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    old = Stores(db, Clock())
    old.db.execute("INSERT INTO chats (id, kind, title, created_at, updated_at) "
                   "VALUES (?, 'supergroup', 'old', 0, 0)", [FORUM])  # fmt: skip
    old.db.execute("INSERT INTO subscriptions (chat_id, instrument, created_at) VALUES (?, ?, 0)",
                   [FORUM, BTC])  # fmt: skip
    migrate(db)
    stores = Stores(db, Clock())
    (sub,) = stores.chats.subscriptions(FORUM)
    assert sub.thread_id is None, "made before topics: the General topic"
    chat = stores.chats.get(FORUM)
    assert chat is not None and chat.digest_thread_id is None
    queued(stores, FORUM, BTC)
    (row,) = stores.outbox.due(stores.chats.clock())
    assert (row.thread_id, row.topic_note) == (None, None)
    assert stores.topics.of_chat(FORUM) == {}


def test_each_row_goes_to_its_subscriptions_topic_unless_the_topic_is_gone(
    stores: Stores,
) -> None:
    stores.chats.seen(FORUM, "supergroup", "traders")
    assert stores.chats.subscribe(FORUM, BTC, None, thread_id=7)
    assert stores.chats.subscribe(FORUM, ETH, None)
    assert not stores.chats.subscribe(FORUM, BTC, 0.5, thread_id=9), "exists: topic stays"
    assert stores.chats.subscription(FORUM, BTC).thread_id == 7
    queued(stores, FORUM, BTC)
    queued(stores, FORUM, ETH)
    queued(stores, FORUM, "okx:SOL-USDT-SWAP")  # a receipt after /unsubscribe: General
    assert [row.thread_id for row in stores.outbox.due(stores.chats.clock())] == [7, None, None]

    assert stores.chats.move(FORUM, BTC, 12)
    assert not stores.chats.move(FORUM, BTC, 12), "already there"
    queued(stores, FORUM, BTC)
    assert threads(stores)[-1][1] == 12


def test_a_topic_is_marked_gone_once_and_its_pending_rows_go_to_general(stores: Stores) -> None:
    stores.chats.seen(FORUM, "supergroup", "traders")
    stores.chats.subscribe(FORUM, BTC, None, thread_id=7)
    stores.chats.subscribe(FORUM, ETH, None, thread_id=7)
    stores.topics.named(FORUM, 7, "Majors")
    for key in (BTC, ETH, BTC):
        queued(stores, FORUM, key)
    first, second, third = (row.id for row in stores.outbox.due(stores.chats.clock()))
    stores.outbox.begin(first, 0)
    stores.outbox.begin(second, 0)

    assert stores.topics.gone(first, FORUM, 7, CLOSED), "the first row marks the topic"
    assert not stores.topics.gone(second, FORUM, 7, CLOSED), "no second note"
    assert threads(stores) == [(first, None, CLOSED), (second, None, None), (third, None, None)]
    assert stores.topics.of_chat(FORUM) == {7: Topic(7, "Majors", CLOSED)}
    assert {row.id for row in stores.outbox.due(stores.chats.clock())} == {first, second, third}

    queued(stores, FORUM, BTC)
    assert threads(stores)[-1][1:] == (None, None), "later alerts go straight to General"
    stores.topics.alive(FORUM, 7)  # /subscribe again from the reopened topic
    queued(stores, FORUM, BTC)
    assert threads(stores)[-1][1] == 7


def test_the_digest_goes_to_the_topic_it_was_switched_on_in(stores: Stores) -> None:
    stores.chats.seen(FORUM, "supergroup", "traders")
    stores.chats.set_digest_thread(FORUM, 5)
    now = stores.chats.clock()
    assert stores.digests.queue(FORUM, "2026-11-25", Digest(now, "UTC", (), (), 0, False), TTL_MS)
    stores.topics.gone(0, FORUM, 5, DELETED)  # row 0: none; the topic alone is marked
    assert stores.digests.queue(FORUM, "2026-11-26", Digest(now, "UTC", (), (), 0, False), TTL_MS)
    assert [row[1] for row in threads(stores)] == [None, None], "the pending one moved too"
    stores.topics.alive(FORUM, 5)
    assert stores.digests.queue(FORUM, "2026-11-27", Digest(now, "UTC", (), (), 0, False), TTL_MS)
    assert threads(stores)[-1][1] == 5


def test_a_group_moving_into_its_supergroup_keeps_the_topics_and_their_subscriptions(
    stores: Stores,
) -> None:
    group = -4001
    chats = stores.chats
    chats.seen(group, "group", "traders")
    chats.subscribe(group, BTC, None)
    chats.seen(FORUM, "supergroup", "traders")  # the supergroup, seen before the move
    chats.subscribe(FORUM, ETH, None, thread_id=7)
    stores.topics.named(FORUM, 7, "ETH talk")
    queued(stores, FORUM, ETH)
    chats.migrate(group, FORUM)
    assert [(s.instrument, s.thread_id) for s in chats.subscriptions(FORUM)] == [
        (BTC, None),
        (ETH, 7),
    ]
    assert stores.topics.of_chat(FORUM) == {7: Topic(7, "ETH talk", None)}
    queued(stores, FORUM, ETH)
    assert [row[1] for row in threads(stores)] == [7, 7]
    assert stores.topics.of_chat(group) == {}
    assert stores.topics.of_chat(OTHER) == {}
