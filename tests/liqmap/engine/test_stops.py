"""Stops judged against clusters: inside, just before or clear, and the level suggested."""

from __future__ import annotations

import pytest

from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.stops import StopProblem, Verdict, check_stop, stop_problem
from tests.support.maps import hand_map
from tests.support.png import colour_pixels, png_size

PRICE = 100.0


def cluster(side: str, low: float, high: float, usd: float) -> Cluster:
    distance = (high - PRICE if side == LONG else low - PRICE) / PRICE * 100
    return Cluster(side, low, high, (low + high) / 2, usd, 0.5, usd, 2.0, distance, f"{side}@x")


A = cluster(LONG, 97.0, 97.5, 50.0)  # bins 220-224, 10 USD each
B = cluster(LONG, 96.0, 96.5, 20.0)  # bins 210-214, 4 USD each
S = cluster(SHORT, 102.0, 102.5, 50.0)  # bins 270-274, 10 USD each
LONGS = dict.fromkeys(range(220, 225), 10.0) | {240: 7.0}  # and 7 USD at 99.0-99.1
SHORTS = dict.fromkeys(range(270, 275), 10.0)


def test_a_long_stop_inside_a_cluster_is_moved_just_below_its_far_edge() -> None:
    check = check_stop(hand_map(LONGS, SHORTS), [A, S], LONG, 97.2)
    assert check.verdict is Verdict.INSIDE and check.cluster == A
    assert check.suggestion == pytest.approx(97.0 - 0.15)  # 0.15% of the price past 97.0
    assert check.stop_pct == pytest.approx(-2.8)
    assert check.suggestion_pct == pytest.approx(-3.15)
    assert check.stop_usd == pytest.approx(3 * 10 + 7)  # bins centred 97.25, 97.35, 97.45, 99.05
    assert check.suggestion_usd == pytest.approx(5 * 10 + 7)
    assert check.beyond_stop_usd == pytest.approx(20)


def test_a_long_stop_within_half_a_percent_above_a_cluster_is_just_before_it() -> None:
    check = check_stop(hand_map(LONGS, SHORTS), [A, S], LONG, 97.8)
    assert check.verdict is Verdict.BEFORE and check.cluster == A
    assert check.suggestion == pytest.approx(96.85)
    assert check.stop_usd == pytest.approx(7)


@pytest.mark.parametrize("stop", [98.2, 96.9, 90.0])
def test_a_long_stop_away_from_or_beyond_the_cluster_is_clear(stop: float) -> None:
    check = check_stop(hand_map(LONGS, SHORTS), [A, S], LONG, stop)
    assert check.verdict is Verdict.CLEAR
    assert check.cluster is None and check.suggestion is None and check.suggestion_pct is None
    assert check.beyond_stop_usd == 0


def test_a_suggestion_landing_by_the_next_cluster_moves_past_it_too() -> None:
    bins = LONGS | dict.fromkeys(range(210, 215), 4.0)
    check = check_stop(hand_map(bins, SHORTS), [A, B, S], LONG, 97.2)
    assert check.cluster == A, "the cluster the stop sits in is named"
    assert check.suggestion == pytest.approx(96.0 - 0.15), "96.85 is within 0.5% above B"
    assert check.suggestion_usd == pytest.approx(50 + 20 + 7)


def test_a_short_stop_runs_with_the_short_clusters_above() -> None:
    check = check_stop(hand_map(LONGS, SHORTS), [A, S], SHORT, 101.8)
    assert check.verdict is Verdict.BEFORE and check.cluster == S
    assert check.suggestion == pytest.approx(102.65)
    assert check.stop_usd == 0 and check.suggestion_usd == pytest.approx(50)
    inside = check_stop(hand_map(LONGS, SHORTS), [A, S], SHORT, 102.3)
    assert inside.verdict is Verdict.INSIDE and inside.stop_usd == pytest.approx(30)
    assert check_stop(hand_map(LONGS, SHORTS), [A], SHORT, 102.3).verdict is Verdict.CLEAR


@pytest.mark.parametrize(
    ("position", "stop", "problem"),
    [
        (LONG, 100.0, StopProblem.WRONG_SIDE),
        (LONG, 100.5, StopProblem.WRONG_SIDE),
        (SHORT, 99.0, StopProblem.WRONG_SIDE),
        (LONG, 70.0, StopProblem.OFF_MAP),
        (SHORT, 130.0, StopProblem.OFF_MAP),
        (LONG, 80.0, None),
        (SHORT, 100.1, None),
    ],
)
def test_stops_on_the_wrong_side_or_off_the_map_are_refused(
    position: str, stop: float, problem: StopProblem | None
) -> None:
    assert stop_problem(hand_map(LONGS, SHORTS), position, stop) is problem


def test_marks_are_drawn_as_lines_and_the_default_chart_is_unchanged() -> None:
    liq_map = hand_map(LONGS, SHORTS)
    labels = ChartLabels("BTC-USDT-SWAP", "okx", "7d")
    plain = render_png(liq_map, [A, S], labels)
    assert render_png(liq_map, [A, S], labels, marks=()) == plain
    marked = render_png(liq_map, [A, S], labels, marks=[(97.2, "stop", "#ff00ff")])
    assert png_size(marked) == (1280, 720)
    assert colour_pixels(plain, "#ff00ff") == 0 < colour_pixels(marked, "#ff00ff")
    far = render_png(liq_map, [A, S], labels, marks=[(85.0, "stop", "#ff00ff")])
    assert colour_pixels(far, "#ff00ff") > 0, "a mark beyond the usual range widens the chart"
