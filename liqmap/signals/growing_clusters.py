"""The building detector: a cluster near price that grew fast, or a dense one that formed there.

Pure: the clusters of the last few stored maps, the chat's memory and the time in; the next
memory and the alerts out.

- A cluster within ``NEAR_PCT`` of price *builds* when its USD grew by ``GROWTH`` or more since
  the oldest map compared (up to ``REFRESHES`` refreshes back), or when nothing lay on its range
  then and it is at least as strong as the chat asks for (a new dense cluster).
- The nearest building cluster alerts, one per check; it is remembered and stays quiet until it
  changes materially (its USD halves or doubles), goes, is crossed, or price moves beyond twice
  ``NEAR_PCT`` from it.
- At most one alert per (chat, instrument) in the cooldown; in quiet hours alerts are silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from liqmap.engine.clusters import Cluster
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import (
    MATERIAL_CHANGE,
    REARM_FACTOR,
    Alert,
    Remembered,
    Subject,
    alert_about,
    distance_to,
    in_cooldown,
    in_quiet_hours,
)

BUILDING = "building"
NEAR_PCT = 3.0
"""Only clusters within this percent of price can build."""
GROWTH = 0.5
"""A cluster builds when its USD grew by this share (0.5 = 50%) over the maps compared."""
REFRESHES = 3
"""Growth is measured over this many refreshes (so this many maps plus one are compared)."""


@dataclass(frozen=True)
class Frame:
    """The clusters of one stored map, when it was computed and the price then."""

    computed_at: int
    price: float
    clusters: list[Cluster]


@dataclass(frozen=True)
class BuildingWatch:
    """What the detector remembers for one chat and instrument between maps."""

    remembered: tuple[Remembered, ...] = ()
    last_alert_at: int | None = None


def check_building(
    watch: BuildingWatch,
    frames: list[Frame],
    now_ms: int,
    settings: ChatSettings,
    subject: Subject,
) -> tuple[BuildingWatch, list[Alert]]:
    """The next memory and the alerts, from ``frames`` oldest first (the last is the newest)."""
    if len(frames) < 2:
        return watch, []
    first, last = frames[0], frames[-1]
    price = last.price
    kept = [old for old in watch.remembered if _unchanged(old, last.clusters, price)]
    found: list[tuple[float, Cluster, float | None]] = []
    for cluster in last.clusters:
        distance = distance_to(cluster, price)
        if not 0 <= distance <= NEAR_PCT or any(old.overlaps(cluster) for old in kept):
            continue
        before = sum(c.usd for c in first.clusters if c.overlaps(cluster))
        if before > 0 and cluster.usd >= before * (1 + GROWTH):
            found.append((distance, cluster, (cluster.usd / before - 1) * 100))
        elif before == 0 and cluster.strength >= settings.min_strength:
            found.append((distance, cluster, None))
    last_alert_at = watch.last_alert_at
    if not found or in_cooldown(settings, last_alert_at, now_ms):
        return BuildingWatch(tuple(kept), last_alert_at), []
    distance, cluster, grown = min(found, key=lambda item: item[0])
    silent = in_quiet_hours(settings, now_ms)
    alert = replace(
        alert_about(BUILDING, cluster, price, None, distance, silent, subject),
        grown_pct=grown,
        over_ms=last.computed_at - first.computed_at,
    )
    kept.append(Remembered(cluster.side, cluster.low, cluster.high, cluster.usd, now_ms))
    return BuildingWatch(tuple(kept), now_ms), [alert]


def _unchanged(old: Remembered, clusters: list[Cluster], price: float) -> bool:
    """Whether a remembered cluster is still there, near, uncrossed and about as large."""
    current = [c for c in clusters if old.overlaps(c)]
    if not current or not 0 <= distance_to(old, price) <= REARM_FACTOR * NEAR_PCT:
        return False
    return all(1 / MATERIAL_CHANGE <= c.usd / old.usd <= MATERIAL_CHANGE for c in current)


def as_state(watch: BuildingWatch) -> dict[str, Any]:
    """A JSON-able form of the memory, for storage."""
    return {"remembered": [vars(r) for r in watch.remembered], "last_alert_at": watch.last_alert_at}


def from_state(data: Mapping[str, Any]) -> BuildingWatch:
    return BuildingWatch(
        tuple(Remembered(**r) for r in data.get("remembered", [])), data.get("last_alert_at")
    )
