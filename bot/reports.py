"""How often the admin chats hear of one unexpected error: once per 10 minutes, with a count.

Pure: the clock is passed in. A flood of the same failure (a forged button pressed in a loop,
a full disk failing every update) becomes one report per period that says how many times it
happened, instead of a traceback per update.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

REPORT_EVERY_MS = 10 * 60_000
MAX_KINDS = 1_000


@dataclass
class _Kind:
    reported_at: int
    unreported: int = 0


class ReportThrottle:
    """Counts each distinct error; says when (and how many) to report."""

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
    """What makes two errors the same: their type, message and where they were raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__}: {str(error)[:200]} at {where}"
