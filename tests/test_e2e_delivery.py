"""End to end: ``liqmap run`` killed with SIGKILL while Telegram holds the answer to a send.

The fake Telegram puts the message into the chat and holds its HTTP answer; the process dies
before it could know the chat has it, and starts again. The alert arrives again (at least
once); the daily digest does not (at most once), and the log says it may not have arrived.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.service import (
    MARKS,
    Service,
    ask,
    nearest_strong_cluster,
    query,
    serving,
    wait,
)

pytestmark = pytest.mark.slow

ANN = 1001
HOLD_S = 600.0
"""Longer than the test: the answer comes only once the test releases it."""
ZONES = ("UTC", "Asia/Tokyo", "America/New_York")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake
        fake.release_answers()


@pytest.fixture
def service(tg: FakeTelegram, okx: FakeOkx, tmp_path: Path) -> Iterator[Service]:
    with serving(tg, okx, tmp_path) as run:
        yield run


def is_alert(record: dict) -> bool:
    return "liquidation cluster" in (record["plain"] or "")


def is_digest(record: dict) -> bool:
    return (record["plain"] or "").startswith("☀️ Daily digest ·")


def count(tg: FakeTelegram, kind: Callable[[dict], bool]) -> int:
    return sum(1 for m in tg.sent(ANN) if kind(m))


def digest_due_now() -> tuple[str, str]:
    """A zone whose local time is far from midnight, and that time to the minute: the digest
    is due at once and stays due on the same local day while the test runs."""
    for name in ZONES:
        local = datetime.now(UTC).astimezone(ZoneInfo(name))
        if 1 <= local.hour <= 21:
            return name, local.strftime("%H:%M")
    raise AssertionError("one of three zones nine hours apart is away from midnight")


def restart_after_sigkill(service: Service) -> None:
    assert service.kill(signal.SIGKILL) == -signal.SIGKILL
    service.start()


def test_a_kill_while_telegram_holds_the_answer_resends_the_alert_not_the_digest(
    tg: FakeTelegram, okx: FakeOkx, service: Service, tmp_path: Path
) -> None:
    db = tmp_path / "e2e.db"
    states = "SELECT kind, state FROM outbox ORDER BY id"

    # the digest: Telegram takes it and its answer never comes; the process is killed
    tg.hold_answers(HOLD_S, when=is_digest)
    zone, at = digest_due_now()
    ask(tg, ANN, f"/settings tz {zone}")
    ask(tg, ANN, f"/digest on {at}")
    service.kill(signal.SIGTERM)  # the digest job looks at start: queued at once
    service.start()
    wait(lambda: count(tg, is_digest) == 1 and tg.held == 1, "the digest in the chat, held")
    restart_after_sigkill(service)
    wait(lambda: query(db, states) == [("digest", "unconfirmed")], "the digest settled")
    assert (
        "WARNING" in service.output()
        and (
            f"digest 1 to chat {ANN} was being sent when the service stopped; it may not have "
            "arrived and is not sent again"
        )
        in service.output()
    )

    # an alert, the same way
    ask(tg, ANN, "/settings cooldown 0")
    ask(tg, ANN, "/subscribe BTC 1")
    target = nearest_strong_cluster(db)
    near = target["high"] * 1.006 if target["side"] == "long" else target["low"] * 0.994
    tg.hold_answers(HOLD_S, when=is_alert)
    okx.tape("BTC-USDT-SWAP").set_price(near)
    wait(lambda: count(tg, is_alert) == 1 and tg.held == 2, "the alert in the chat, held")
    assert query(db, states)[-1] == ("approach", "sending")
    restart_after_sigkill(service)
    wait(lambda: count(tg, is_alert) == 2, "the alert again after the restart")
    wait(lambda: query(db, states)[-1] == ("approach", "sent"), "the alert marked sent")

    # and nothing more: neither goes out a third time
    target_checks = okx.count(MARKS) + 6
    wait(lambda: okx.count(MARKS) >= target_checks, "6 more price checks")
    assert (count(tg, is_alert), count(tg, is_digest)) == (2, 1), service.output()
    assert query(db, states) == [("digest", "unconfirmed"), ("approach", "sent")]
    assert service.kill(signal.SIGTERM) == 0
