"""The real layer: real positions' USD summed into a map's bins, per side."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from liqmap.engine.clusters import find_clusters
from liqmap.engine.real_layer import RealLevel, bin_real, positions_in, real_clusters
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


def test_one_large_position_is_a_real_cluster_though_the_estimates_rules_drop_it():
    whale = RealLevel("long", 96.05, 8e6, 1)
    small = [RealLevel("long", price, 2e5, 1) for price in (91.05, 93.05, 98.55)]
    layer = bin_real(EDGES, [whale, *small], coverage=0.1)
    assert not find_clusters(layer.as_map(100.0, 1)), "a lone bin is a spike to the estimate"
    found = real_clusters(layer, 100.0, 1)
    biggest = max(found, key=lambda c: c.usd)
    assert (biggest.low, biggest.high) == (EDGES[60], EDGES[61]) and biggest.usd == 8e6
    assert positions_in([whale, *small], "long", biggest.low, biggest.high) == 1


def test_positions_close_together_form_one_band_and_apart_two():
    together = [RealLevel("short", 103.05, 1e6, 1), RealLevel("short", 103.25, 2e6, 1)]
    apart = [RealLevel("short", 106.05, 1e6, 1)]
    found = real_clusters(bin_real(EDGES, together + apart, None), 100.0, 1)
    bands = sorted((round(c.low, 2), round(c.high, 2), c.usd) for c in found)
    assert bands == [(103.0, 103.3, 3e6), (106.0, 106.1, 1e6)]


def test_every_band_of_a_side_counts_not_only_the_densest_five():
    far = [RealLevel("long", 90.55 + i, 5e6, 1) for i in range(6)]  # six dense, far away
    near = RealLevel("long", 99.35, 1e6, 1)  # the one price meets first, less dense
    found = real_clusters(bin_real(EDGES, [*far, near], None), 100.0, 1)
    assert len(found) == 7 and any(c.low <= 99.35 < c.high for c in found)
