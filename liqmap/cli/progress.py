"""Progress of long fetches on a terminal line, or every tenth to a log."""

from __future__ import annotations

from typing import TextIO


class ProgressLine:
    """Shows paging progress of long fetches on a terminal line (or every 10% to a log),
    each line naming the series, as several exchanges may fetch at once."""

    def __init__(self, stream: TextIO, min_rows: int = 2000) -> None:
        self.stream = stream
        self.min_rows = min_rows
        self._shown: dict[str, int] = {}

    def __call__(self, series: str, done: int, expected: int) -> None:
        if expected < self.min_rows:
            return
        tenth = min(10, done * 10 // max(expected, 1))
        line = f"  {series}: fetched {done:,}/{expected:,} rows"
        if self.stream.isatty():
            self.stream.write(f"\r\033[K{line}" + ("\n" if done >= expected else ""))
        elif tenth > self._shown.get(series, -1):
            self.stream.write(line + "\n")
        self._shown[series] = -1 if done >= expected else tenth
        self.stream.flush()
