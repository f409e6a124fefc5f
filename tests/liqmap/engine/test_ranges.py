"""Range arithmetic behind incremental fetching."""

from __future__ import annotations

from liqmap.engine.ranges import merge, missing, settled


def test_merge_joins_overlapping_and_touching_and_drops_empty() -> None:
    assert merge([(5, 7), (0, 2), (2, 3), (6, 9), (4, 4)]) == [(0, 3), (5, 9)]


def test_missing_parts_of_a_window() -> None:
    covered = [(10, 20), (30, 40)]
    assert missing(covered, 0, 50) == [(0, 10), (20, 30), (40, 50)]
    assert missing(covered, 12, 18) == []
    assert missing(covered, 15, 35) == [(20, 30)]
    assert missing([], 0, 5) == [(0, 5)]
    assert missing(covered, 50, 50) == []


def test_old_requests_are_settled_whole() -> None:
    assert settled((0, 100), last_ts=50, step=10, now=1000) == (0, 100)
    assert settled((0, 100), last_ts=None, step=10, now=1000) == (0, 100)


def test_recent_requests_stop_after_the_last_row_returned() -> None:
    # the exchange has not yet published rows 90 and 100: they stay missing
    assert settled((0, 110), last_ts=80, step=10, now=110) == (0, 90)
    # rows older than the grace period are final even if absent
    assert settled((0, 110), last_ts=20, step=10, now=110) == (0, 90)
    assert settled((0, 110), last_ts=100, step=10, now=110) == (0, 110)
    assert settled((100, 110), last_ts=None, step=10, now=110) == (100, 100)
