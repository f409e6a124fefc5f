"""Half-open time ranges ``[start, end)`` in ms: what is covered, what is missing."""

from __future__ import annotations

from collections.abc import Iterable

Range = tuple[int, int]


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, non-overlapping ranges; touching ranges join, empty ones vanish."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def missing(covered: Iterable[Range], start: int, end: int) -> list[Range]:
    """The parts of ``[start, end)`` that ``covered`` does not cover, in order."""
    gaps: list[Range] = []
    cursor = start
    for lo, hi in merge(covered):
        if hi <= cursor:
            continue
        if lo >= end:
            break
        if lo > cursor:
            gaps.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def settled(request: Range, last_ts: int | None, step: int, now: int, grace: int = 2) -> Range:
    """The part of a fetched ``request`` that later fetches cannot change.

    Data older than ``grace`` steps is final: what the exchange did not return, it does not
    have. Nearer to ``now`` the exchange may still be publishing, so coverage stops after the
    last row it returned (or ``grace`` steps before the end, whichever is later).
    """
    start, end = request
    if end <= now - grace * step:
        return request
    reached = last_ts + step if last_ts is not None else start
    return start, min(end, max(reached, end - grace * step, start))
