"""Chats and subscriptions in SQLite: created, changed, moved, and kept across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from liqmap.errors import LimitReached
from liqmap.policies.access import Access
from liqmap.policies.fair_use import SubscriptionLimits
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from storage.chats import ChatStore, Migration
from storage.database import open_database
from storage.growing_clusters import BuildingStore
from tests.fakes.clock import Clock

BTC, ETH = "okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP"
SOL, DOGE = "okx:SOL-USDT-SWAP", "okx:DOGE-USDT-SWAP"


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = open_database(path)
    chats = ChatStore(db, Clock(1_000))
    chats.seen(7, "private", "ann")
    chats.save_settings(7, ChatSettings(0.8, 3.0, 45, QuietHours(60, 120)))
    chats.subscribe(7, BTC, 0.5)
    chats.subscribe(7, ETH, None)
    db.close()

    again = ChatStore(open_database(path), Clock(2_000))
    chat = again.get(7)
    assert chat is not None and chat.active and chat.kind == "private"
    assert chat.settings == ChatSettings(0.8, 3.0, 45, QuietHours(60, 120))
    subs = again.subscriptions(7)
    assert [(s.instrument, s.distance_pct) for s in subs] == [(BTC, 0.5), (ETH, None)]
    assert subs[1].distance(chat.settings) == 0.8


def test_subscribe_twice_updates_and_unsubscribe(db: Database) -> None:
    chats = ChatStore(db, Clock(1_000))
    chats.seen(1, "private", None)
    assert chats.subscribe(1, BTC, None) is True
    assert chats.subscribe(1, BTC, 2.0) is False
    assert chats.subscription(1, BTC).distance_pct == 2.0
    assert chats.subscribe(1, BTC, None) is False
    assert chats.subscription(1, BTC).distance_pct == 2.0, "None keeps the distance it has"
    assert chats.unsubscribe(1, ETH) == 0
    assert chats.unsubscribe(1, BTC) == 1
    chats.subscribe(1, BTC, None)
    chats.subscribe(1, ETH, None)
    assert chats.unsubscribe(1) == 2
    assert chats.subscriptions(1) == []


def test_inactive_chats_are_not_subscribers_and_come_back_when_they_write(db: Database) -> None:
    chats = ChatStore(db, Clock(1_000))
    for chat_id in (1, 2):
        chats.seen(chat_id, "private", None)
        chats.subscribe(chat_id, BTC, None)
    chats.set_active(2, False)
    assert [chat.id for chat, _ in chats.subscribers(BTC)] == [1]
    assert chats.watched_instruments() == [BTC]
    chats.seen(2, "private", None)
    assert [chat.id for chat, _ in chats.subscribers(BTC)] == [1, 2]


def test_a_group_moving_to_a_supergroup_keeps_its_subscriptions(db: Database) -> None:
    chats = ChatStore(db, Clock(1_000))
    chats.seen(-10, "group", "traders")
    chats.save_settings(-10, ChatSettings(alert_distance_pct=0.3))
    chats.subscribe(-10, BTC, None)
    db.execute(
        "INSERT INTO outbox (chat_id, instrument, kind, text, created_at, next_attempt_at) "
        "VALUES (-10, ?, 'approach', 'hi', 1, 1)",
        [BTC],
    )
    chats.migrate(-10, -10010)
    assert chats.get(-10) is None
    moved = chats.get(-10010)
    assert moved is not None and moved.settings.alert_distance_pct == 0.3
    assert [s.instrument for s in chats.subscriptions(-10010)] == [BTC]
    assert db.execute("SELECT chat_id FROM outbox").fetchone()[0] == -10010


def test_moving_into_a_chat_that_already_exists_merges_within_the_cap(db: Database) -> None:
    clock = Clock(1_000)
    chats = ChatStore(db, clock, limits=SubscriptionLimits(per_chat=3, watched=10))
    building = BuildingStore(db, clock)
    chats.seen(-10, "group", "old")
    chats.save_settings(-10, ChatSettings(0.4, 3.0, 10, tz="Europe/Berlin", digest_at=480))
    chats.subscribe(-10, BTC, 0.5)
    building.set(-10, BTC, True)
    chats.subscribe(-10, DOGE, None)
    db.execute("INSERT INTO digests (chat_id, day, outbox_id) VALUES (-10, '2026-01-02', 1)")
    # a command in the supergroup was processed before the migration message
    chats.seen(-10010, "supergroup", "new")
    chats.subscribe(-10010, BTC, 2.0)
    clock.advance(1)
    chats.subscribe(-10010, ETH, None)
    clock.advance(1)
    chats.subscribe(-10010, SOL, None)

    moved = chats.migrate(-10, -10010)

    assert moved == Migration(dropped=(SOL,)), "the newest of its own did not fit"
    assert moved.news and not moved.settings_replaced, "the supergroup had set none of its own"
    assert chats.get(-10) is None
    chat = chats.get(-10010)
    assert chat is not None and (chat.kind, chat.title, chat.active) == ("supergroup", "new", True)
    assert chat.settings == ChatSettings(0.4, 3.0, 10, tz="Europe/Berlin", digest_at=480)
    subs = chats.subscriptions(-10010)
    assert [(s.instrument, s.distance_pct) for s in subs] == [(BTC, 0.5), (DOGE, None), (ETH, None)]
    assert building.watching(-10010, BTC), "the building flag it set came along"
    assert chats.migrate(-10, -10010) == Migration(), "a second message changes nothing"
    assert db.execute("SELECT chat_id, day FROM digests").fetchall() == [(-10010, "2026-01-02")]


def test_a_refused_chat_gets_one_refusal(db: Database) -> None:
    chats = ChatStore(db, Clock(1_000))
    assert chats.first_refusal(99, "private", "stranger") is True
    assert chats.first_refusal(99, "private", "stranger") is False
    assert chats.get(99).refused_at == 1_000


def test_the_allowlist_pauses_chats_outside_it_without_losing_their_subscriptions(
    db: Database,
) -> None:
    everyone = ChatStore(db, Clock(1_000))
    for chat in (1, 2):
        everyone.seen(chat, "private", None)
    everyone.subscribe(1, BTC, None)
    everyone.subscribe(2, ETH, None)
    only_two = ChatStore(db, Clock(1_000), Access(allowed_chats=frozenset({2})))
    assert only_two.watched_instruments() == [ETH]
    assert only_two.subscribers(BTC) == []
    assert [chat.id for chat, _ in only_two.subscribers(ETH)] == [2]
    assert [s.instrument for s in only_two.subscriptions(1)] == [BTC], "kept, paused"
    assert everyone.watched_instruments() == [BTC, ETH]


def test_limits_on_subscriptions_hold_inside_the_store(db: Database) -> None:
    chats = ChatStore(db, Clock(1_000), limits=SubscriptionLimits(per_chat=2, watched=3))
    for chat in (1, 2):
        chats.seen(chat, "private", None)
    chats.subscribe(1, BTC, None)
    chats.subscribe(1, ETH, None)
    with pytest.raises(LimitReached, match="already follows 2 symbols"):
        chats.subscribe(1, "okx:SOL-USDT-SWAP", None)
    assert chats.subscribe(1, BTC, 0.5) is False, "changing one it follows is no new one"
    chats.subscribe(2, "okx:SOL-USDT-SWAP", None)
    with pytest.raises(LimitReached, match="already watches 3 instruments"):
        chats.subscribe(2, "okx:DOGE-USDT-SWAP", None)
    assert chats.subscribe(2, BTC, None) is True, "a watched one costs nothing more"
    assert len(chats.watched_instruments()) == 3
    chats.seen(3, "private", None)
    chats.subscribe(3, BTC, None)
    db.execute("INSERT INTO subscriptions (chat_id, instrument, created_at) VALUES (3, ?, 1)",
               ["okx:DOGE-USDT-SWAP"])  # fmt: skip
    chats.set_active(3, False)
    chats.seen(4, "private", None)
    with pytest.raises(LimitReached, match="already watches 3 instruments"):
        chats.subscribe(4, "okx:DOGE-USDT-SWAP", None)  # only a chat gone quiet follows it
