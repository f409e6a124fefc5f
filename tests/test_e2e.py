"""End to end: ``liqmap run`` as a process, a user on the fake Telegram, price on the fake OKX.

Subscribe, ask for a map, walk price to a dense cluster: exactly one alert. Retreat and come
back: one more. Kill the process with SIGKILL while an alert is pending: after the restart it
arrives exactly once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http import Fault
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


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def service(tg: FakeTelegram, okx: FakeOkx, tmp_path: Path) -> Iterator[Service]:
    with serving(tg, okx, tmp_path) as run:
        yield run


def alerts(tg: FakeTelegram) -> list[str]:
    """Alert captions sent to the user (each alert comes as a photo with its chart)."""
    sent = [m for m in tg.sent(ANN) if "liquidation cluster" in (m["plain"] or "")]
    assert all(m["method"] == "sendPhoto" for m in sent), "every alert carries its chart"
    return [m["plain"] for m in sent]


def watch_cycles(okx: FakeOkx, count: int) -> None:
    """Let the running service check prices ``count`` more times."""
    target = okx.count(MARKS) + count
    wait(lambda: okx.count(MARKS) >= target, f"{count} price checks")


def test_subscribe_map_alert_once_retreat_return_and_survive_sigkill(
    tg: FakeTelegram, okx: FakeOkx, service: Service, tmp_path: Path
) -> None:
    db = tmp_path / "e2e.db"
    ask(tg, ANN, "/settings cooldown 0")
    subscribed = ask(tg, ANN, "/subscribe BTC 1")
    assert "Subscribed to" in subscribed["result"]["text"]
    photo = ask(tg, ANN, "/map BTC", method="sendPhoto")
    assert photo["result"]["caption"].startswith("BTC-USDT-SWAP · okx · 7d map")

    # the refresh job stores the 7d map the alerts watch; pick its nearest strong cluster
    target = nearest_strong_cluster(db)
    long = target["side"] == "long"
    near = target["high"] * 1.006 if long else target["low"] * 0.994
    away = target["high"] * 1.03 if long else target["low"] * 0.97
    tape = okx.tape("BTC-USDT-SWAP")

    # walk toward it: exactly one alert, however long price lingers
    tape.set_price(near)
    wait(lambda: len(alerts(tg)) >= 1, "the first alert")
    watch_cycles(okx, 6)
    assert len(alerts(tg)) == 1, service.output()
    first = alerts(tg)[0]
    assert ("LONG" if long else "SHORT") + " liquidation cluster" in first
    assert "Price " in first and "away" in first

    # away beyond twice the distance, and back: one more
    tape.set_price(away)
    watch_cycles(okx, 3)
    tape.set_price(near)
    wait(lambda: len(alerts(tg)) >= 2, "the second alert")
    watch_cycles(okx, 4)
    assert len(alerts(tg)) == 2

    # Telegram refuses photos; an alert waits in the outbox; the process is killed
    tg.inject(Fault(500, "internal error"), tg.path("sendPhoto"), times=None)
    tape.set_price(away)
    watch_cycles(okx, 3)
    tape.set_price(near)
    pending = "SELECT count(*) FROM outbox WHERE state = 'pending' AND attempts > 0"
    wait(lambda: query(db, pending)[0][0] == 1, "a pending alert that failed to send")
    assert service.kill(signal.SIGKILL) == -signal.SIGKILL

    # after the restart it is delivered exactly once, and nothing else fires
    tg.clear_faults()
    service.start()
    wait(lambda: len(alerts(tg)) >= 3, "the pending alert after the restart")
    watch_cycles(okx, 6)
    assert len(alerts(tg)) == 3, service.output()
    assert query(db, "SELECT state, count(*) FROM outbox GROUP BY state") == [("sent", 3)]
    assert service.kill(signal.SIGTERM) == 0
    assert tg.token not in service.output()
