"""One admin report per fault (the error's type and where it was raised) per 10 minutes, with
how many times it happened, whatever each message said."""

from __future__ import annotations

from bot.reports import ReportThrottle

MIN = 60_000


def raised(message: str, kind: type[Exception] = RuntimeError) -> Exception:
    try:
        raise kind(message)
    except Exception as exc:
        return exc


def raised_elsewhere(message: str) -> Exception:
    try:
        raise RuntimeError(message)
    except Exception as exc:
        return exc


def int_of(text: str) -> Exception:
    try:
        int(text)
    except ValueError as exc:
        return exc
    raise AssertionError(f"{text!r} is a number")


def wrapped(cause: Exception) -> Exception:
    try:
        raise RuntimeError("the update failed") from cause
    except RuntimeError as exc:
        return exc


def test_a_flood_of_one_error_is_reported_once_per_period_with_its_count() -> None:
    throttle = ReportThrottle()
    assert throttle.note(raised("disk full"), 0) == 1
    assert [throttle.note(raised("disk full"), t * 1000) for t in range(1, 50)] == [None] * 49
    assert throttle.note(raised("disk full"), 10 * MIN) == 50, "49 quiet ones and this one"
    assert throttle.note(raised("disk full"), 10 * MIN + 1) is None


def test_one_fault_with_messages_that_differ_is_reported_once_per_period() -> None:
    """40 ``/top N²`` with a different N each: the same line failed 40 times, one report."""
    throttle = ReportThrottle()
    counts = [throttle.note(int_of(f"{n}²"), n * 1000) for n in range(40)]
    assert counts == [1] + [None] * 39
    assert throttle.note(int_of("7²"), 10 * MIN) == 40


def test_faults_are_reported_apart_by_type_place_and_cause() -> None:
    throttle = ReportThrottle()
    assert throttle.note(raised("disk full"), 0) == 1
    assert throttle.note(raised("locked"), 0) is None, "same type, same place"
    assert throttle.note(raised("disk full", OSError), 0) == 1, "another type"
    assert throttle.note(raised_elsewhere("disk full"), 0) == 1, "another place"
    assert throttle.note(int_of("²"), 0) == 1
    assert throttle.note(wrapped(int_of("³")), 0) == 1
    assert throttle.note(wrapped(raised("locked")), 0) == 1, "the same wrapper, another cause"
    assert throttle.note(wrapped(raised("disk full")), 0) is None
