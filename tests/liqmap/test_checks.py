"""A check's result as doctor prints it: one line, a longer detail indented below."""

from __future__ import annotations

from liqmap.checks import CheckResult


def test_a_result_is_one_aligned_line() -> None:
    assert CheckResult("okx", True, "712 instruments").line() == "ok    okx       712 instruments"
    assert CheckResult("database", False, "").line() == "FAIL  database  "


def test_further_lines_of_the_detail_are_indented_under_it() -> None:
    result = CheckResult("telegram", False, "not reachable\nretry later")
    assert result.line().splitlines() == ["FAIL  telegram  not reachable", f"{'':16}retry later"]


def test_a_name_of_ten_letters_or_more_is_still_followed_by_a_space() -> None:
    result = CheckResult("hyperliquid", False, "not reachable")
    assert result.line() == "FAIL  hyperliquid not reachable"
