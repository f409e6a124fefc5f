"""Axis amounts read short: ``$500K``, not ``$500.0K``."""

from __future__ import annotations

import pytest

from liqmap.charts.ticks import usd_tick


@pytest.mark.parametrize(
    ("value", "text"),
    [(500_000, "$500K"), (1_500_000, "$1.5M"), (2e9, "$2B"), (10_000_000, "$10M"),
     (0, "$0"), (950, "$950"), (1_050_000, "$1.1M"), (100_000.0, "$100K")],
)  # fmt: skip
def test_amounts_on_the_axes_drop_a_zero_decimal(value: float, text: str) -> None:
    assert usd_tick(value) == text
