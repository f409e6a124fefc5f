"""The webhook store: outbox rows handed to the chat's webhooks once, what was queued before
the migration not handed at all, webhooks that follow a group into its supergroup, limits."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from liqmap.signals.proximity import Alert
from storage.outbox import enqueue
from storage.stores import Stores
from storage.webhooks import MAX_WEBHOOKS, TooManyWebhooks

CHAT, NOW = 1001, 1_790_000_000_000
BTC = "okx:BTC-USDT-SWAP"


def approach() -> Alert:
    return Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 99.0, 99.5, 1e7, 3.0, 100.0,
                 None, 0.5, False, "7d")  # fmt: skip


def queue(db: Database, chat: int = CHAT, at: int = NOW) -> None:
    with db.atomic():
        enqueue(db, chat, BTC, approach(), None, at, 900_000)


@pytest.fixture
def world(db: Database) -> Stores:
    stores = Stores(db, lambda: NOW)
    stores.chats.seen(CHAT, "private", None)
    yield stores
    stores.close()


def test_outbox_rows_are_handed_over_once_per_webhook(world: Stores) -> None:
    hooks = world.webhooks
    first = hooks.add(CHAT, "https://a.example.org/", "json", "s", NOW)
    hooks.add(CHAT, "https://b.example.org/", "discord", None, NOW)
    queue(world.db)
    queue(world.db, chat=2002)
    assert hooks.hand_over(NOW) == 2
    assert hooks.hand_over(NOW) == 0, "each outbox row once"
    queue(world.db)
    assert hooks.hand_over(NOW + 1) == 2
    due = hooks.due(NOW + 1)
    assert [d.webhook.id for d in due] == [first.id, first.id + 1, first.id, first.id + 1]
    assert due[0].alert == approach() and due[0].expires_at == NOW + 900_000


def test_finished_deliveries_are_pruned_and_pending_ones_kept(world: Stores) -> None:
    hooks = world.webhooks
    hooks.add(CHAT, "https://a.example.org/", "json", "s", NOW)
    queue(world.db)
    queue(world.db)
    hooks.hand_over(NOW)
    done, waiting = hooks.due(NOW)
    hooks.sent(done, NOW)
    assert hooks.prune(NOW) == 0, "made at NOW, not before"
    assert hooks.prune(NOW + 1) == 1
    assert [d.id for d in hooks.due(NOW)] == [waiting.id]


def test_a_chat_keeps_at_most_its_share_and_removal_takes_the_deliveries(world: Stores) -> None:
    hooks = world.webhooks
    for n in range(MAX_WEBHOOKS):
        hooks.add(CHAT, f"https://h{n}.example.org/", "json", "s", NOW)
    with pytest.raises(TooManyWebhooks):
        hooks.add(CHAT, "https://more.example.org/", "json", "s", NOW)
    queue(world.db)
    assert hooks.hand_over(NOW) == MAX_WEBHOOKS
    assert hooks.remove(CHAT, 0) is None and hooks.remove(CHAT, MAX_WEBHOOKS + 1) is None
    gone = hooks.remove(CHAT, 1)
    assert gone is not None and gone.url == "https://h0.example.org/"
    assert len(hooks.due(NOW)) == MAX_WEBHOOKS - 1


def test_webhooks_follow_a_group_into_its_supergroup(world: Stores) -> None:
    world.chats.seen(-4001, "group", "g")
    world.webhooks.add(-4001, "https://a.example.org/", "json", "s", NOW)
    world.chats.migrate(-4001, -1004001)
    assert world.webhooks.of_chat(-4001) == []
    assert [h.url for h in world.webhooks.of_chat(-1004001)] == ["https://a.example.org/"]


def test_a_supergroup_known_before_the_migration_keeps_its_own_webhooks(world: Stores) -> None:
    world.chats.seen(-4002, "group", "g")
    world.chats.seen(-1004002, "supergroup", "g")  # a command there came first
    world.webhooks.add(-4002, "https://a.example.org/", "json", "s", NOW)
    world.webhooks.add(-1004002, "https://b.example.org/", "json", "t", NOW + 1)
    world.chats.migrate(-4002, -1004002)
    urls = sorted(h.url for h in world.webhooks.of_chat(-1004002))
    assert urls == ["https://a.example.org/", "https://b.example.org/"]
    assert world.webhooks.of_chat(-4002) == []


def test_alerts_queued_before_the_migration_are_not_handed_over(tmp_path: Path) -> None:
    from storage.database import migrate
    from storage.migrations import MIGRATIONS, webhooks

    db = Database(sqlite3.connect(tmp_path / "old.db"))
    db.execute("PRAGMA foreign_keys = ON")
    before = MIGRATIONS.index(webhooks)
    for version, migration in enumerate(MIGRATIONS[:before], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO chats (id, kind, created_at, updated_at) VALUES (?, 'private', 0, 0)",
               [CHAT])  # fmt: skip
    queue(db, at=NOW - 10)
    migrate(db)
    stores = Stores(db, lambda: NOW)
    try:
        stores.webhooks.add(CHAT, "https://a.example.org/", "json", "s", NOW - 20)
        assert stores.webhooks.hand_over(NOW) == 0
        queue(db)
        assert stores.webhooks.hand_over(NOW) == 1
    finally:
        stores.close()
