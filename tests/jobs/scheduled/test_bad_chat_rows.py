"""One chat's bad stored row, in every job that loops over chats: the others go on, and it is
logged once, not every round."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from jobs.scheduled.chat_guard import ChatGuard
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from storage.growing_clusters import BuildingStore
from tests.fakes.telegram import FakeTelegram
from tests.jobs.scheduled.test_alert_jobs import swept
from tests.jobs.scheduled.test_growing_clusters_job import REFRESH_MS, halved_before
from tests.support.alert_world import ANN, BOB, BTC, World, captions

pytestmark = pytest.mark.fixed_clock
ROUNDS = 3
NOON = 12 * 60
"""The fixed clock starts at 12:00 UTC."""


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def spoil(world: World, chat: int, column: str, value: object) -> None:
    """Write a value into a chat's row behind the store's back (a move to another host, a
    tzdata upgrade, a hand edit)."""
    world.chats.db.execute(f"UPDATE chats SET {column} = ? WHERE id = ?", [value, chat])


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


async def test_a_stored_zone_tzdata_lacks_counts_as_utc_and_is_said_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    evening = QuietHours(20 * 60, 23 * 60)  # not yet in UTC, already in Tokyo
    world.subscribe(ANN, settings=ChatSettings(cooldown_minutes=0, digest_at=NOON))
    world.subscribe(BOB, settings=ChatSettings(cooldown_minutes=0, digest_at=NOON,
                                               quiet=evening, tz="Asia/Tokyo"))  # fmt: skip
    spoil(world, BOB, "tz", "Mars/Olympus")
    await world.jobs.refresh()
    world.price(world.target().high * 1.006)
    queued = [await world.jobs.watch() for _ in range(ROUNDS)]
    digests = [await world.jobs.digest() for _ in range(ROUNDS)]
    assert queued == [2, 0, 0] and digests == [2, 0, 0]
    await world.jobs.deliver()
    for chat in (ANN, BOB):
        alert, digest = world.tg.sent(chat)
        assert alert["plain"].startswith("🔻 BTC-USDT-SWAP (okx) is near")
        assert alert["disable_notification"] in (None, False), "quiet hours in UTC"
        assert "Daily digest · 2026-11-25 12:00 UTC" in digest["plain"]
    (said,) = logged(caplog, "'Mars/Olympus'")
    assert said.levelno == logging.WARNING
    assert f"chat {BOB}" in said.getMessage() and "UTC is used" in said.getMessage()


async def test_a_bad_row_skips_its_chat_alone_in_the_watch_and_the_digest(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.subscribe(ANN, settings=ChatSettings(cooldown_minutes=0, digest_at=NOON))
    world.subscribe(BOB, settings=ChatSettings(cooldown_minutes=0, digest_at=NOON,
                                               quiet=QuietHours(0, 60)))  # fmt: skip
    spoil(world, BOB, "quiet_start", "23:00")  # a hand edit: text where minutes belong
    await world.jobs.refresh()
    world.price(world.target().high * 1.006)
    assert [await world.jobs.watch() for _ in range(ROUNDS)] == [1, 0, 0]
    assert [await world.jobs.digest() for _ in range(ROUNDS)] == [1, 0, 0]
    await world.jobs.deliver()
    assert len(world.tg.sent(ANN)) == 2 and world.tg.sent(BOB) == []
    skipped = logged(caplog, f"chat {BOB} skipped")
    assert [r.name for r in skipped] == ["jobs.scheduled.watch", "jobs.scheduled.digests"]
    assert all(r.exc_info for r in skipped), "once, with its traceback"


async def test_a_bad_row_skips_its_chat_alone_in_receipts_and_building_alerts(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.subscribe(ANN)
    world.subscribe(BOB, settings=ChatSettings(cooldown_minutes=0, quiet=QuietHours(0, 60)))
    for chat in (ANN, BOB):
        BuildingStore(world.chats.db, world.clock).set(chat, BTC, True)
    await swept(world)  # both chats were told of the approach and the sweep
    spoil(world, BOB, "quiet_start", "23:00")
    halved_before(world)
    world.clock.advance(REFRESH_MS)
    await world.jobs.refresh()
    assert world.chats.db.execute(
        "SELECT chat_id FROM outbox WHERE kind = 'building'"
    ).fetchall() == [(ANN,)]
    world.clock.advance(REFRESH_MS)  # the sweeps have settled
    assert [await world.jobs.settle() for _ in range(ROUNDS)] == [1, 0, 0]
    await world.jobs.deliver()
    assert sum(t.startswith("🧾") for t in captions(world.tg, ANN)) == 1
    assert not any(t.startswith("🧾") for t in captions(world.tg, BOB))
    for _ in range(ROUNDS - 1):
        world.clock.advance(REFRESH_MS)
        await world.jobs.refresh()
    skipped = logged(caplog, f"chat {BOB} skipped")
    assert [r.name for r in skipped] == ["jobs.scheduled.refresh", "jobs.scheduled.receipts"]


def test_a_chat_failing_again_after_it_worked_is_logged_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard, job_log = ChatGuard(), logging.getLogger("jobs.scheduled.watch")
    for fails in (True, True, False, True, True):
        with guard.step(job_log, ANN):
            if fails:
                raise ValueError("a bad row")
    assert len(logged(caplog, f"chat {ANN} skipped")) == 2


def test_what_is_no_rows_fault_still_fails_the_round() -> None:
    guard = ChatGuard()
    with pytest.raises(ConnectionError), guard.step(logging.getLogger("test"), ANN):
        raise ConnectionError("the database's disk went away")
