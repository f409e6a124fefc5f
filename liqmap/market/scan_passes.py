"""Passes of the scanner of real positions, and how old the data they left is."""

from __future__ import annotations

from dataclasses import dataclass

BEHIND_PERIODS = 2
"""The scanner is behind once its latest finished pass began more than this many periods
ago, or a pass has run longer than one period."""


@dataclass(frozen=True)
class ScanPass:
    """One pass over the known accounts: when it started and finished (None while it runs),
    the accounts read, the positions skipped as malformed, the accounts that failed, and the
    request weight it spent."""

    id: int
    started_ms: int
    finished_ms: int | None
    accounts: int = 0
    skipped: int = 0
    failed: int = 0
    weight: float = 0.0


@dataclass(frozen=True)
class ScanAge:
    """How old the scanned positions are: ``data_ms`` since the latest finished pass began
    (its oldest read), None before any; ``running_ms`` how long an unfinished pass has run."""

    last: ScanPass | None
    data_ms: int | None
    running_ms: int | None
    behind: bool


def scan_age(
    last: ScanPass | None, running: ScanPass | None, now_ms: int, period_ms: int
) -> ScanAge:
    """The age of the data the latest finished pass left, and whether the scanner is behind
    its ``period_ms``: that pass began more than ``BEHIND_PERIODS`` periods ago (or none has
    finished while one runs past a period), or the pass running now has outlasted a period."""
    data_ms = None if last is None else now_ms - last.started_ms
    running_ms = None if running is None else now_ms - running.started_ms
    late_data = data_ms is not None and data_ms > BEHIND_PERIODS * period_ms
    long_pass = running_ms is not None and running_ms > period_ms
    return ScanAge(last, data_ms, running_ms, late_data or long_pass)
