"""``assert_close`` agrees with ``pytest.approx`` element by element, whatever the floats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.support.arrays import assert_close

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
NEAR = st.floats(min_value=-1e6, max_value=1e6)
SPECIAL = st.sampled_from([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0])
ELEMENTS = FLOATS | NEAR | SPECIAL


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of one shape: anything, or the second a small perturbation of the first."""
    expected = draw(arrays(np.float64, st.integers(1, 6), elements=ELEMENTS))
    if draw(st.booleans()):
        return draw(arrays(np.float64, expected.shape, elements=ELEMENTS)), expected
    scale = draw(st.sampled_from([0.0, 1e-12, 1e-9, 1e-6]))
    noise = draw(arrays(np.float64, expected.shape, elements=st.floats(-1, 1)))
    with np.errstate(invalid="ignore", over="ignore"):
        return expected * (1 + scale * noise), expected


@settings(max_examples=400)  # infinities against finite values need a few hundred draws
@given(pairs(), st.sampled_from([0.0, 1e-12, 1e-9]), st.sampled_from([0.0, 1e-9, 1e-3]))
def test_it_passes_exactly_when_pytest_approx_does(
    pair: tuple[np.ndarray, np.ndarray], rel: float, abs: float
) -> None:
    actual, expected = pair
    approx = all(
        a == pytest.approx(e, rel=rel, abs=abs)
        for a, e in zip(actual.tolist(), expected.tolist(), strict=True)
    )
    try:
        assert_close(actual, expected, rel=rel, abs=abs)
    except AssertionError:
        assert not approx, (actual, expected)
    else:
        assert approx, (actual, expected)


def test_a_different_shape_never_passes() -> None:
    with pytest.raises(AssertionError, match="shape"):
        assert_close(np.zeros(3), np.zeros(4), rel=1, abs=1)
