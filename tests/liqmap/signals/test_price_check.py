"""One wild price tick never becomes an alert; a real move counts at the second tick."""

from __future__ import annotations

from liqmap.signals.price_check import PriceCheck, vet


def run(ticks: list[tuple[float, float | None]], reference: float = 59_000.0) -> list:
    state, acted = PriceCheck(), []
    for price, other in ticks:
        state, believed = vet(state, price, reference, other)
        acted.append(believed)
    return acted


def test_ordinary_ticks_count_at_once() -> None:
    assert run([(59_100, None), (58_700, None), (60_000, None)]) == [59_100, 58_700, 60_000]


def test_one_wild_tick_is_held_and_forgotten_when_the_market_is_back() -> None:
    assert run([(59_000, None), (30_000, None), (59_050, None)]) == [59_000, None, 59_050]


def test_a_wild_first_tick_is_judged_against_the_maps_last_close() -> None:
    assert run([(30_000, None), (59_020, None)], reference=59_000) == [None, 59_020]


def test_the_other_price_source_confirms_a_real_jump_at_once() -> None:
    assert run([(59_000, None), (52_000, 52_100)]) == [59_000, 52_000]
    assert run([(59_000, None), (30_000, 58_990)]) == [59_000, None], "index says no"


def test_a_real_crash_counts_at_the_second_tick_even_while_it_keeps_falling() -> None:
    acted = run([(59_000, None), (53_000, None), (51_500, None), (50_000, None)])
    assert acted == [59_000, None, 51_500, 50_000]


def test_a_second_wild_tick_elsewhere_does_not_confirm_the_first() -> None:
    assert run([(59_000, None), (30_000, None), (90_000, None)]) == [59_000, None, None]
