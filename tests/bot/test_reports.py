"""One admin report per distinct error per 10 minutes, with how many times it happened."""

from __future__ import annotations

from bot.reports import ReportThrottle

MIN = 60_000


def raised(message: str, kind: type[Exception] = RuntimeError) -> Exception:
    try:
        raise kind(message)
    except Exception as exc:
        return exc


def test_a_flood_of_one_error_is_reported_once_per_period_with_its_count() -> None:
    throttle = ReportThrottle()
    assert throttle.note(raised("disk full"), 0) == 1
    assert [throttle.note(raised("disk full"), t * 1000) for t in range(1, 50)] == [None] * 49
    assert throttle.note(raised("disk full"), 10 * MIN) == 50, "49 quiet ones and this one"
    assert throttle.note(raised("disk full"), 10 * MIN + 1) is None


def test_distinct_errors_are_reported_apart() -> None:
    throttle = ReportThrottle()
    assert throttle.note(raised("disk full"), 0) == 1
    assert throttle.note(raised("locked"), 0) == 1
    assert throttle.note(raised("disk full", OSError), 0) == 1
    assert throttle.note(raised("locked"), 1) is None
