"""A member's chatter in a group never holds the group's alert back.

Telegram takes about 20 messages a minute into one group (Bots FAQ); the fake answers 429 past
that, on the test's clock, which moves only when the test moves it. The bot answers a group
within its share of that minute and keeps the rest for alerts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from jobs.scheduled.alert_timing import ALERT_TTL_MS
from liqmap.config import Settings
from liqmap.policies.group_budget import Verdict
from liqmap.signals.proximity import Alert
from storage.outbox import enqueue
from tests.fakes.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    BOT,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    Service,
    idle,
    say,
    serving,
    wait_until,
    words,
)

pytestmark = pytest.mark.slow

BTC = "okx:BTC-USDT-SWAP"
ALERT = Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 61_000.0, 61_500.0, 3e7, 3.0,
              61_800.0, 62_000.0, 0.5, False, "7d")  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tg(clock: Clock) -> Iterator[FakeTelegram]:
    """The fake Bot API on the test's clock, 20 messages a minute into a group."""
    with FakeTelegram(bot_username=BOT, chat_admins={GROUP: [GROUP_OWNER]},
                      clock=lambda: clock() / 1000) as fake:  # fmt: skip
        assert fake.group_per_minute == 20
        yield fake


async def alert_after_chatter(tg: FakeTelegram, service: Service, clock: Clock) -> int:
    """Once the chatter is handled, an alert falls due for the group 5 s later and the deliver
    job runs: when it was due, in the fake's seconds."""
    await wait_until(lambda: idle(tg, service.application), what="the bot to handle the chatter")
    clock.advance(5_000)
    stores = service.core.stores

    def queue() -> None:
        with stores.db.conn:
            enqueue(stores.db, GROUP, BTC, ALERT, None, clock(), ALERT_TTL_MS)

    await stores.run(queue)
    due = clock() // 1000
    report = await service.jobs.deliver()
    assert report.sent == 1
    return due


async def test_forty_help_from_a_member_get_one_answer_and_the_alert_goes_at_once(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        for _ in range(40):
            tg.user_sends(GROUP, f"/help@{BOT}", user_id=MEMBER)
        due = await alert_after_chatter(tg, service, clock)
        budget = service.core.group_budget
        assert budget.verdicts == {Verdict.ANSWER: 1, Verdict.REPEAT: 39}
    *answers, alert = tg.sent(GROUP)
    assert len(answers) == 1 and "Commands" in words(answers[0])
    assert words(alert).startswith("🔻 BTC-USDT-SWAP (okx)")
    assert alert["date"] - due <= 1, "sent within a second of falling due"
    assert tg.throttled == 0, "no 429 before or after the alert"


async def test_chatter_past_the_share_gets_one_notice_and_the_alert_keeps_its_place(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        for n in range(40):
            tg.user_sends(GROUP, f"/help {n}", user_id=MEMBER)
        due = await alert_after_chatter(tg, service, clock)
        assert service.core.group_budget.verdicts == {
            Verdict.ANSWER: 13, Verdict.SLOW_DOWN: 1, Verdict.DROP: 26,
        }  # fmt: skip
        *answers, alert = tg.sent(GROUP)
        assert sum(words(m).startswith("Many commands in this group") for m in answers) == 1
        assert len(answers) == 14
        assert words(alert).startswith("🔻 BTC-USDT-SWAP (okx)")
        assert alert["date"] - due <= 1
        assert tg.throttled == 0
        clock.advance(60_000)
        (again,) = await say(tg, GROUP, "/help", user_id=MEMBER)
        assert "Commands" in words(again), "answered again once the minute has passed"


async def test_an_alert_finding_the_groups_minute_full_waits_in_the_outbox_not_at_telegram(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        for n in range(40):
            tg.user_sends(GROUP, f"/help {n}", user_id=MEMBER)
        await wait_until(lambda: idle(tg, service.application), what="the bot to handle them")
        stores = service.core.stores

        def queue(alerts: int) -> None:
            with stores.db.conn:
                for _ in range(alerts):
                    enqueue(stores.db, GROUP, BTC, ALERT, None, clock(), ALERT_TTL_MS)

        await stores.run(queue, 7)
        report = await service.jobs.deliver()
        assert (report.sent, report.retried) == (6, 1), "14 answers and 6 alerts fill the minute"
        assert len(tg.sent(GROUP)) == 20 and tg.throttled == 0, "the seventh never reached Telegram"
        clock.advance(59_000)
        assert (await service.jobs.deliver()).sent == 0, "not yet due"
        clock.advance(1_000)
        assert (await service.jobs.deliver()).sent == 1, "the first answer left the minute"
        assert tg.throttled == 0
