"""Forum topics end to end: answers in the topic asked from, a subscription's alerts in its
topic, one fallback to General with a note when the topic is closed or deleted, the digest,
/list, a group's move, and forged button data."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.texts.common import STALE_BUTTON
from liqmap.config import Settings
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import ALERT_WINDOW, Alert
from storage.outbox import enqueue
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    BOT,
    GROUP,
    GROUP_OWNER,
    Service,
    press,
    running,
    say,
    serving,
    wait_until,
    words,
)

pytestmark = pytest.mark.fixed_clock
FORUM = -1_001_700_000_001
BTC = "okx:BTC-USDT-SWAP"
OWNER = {"user_id": GROUP_OWNER}
TTL_MS = 15 * 60_000
CLOSED_NOTE = (
    "⚠️ The topic this subscription was made in is closed; alerts now go here. "
    "/subscribe again in a topic to move them."
)


@pytest.fixture(autouse=True)
def _forum_admin(tg: FakeTelegram) -> None:
    tg.chat_admins[FORUM] = [GROUP_OWNER]


def photos(tg: FakeTelegram, chat: int) -> list[dict]:
    return [m for m in tg.sent(chat) if m["method"] == "sendPhoto"]


async def alert_once(service: Service, okx: FakeOkx) -> None:
    """Price comes near BTC's nearest dense long cluster: one alert per subscribed chat."""
    await service.jobs.refresh()
    stored = service.core.stores.snapshots.latest(BTC, ALERT_WINDOW)
    target = min((c for c in stored.snapshot.clusters if c.side == "long"
                  and c.strength >= 2), key=lambda c: abs(c.distance_pct))  # fmt: skip
    okx.tape("BTC-USDT-SWAP").set_price(target.high * 1.004)
    assert await service.jobs.watch() == 1


def queue_again(service: Service) -> None:
    """Another alert for the forum's BTC subscription, queued as the watch job queues one
    (``enqueue`` picks the topic from the subscription)."""
    stores = service.core.stores
    alert = Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 99.0, 99.5, 1e7, 3.0, 100.0,
                  None, 0.5, False, "7d")  # fmt: skip
    with stores.db.atomic():
        enqueue(stores.db, FORUM, BTC, alert, None, stores.chats.clock(), TTL_MS)


def refused_sends(tg: FakeTelegram) -> list[str]:
    return [c["description"] for c in tg.calls if c["method"].startswith("send") and not c["ok"]]


async def test_commands_in_a_topic_are_answered_in_that_topic(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db) as core:
        thread = tg.create_topic(FORUM, "BTC signals")
        topics = core.stores.topics
        await wait_until(lambda: thread in topics.of_chat(FORUM), what="the topic's name learnt")
        assert topics.of_chat(FORUM)[thread].name == "BTC signals"
        (helped,) = await say(tg, FORUM, f"/help@{BOT}", thread_id=thread)
        assert helped["message_thread_id"] == thread
        (mapped,) = await say(tg, FORUM, f"/map@{BOT} BTC", thread_id=thread)
        assert mapped["method"] == "sendPhoto" and mapped["message_thread_id"] == thread
        (refused,) = await say(tg, FORUM, f"/map@{BOT} BTCCC", thread_id=thread)
        assert "BTCCC" in words(refused) and refused["message_thread_id"] == thread
        # a button under the map in the topic sends its map there too
        before = len(tg.sent(FORUM))
        await press(tg, FORUM, mapped["message_id"], f"w|1d|{BTC}")
        await wait_until(lambda: tg.message(FORUM, mapped["message_id"]).get("edit_date"),
                         what="the map redrawn in place")  # fmt: skip
        assert len(tg.sent(FORUM)) == before
        (general,) = await say(tg, FORUM, f"/start@{BOT}")  # the same /help within 10 s: once
        assert general["message_thread_id"] is None
        assert set(tg.chat_action_threads(FORUM)) <= {thread}, "computing shown in the topic"


async def test_a_subscription_made_in_a_topic_alerts_there_then_falls_back_to_general_once(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with serving(settings, db, clock) as service:
        thread = tg.create_topic(FORUM, "BTC signals")
        (answer,) = await say(tg, FORUM, f"/subscribe@{BOT} BTC", thread_id=thread, **OWNER)
        assert "Subscribed to" in words(answer) and answer["message_thread_id"] == thread
        chats, topics = service.core.stores.chats, service.core.stores.topics
        assert chats.subscription(FORUM, BTC).thread_id == thread

        await alert_once(service, okx)
        assert (await service.jobs.deliver()).sent == 1
        (alert,) = photos(tg, FORUM)
        assert alert["message_thread_id"] == thread, "the alert and its buttons in the topic"
        assert "sub|a||" in str(alert["reply_markup"])

        tg.close_topic(FORUM, thread)
        queue_again(service)
        assert (await service.jobs.deliver()).retried == 1, "refused: TOPIC_CLOSED"
        assert (await service.jobs.deliver()).sent == 1
        fallback = tg.sent(FORUM)[-1]
        assert fallback["message_thread_id"] is None
        assert words(fallback).startswith(CLOSED_NOTE), "the note, once"
        assert "sub|a||" in str(fallback["reply_markup"]), "its buttons come along"

        queue_again(service)
        assert (await service.jobs.deliver()).sent == 1
        later = tg.sent(FORUM)[-1]
        assert later["message_thread_id"] is None and "⚠️" not in words(later)
        assert refused_sends(tg) == ["Bad Request: TOPIC_CLOSED"], "the dead topic tried once"
        assert topics.of_chat(FORUM)[thread].gone == "closed"

        (listing,) = await say(tg, FORUM, f"/list@{BOT}")
        assert "topic “BTC signals” closed: alerts go to the General topic" in words(listing)

        tg.reopen_topic(FORUM, thread)  # /subscribe again from the topic: alerts go there again
        clock.advance(11_000)  # not the same command again within 10 s
        await say(tg, FORUM, f"/subscribe@{BOT} BTC", thread_id=thread, **OWNER)
        queue_again(service)
        assert (await service.jobs.deliver()).sent == 1
        assert tg.sent(FORUM)[-1]["message_thread_id"] == thread
        (listing,) = await say(tg, FORUM, f"/list@{BOT}")
        assert "in topic “BTC signals”" in words(listing)


async def test_subscribing_again_from_another_topic_moves_the_alerts(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db) as core:
        first, second = tg.create_topic(FORUM, "majors"), tg.create_topic(FORUM, "scalps")
        await say(tg, FORUM, f"/subscribe@{BOT} BTC", thread_id=first, **OWNER)
        (moved,) = await say(tg, FORUM, f"/subscribe@{BOT} BTC", thread_id=second, **OWNER)
        assert "Alerts for BTC-USDT-SWAP now go to this topic." in words(moved)
        assert core.stores.chats.subscription(FORUM, BTC).thread_id == second
        (moved,) = await say(tg, FORUM, f"/subscribe@{BOT} BTC", **OWNER)
        assert "now go to the General topic" in words(moved)
        assert core.stores.chats.subscription(FORUM, BTC).thread_id is None


async def test_a_digest_switched_on_in_a_topic_goes_there_and_to_general_once_it_is_deleted(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        thread = tg.create_topic(FORUM, "daily")
        (saved,) = await say(tg, FORUM, f"/digest@{BOT} on 08:00", thread_id=thread, **OWNER)
        assert saved["message_thread_id"] == thread
        stores = service.core.stores
        assert stores.chats.get(FORUM).digest_thread_id == thread
        digest = Digest(clock(), "UTC", (), (), 0, False)
        assert stores.digests.queue(FORUM, "2026-11-25", digest, TTL_MS)
        assert (await service.jobs.deliver()).sent == 1
        assert tg.sent(FORUM)[-1]["message_thread_id"] == thread

        tg.delete_topic(FORUM, thread)
        assert stores.digests.queue(FORUM, "2026-11-26", digest, TTL_MS)
        await service.jobs.deliver()
        assert (await service.jobs.deliver()).sent == 1
        fallback = tg.sent(FORUM)[-1]
        assert fallback["message_thread_id"] is None
        assert words(fallback).startswith("⚠️ The topic this subscription was made in is gone")
        assert refused_sends(tg) == ["Bad Request: message thread not found"]


async def test_a_group_moving_into_a_forum_supergroup_keeps_its_topics_subscriptions(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db) as core:
        tg.chat_admins[GROUP] = [GROUP_OWNER]
        await say(tg, GROUP, f"/subscribe@{BOT} BTC", **OWNER)
        thread = tg.create_topic(FORUM, "ETH talk")
        await say(tg, FORUM, f"/subscribe@{BOT} ETH", thread_id=thread, **OWNER)
        tg.migrate_group(GROUP, FORUM)
        chats = core.stores.chats
        await wait_until(lambda: chats.get(GROUP) is None, what="the old group gone")
        subs = [(s.instrument, s.thread_id) for s in chats.subscriptions(FORUM)]
        assert subs == [(BTC, None), ("okx:ETH-USDT-SWAP", thread)]
        (listing,) = await say(tg, FORUM, f"/list@{BOT}")
        assert "in topic “ETH talk”" in words(listing)
        assert "in the General topic" in words(listing)


async def test_a_topic_forged_into_button_data_is_ignored(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    async with running(settings, db) as core:
        thread, other = tg.create_topic(FORUM, "BTC"), tg.create_topic(FORUM, "elsewhere")
        (mapped,) = await say(tg, FORUM, f"/map@{BOT} BTC", thread_id=thread, **OWNER)
        chats = core.stores.chats
        for forged in (f"s|7d|{BTC}|{other}", f"s|7d|{BTC}|thread={other}",
                       f"sub|t|{other}|{BTC}"):  # fmt: skip
            answer = await press(tg, FORUM, mapped["message_id"], forged, **OWNER)
            assert answer["params"]["text"] == STALE_BUTTON, forged
            assert chats.subscription(FORUM, BTC) is None
        await press(tg, FORUM, mapped["message_id"], f"s|7d|{BTC}", **OWNER)
        assert chats.subscription(FORUM, BTC).thread_id == thread, "the button's message's topic"


async def test_with_the_general_topic_closed_too_the_alert_fails_once_without_looping(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        thread = tg.create_topic(FORUM, "BTC signals")
        await say(tg, FORUM, f"/subscribe@{BOT} BTC", thread_id=thread, **OWNER)
        tg.close_topic(FORUM, thread)
        tg.close_general(FORUM)
        queue_again(service)
        assert (await service.jobs.deliver()).retried == 1, "to General"
        assert (await service.jobs.deliver()).failed == 1, "General refuses it too"
        report = await service.jobs.deliver()
        assert (report.sent, report.retried, report.failed) == (0, 0, 0), "nothing left to try"
        assert refused_sends(tg) == ["Bad Request: TOPIC_CLOSED"] * 2
        assert service.core.stores.outbox.counts() == {"failed": 1}
