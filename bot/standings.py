"""How close each subscription is to firing: the nearest strong-enough cluster on its map."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from liqmap.engine.clusters import Cluster
from liqmap.engine.snapshot import MapSnapshot
from storage.chats import Subscription


@dataclass(frozen=True)
class Standing:
    """A subscription with its distance and the nearest cluster at least ``min_strength``
    times denser than average on its stored map (None: no such cluster, or no map)."""

    subscription: Subscription
    distance_pct: float
    has_map: bool
    nearest: Cluster | None

    @property
    def closeness(self) -> float | None:
        """Price's distance to the nearest cluster in units of the alert distance (≤ 1 fires)."""
        if self.nearest is None:
            return None
        return abs(self.nearest.distance_pct) / self.distance_pct


def standing_of(
    sub: Subscription, distance_pct: float, snapshot: MapSnapshot | None, min_strength: float
) -> Standing:
    if snapshot is None:
        return Standing(sub, distance_pct, False, None)
    strong = [c for c in snapshot.clusters if c.strength >= min_strength]
    nearest = min(strong, key=lambda c: abs(c.distance_pct), default=None)
    return Standing(sub, distance_pct, True, nearest)


def ranked(standings: Iterable[Standing]) -> list[Standing]:
    """Closest to firing first; without a strong cluster next; without a map last."""
    return sorted(
        standings,
        key=lambda s: (not s.has_map, s.closeness is None, s.closeness or 0.0,
                       s.subscription.instrument),
    )  # fmt: skip
