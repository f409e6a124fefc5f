"""A settable clock shared by fakes and the code under test."""

from __future__ import annotations

import time


class Clock:
    """Milliseconds since the epoch; starts at real time, moves only when told."""

    def __init__(self, now_ms: int | None = None) -> None:
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms
