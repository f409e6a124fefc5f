"""``liqmap run`` as a process of its own, which a signal (SIGKILL too) can end, paced and
retried as fast as the other tests' commands; and the waits and queries its tests use."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

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
