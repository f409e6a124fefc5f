"""How often the admin chats hear of one unexpected error: once per 10 minutes, with a count.

Pure: the clock is passed in. A flood of the same failure (a forged button pressed in a loop,
a full disk failing every update) becomes one report per period that says how many times it
happened, instead of a traceback per update. The same failure is the same fault: the error's
type and the line that raised it, whatever its message says (``/top 1²``, ``/top 2²``, …).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

REPORT_EVERY_MS = 10 * 60_000
MAX_KINDS = 1_000
MAX_CHAIN = 5
"""How many of the errors an error was raised from (``__cause__``, ``__context__``) count."""


@dataclass
class _Kind:
    reported_at: int
    unreported: int = 0


class ReportThrottle:
    """Counts each fault; says when (and how many) to report."""

    def __init__(self, every_ms: int = REPORT_EVERY_MS) -> None:
        self.every_ms = every_ms
        self._kinds: dict[str, _Kind] = {}

    def note(self, error: BaseException, now_ms: int) -> int | None:
        """Record one occurrence; the count to report now, or None while it stays quiet."""
        key = distinct(error)
        kind = self._kinds.get(key)
        if kind is None or now_ms - kind.reported_at >= self.every_ms:
            count = 1 + (kind.unreported if kind else 0)
            self._kinds[key] = _Kind(now_ms)
            if len(self._kinds) > MAX_KINDS:
                oldest = min(self._kinds, key=lambda k: self._kinds[k].reported_at)
                del self._kinds[oldest]
            return count
        kind.unreported += 1
        return None


def distinct(error: BaseException) -> str:
    """What makes two errors one fault: their type and the line that raised them, and the
    same of the errors they were raised from, never their messages (which hold what a user
    typed, an id, a time)."""
    faults: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(faults) < MAX_CHAIN:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        kind = type(current)
        faults.append(f"{kind.__module__}.{kind.__qualname__} at {where}")
        implicit = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or implicit
    return " from ".join(faults)
