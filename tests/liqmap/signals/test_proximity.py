"""The proximity detector on scripted price paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from liqmap.engine.clusters import Cluster
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from liqmap.signals.proximity import (
    APPROACH,
    SWEPT,
    Subject,
    Watch,
    as_state,
    check,
    distance_to,
    from_state,
)

SUBJECT = Subject("okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "7d")
NOON = int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000
NO_COOLDOWN = ChatSettings(cooldown_minutes=0)


def cluster(side: str, low: float, high: float, usd: float = 1e6, strength: float = 3.0) -> Cluster:
    center = (low + high) / 2
    return Cluster(side, low, high, center, usd, 0.2, usd, strength, 0.0, f"{side}@{low}")


LONG_95 = cluster("long", 95.0, 96.0)
SHORT_105 = cluster("short", 104.0, 105.0)


def walk(
    prices: list[float],
    clusters: list[Cluster] | list[list[Cluster]],
    settings: ChatSettings = NO_COOLDOWN,
    distance: float = 1.0,
    watch: Watch | None = None,
    step_ms: int = MINUTE,
) -> tuple[Watch, list[list[str]]]:
    """Check each price in turn (clusters fixed, or one list per step); alert kinds per step."""
    watch = watch or Watch()
    kinds = []
    for i, price in enumerate(prices):
        current = clusters[i] if clusters and isinstance(clusters[0], list) else clusters
        watch, alerts = check(
            watch, current, price, NOON + i * step_ms, distance, settings, SUBJECT
        )
        kinds.append([a.kind for a in alerts])
    return watch, kinds


def test_distance_to_the_near_edge() -> None:
    assert distance_to(LONG_95, 97.0) == pytest.approx(1 / 97 * 100)
    assert distance_to(LONG_95, 95.5) == 0
    assert distance_to(LONG_95, 94.0) < 0
    assert distance_to(SHORT_105, 103.0) == pytest.approx(1 / 103 * 100)
    assert distance_to(SHORT_105, 106.0) < 0


def test_one_alert_on_approach_then_quiet_while_price_lingers() -> None:
    _, kinds = walk([100, 98, 97.5, 96.9, 96.8, 96.5, 96.9, 97.0], [LONG_95])
    assert kinds == [[], [], [], [APPROACH], [], [], [], []]


def test_moving_away_beyond_twice_the_distance_rearms() -> None:
    # 98.0 is 2.04% above the band's top: re-armed; coming back alerts again
    _, kinds = walk([96.9, 98.0, 96.9], [LONG_95])
    assert kinds == [[APPROACH], [], [APPROACH]]
    # 97.5 is only 1.5% away: not re-armed
    _, kinds = walk([96.9, 97.5, 96.9], [LONG_95])
    assert kinds == [[APPROACH], [], []]


def test_a_recompute_shifting_the_cluster_does_not_realert() -> None:
    shifted = cluster("long", 95.2, 96.3, usd=1.3e6)
    _, kinds = walk([96.9, 96.95, 97.0], [[LONG_95], [shifted], [shifted]])
    assert kinds == [[APPROACH], [], []]


def test_a_material_change_or_a_vanished_cluster_rearms() -> None:
    tripled = cluster("long", 95.0, 96.0, usd=3e6)
    _, kinds = walk([96.9, 96.9], [[LONG_95], [tripled]])
    assert kinds == [[APPROACH], [APPROACH]]
    _, kinds = walk([96.9, 96.9, 96.9], [[LONG_95], [], [LONG_95]])
    assert kinds == [[APPROACH], [], [APPROACH]]


def test_crossing_through_a_cluster_is_a_swept_event() -> None:
    watch, kinds = walk([96.9, 95.5, 94.5], [LONG_95])
    assert kinds == [[APPROACH], [], [SWEPT]]
    assert watch.remembered == ()
    _, alerts = check(Watch(), [SHORT_105], 103.5, NOON, 1.0, NO_COOLDOWN, SUBJECT)
    assert alerts[0].side == "short" and alerts[0].direction == "near"


def test_short_clusters_above_and_the_direction_of_approach() -> None:
    watch, _ = walk([101.0], [SHORT_105])
    watch, alerts = check(watch, [SHORT_105], 103.2, NOON + MINUTE, 1.0, NO_COOLDOWN, SUBJECT)
    (alert,) = alerts
    assert (alert.kind, alert.side, alert.direction) == (APPROACH, "short", "rising")
    assert alert.distance_pct == pytest.approx((104 - 103.2) / 103.2 * 100)
    assert (alert.low, alert.high, alert.usd, alert.price, alert.previous_price) == (
        104.0, 105.0, 1e6, 103.2, 101.0,
    )  # fmt: skip
    assert alert.label == "BTC-USDT-SWAP" and alert.instrument == "okx:BTC-USDT-SWAP"


def test_only_the_nearest_cluster_alerts_in_one_check() -> None:
    near = cluster("long", 96.0, 96.5)
    far = cluster("long", 95.0, 95.8)
    _, alerts = check(Watch(), [far, near], 96.9, NOON, 2.0, NO_COOLDOWN, SUBJECT)
    assert [(a.low, a.high) for a in alerts] == [(96.0, 96.5)]


def test_weak_clusters_do_not_alert() -> None:
    weak = cluster("long", 95.0, 96.0, strength=1.5)
    _, kinds = walk([96.9], [weak], ChatSettings(min_strength=2.0, cooldown_minutes=0))
    assert kinds == [[]]
    _, kinds = walk([96.9], [weak], ChatSettings(min_strength=1.0, cooldown_minutes=0))
    assert kinds == [[APPROACH]]


def test_the_cooldown_holds_back_a_second_cluster_until_it_passes() -> None:
    other = cluster("short", 98.5, 99.0)
    settings = ChatSettings(cooldown_minutes=30)
    # alert on the long cluster, then price turns up toward the short one within 30 minutes
    watch, kinds = walk([96.9, 97.8, 97.8], [LONG_95, other], settings, step_ms=10 * MINUTE)
    assert kinds == [[APPROACH], [], []]
    later = NOON + 31 * MINUTE
    watch, alerts = check(watch, [LONG_95, other], 97.8, later, 1.0, settings, SUBJECT)
    assert [(a.kind, a.side) for a in alerts] == [(APPROACH, "short")]


def test_quiet_hours_make_alerts_silent() -> None:
    settings = ChatSettings(cooldown_minutes=0, quiet=QuietHours(11 * 60, 13 * 60))
    _, alerts = check(Watch(), [LONG_95], 96.9, NOON, 1.0, settings, SUBJECT)
    assert alerts[0].silent is True
    _, alerts = check(Watch(), [LONG_95], 96.9, NOON + 2 * 3600_000, 1.0, settings, SUBJECT)
    assert alerts[0].silent is False


def test_the_state_survives_storage() -> None:
    watch, _ = walk([96.9], [LONG_95])
    restored = from_state(json.loads(json.dumps(as_state(watch))))
    assert restored == watch
    _, kinds = walk([96.8], [LONG_95], watch=restored)
    assert kinds == [[]], "no second alert after a restart"
