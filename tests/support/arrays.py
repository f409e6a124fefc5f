"""Comparing large float arrays as ``pytest.approx`` does, at numpy's speed."""

from __future__ import annotations

import numpy as np


def assert_close(actual: np.ndarray, expected: np.ndarray, *, rel: float, abs: float) -> None:
    """``actual == pytest.approx(expected, rel=rel, abs=abs)``: the same shape, and each element
    equal or within ``max(rel * |expected|, abs)`` of a finite one (a NaN never is).
    pytest.approx takes seconds over a grid of a hundred thousand elements; this takes
    milliseconds."""
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    with np.errstate(invalid="ignore"):
        within = np.abs(actual - expected) <= np.maximum(rel * np.abs(expected), abs)
    close = (actual == expected) | (np.isfinite(expected) & within)  # an infinity only equals
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        raise AssertionError(
            f"{int((~close).sum())} of {close.size} elements differ beyond rel={rel}, abs={abs}; "
            f"first at {where}: {float(actual[where])!r} != {float(expected[where])!r}"
        )
