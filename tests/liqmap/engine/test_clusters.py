"""Clusters: dense bands ranked by density, with every field a trader reads."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.engine.clusters import LONG, SHORT, ClusterRules, find_clusters
from liqmap.engine.model import BAND_LABELS, LiquidationMap

PRICE = 100.0


def side_map(long_bins: dict[int, float], short_bins: dict[int, float]) -> LiquidationMap:
    """A map of 500 bins of 0.1 around price 100 (bins 0..249 below, 250..499 above)."""
    edges = 75.0 + 0.1 * np.arange(501)
    long_usd, short_usd = np.zeros(500), np.zeros(500)
    long_usd[:250] = 1.0  # a thin background on each side
    short_usd[250:] = 1.0
    for index, usd in long_bins.items():
        long_usd[index] += usd
    for index, usd in short_bins.items():
        short_usd[index] += usd
    bands = len(BAND_LABELS)
    by_band = np.zeros((bands, 500))
    shorts = np.zeros((bands, 500))
    by_band[2] = long_usd
    shorts[2] = short_usd
    return LiquidationMap(PRICE, 1_000, edges, by_band, shorts)


def test_a_narrow_moderate_band_outranks_a_wide_band_with_more_usd() -> None:
    narrow = dict.fromkeys(range(200, 203), 30.0)  # 0.3% wide, 93 USD, never the tallest bin
    wide = dict.fromkeys(range(100, 112), 10.0) | {105: 60.0}  # 1.2% wide, 182 USD, tallest bin
    clusters = find_clusters(side_map(narrow | wide, {}))
    longs = [c for c in clusters if c.side == LONG]
    assert longs[0].low == pytest.approx(95.0) and longs[0].high == pytest.approx(95.3)
    assert longs[1].low == pytest.approx(85.0) and longs[1].high == pytest.approx(86.2)
    assert longs[0].usd == pytest.approx(93.0) and longs[1].usd == pytest.approx(182.0)
    assert longs[0].density > longs[1].density


def test_every_field_of_a_cluster() -> None:
    bins = {300: 10.0, 301: 30.0, 302: 10.0}  # 105.0-105.3 above the price
    (cluster,) = find_clusters(side_map({}, bins), ClusterRules(min_share=0.05))
    assert cluster.side == SHORT
    assert (cluster.low, cluster.high) == pytest.approx((105.0, 105.3))
    assert cluster.usd == pytest.approx(53.0)  # 50 on top of 1 USD background per bin
    assert cluster.center == pytest.approx((105.05 * 11 + 105.15 * 31 + 105.25 * 11) / 53)
    assert cluster.share == pytest.approx(53.0 / 300.0)
    width_pct = 0.3 / PRICE * 100
    assert cluster.density == pytest.approx(53.0 / width_pct)
    assert cluster.strength == pytest.approx(cluster.density / (300.0 / 25.0))
    assert cluster.distance_pct == pytest.approx(5.0)
    assert cluster.width_pct == pytest.approx(0.3 / cluster.center * 100)
    assert cluster.key.startswith("short@")


def test_long_distances_are_negative_and_measured_to_the_near_edge() -> None:
    (cluster,) = find_clusters(side_map({220: 60.0, 221: 60.0}, {}), ClusterRules(min_share=0.1))
    assert cluster.side == LONG
    assert cluster.high == pytest.approx(97.2)
    assert cluster.distance_pct == pytest.approx(-2.8)


def test_the_key_is_stable_when_the_map_shifts_slightly() -> None:
    first = find_clusters(side_map({200: 50.0, 201: 50.0}, {}))[0]
    shifted = side_map({200: 50.0, 201: 50.0}, {})
    moved = LiquidationMap(
        shifted.price * 1.0004,
        shifted.as_of_ms,
        shifted.edges * 1.0004,
        shifted.long_by_band,
        shifted.short_by_band,
    )
    second = find_clusters(moved)[0]
    assert second.key == first.key
    assert second.overlaps(first) and first.overlaps(second)


def test_sides_do_not_mix_and_each_is_densest_first() -> None:
    clusters = find_clusters(side_map({150: 30.0, 151: 30.0, 230: 90.0, 231: 90.0},
                                      {260: 50.0, 261: 50.0, 400: 20.0, 401: 20.0}))  # fmt: skip
    longs = [c for c in clusters if c.side == LONG]
    shorts = [c for c in clusters if c.side == SHORT]
    assert clusters == longs + shorts
    assert all(c.high <= PRICE for c in longs) and all(c.low >= PRICE for c in shorts)
    assert [c.density for c in longs] == sorted((c.density for c in longs), reverse=True)
    assert [c.density for c in shorts] == sorted((c.density for c in shorts), reverse=True)
    assert not longs[0].overlaps(shorts[0])


def test_noise_and_single_spikes_are_not_clusters() -> None:
    assert find_clusters(side_map({}, {})) == []
    spike = find_clusters(side_map({120: 400.0}, {}))
    assert spike == [], "one bin is a spike, not a band"


def test_at_most_the_limit_per_side() -> None:
    bins = {i: 20.0 for start in range(20, 240, 20) for i in (start, start + 1)}
    clusters = find_clusters(side_map(bins, {}), ClusterRules(limit=3))
    assert len(clusters) == 3


def test_an_empty_map_has_no_clusters() -> None:
    empty = LiquidationMap(
        100.0, 0, np.linspace(75, 125, 501), np.zeros((5, 500)), np.zeros((5, 500))
    )
    assert find_clusters(empty) == []
