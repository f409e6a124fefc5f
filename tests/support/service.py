"""``liqmap run`` as a process of its own, which a signal (SIGKILL too) can end, paced and
retried as fast as the other tests' commands; and the waits and queries its tests use."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import fast_process

MARKS = "/api/v5/public/mark-price"


def wait(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Service:
    """``liqmap run`` in a subprocess, with its output kept for the assertion messages."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.process: subprocess.Popen[str] | None = None
        self.log = cwd / "run.log"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = fast_process(["run"], self.cwd, self.env, out)

    def kill(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text()


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql).fetchall()


@contextlib.contextmanager
def serving(tg: FakeTelegram, okx: FakeOkx, cwd: Path) -> Iterator[Service]:
    """``liqmap run`` against the fakes, refreshing every 2 s and checking prices every 0.2 s
    (lingering is counted in price checks, not seconds); killed if a test left it running."""
    run = Service(
        {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_URL": tg.url,
            "LIQMAP_OKX_URL": okx.url,
            "LIQMAP_DB": str(cwd / "e2e.db"),
            "LIQMAP_REFRESH_SECONDS": "2",
            "LIQMAP_PRICE_SECONDS": "0.2",
            "PTB_TIMEDELTA": "1",
        },
        cwd,
    )
    run.start()
    yield run
    if run.process is not None and run.process.poll() is None:
        run.kill(signal.SIGKILL)


def ask(tg: FakeTelegram, chat_id: int, text: str, method: str = "sendMessage") -> dict:
    """Send ``text`` from ``chat_id`` and wait for the bot's first successful ``method``."""
    mark = tg.mark()
    tg.user_sends(chat_id, text)
    return tg.wait_for_sync(lambda c: c["method"] == method and c["ok"], timeout=60, since=mark)


def nearest_strong_cluster(db: Path) -> dict:
    """The nearest cluster of strength 2 or more on the latest 7d map, once the refresh job has
    stored a second one (the one the alerts watch)."""
    wait(lambda: query(db, "SELECT count(*) FROM snapshots WHERE window = '7d'")[0][0] >= 2,
         "a refreshed map")  # fmt: skip
    (clusters_json,) = query(db, "SELECT clusters FROM snapshots WHERE window = '7d' "
                                 "ORDER BY computed_at DESC, id DESC LIMIT 1")[0]  # fmt: skip
    strong = [c for c in json.loads(clusters_json) if c["strength"] >= 2.0]
    target: dict = min(strong, key=lambda c: abs(c["distance_pct"]))
    return target
