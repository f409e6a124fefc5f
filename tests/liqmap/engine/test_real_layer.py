"""The real layer: real positions' USD summed into a map's bins, per side."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from liqmap.engine.clusters import find_clusters
from liqmap.engine.real_layer import RealLevel, bin_real
from tests.support.arrays import assert_close

EDGES = np.linspace(90.0, 110.0, 201)

levels = st.lists(
    st.builds(
        RealLevel,
        side=st.sampled_from(["long", "short"]),
        price=st.integers(-100, 300).map(lambda k: 90.05 + 0.1 * k),  # bin centres and beyond
        usd=st.floats(0.0, 1e7),
        read_ms=st.integers(1, 10**13),
        stale=st.booleans(),
    ),
    max_size=40,
)


@given(levels)
def test_each_level_inside_the_edges_lands_in_its_own_bin_and_side(given_levels):
    layer = bin_real(EDGES, given_levels, coverage=0.5)
    want = {"long": np.zeros(200), "short": np.zeros(200)}
    counted = []
    for level in given_levels:
        if EDGES[0] <= level.price < EDGES[-1] and level.usd > 0:
            want[level.side][round((level.price - 90.05) / 0.1)] += level.usd
            counted.append(level)
    assert_close(layer.long_usd, want["long"], rel=1e-9, abs=1e-6)
    assert_close(layer.short_usd, want["short"], rel=1e-9, abs=1e-6)
    assert layer.positions == len(counted)
    assert layer.stale == sum(level.stale for level in counted)
    assert layer.read_ms == min((level.read_ms for level in counted), default=0)
    assert layer.coverage == 0.5


def test_levels_outside_the_map_are_left_out():
    layer = bin_real(
        EDGES, [RealLevel("long", 50.0, 1e6, 1), RealLevel("short", 130.0, 1e6, 1)], None
    )
    assert layer.total_usd == 0 and layer.positions == 0 and layer.read_ms == 0


def test_a_dense_real_band_is_a_cluster_of_the_layer_as_a_map():
    band = [RealLevel("long", 95.05 + i * 0.1, 5e6, 1) for i in range(5)]
    scattered = [RealLevel("long", price, 1e5, 1) for price in (91.05, 92.55, 98.05)]
    layer = bin_real(EDGES, band + scattered, coverage=None)
    clusters = find_clusters(layer.as_map(price=100.0, as_of_ms=1))
    assert clusters and clusters[0].side == "long"
    assert 94.7 <= clusters[0].low <= 95.0 and 95.5 <= clusters[0].high <= 95.8
