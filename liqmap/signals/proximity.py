"""The proximity detector: when price nears a dense cluster, alert once; when it crosses, say so.

Pure: clusters, a price and the time in; the next state and the alerts out.

- An *approach* fires when price comes within the subscription's distance of a cluster at
  least as strong as the chat asks for; the nearest such cluster only, once per check.
- That cluster is then remembered and stays quiet until price moves away beyond twice the
  distance, the cluster is swept (price crosses through it: a *swept* alert), or it changes
  materially (its USD halves or doubles, or no current cluster overlaps it any more).
- Clusters are matched across recomputes by overlapping ranges, so a recompute never
  re-alerts the same cluster.
- At most one approach per (chat, instrument) in the cooldown; in quiet hours alerts are silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liqmap.engine.clusters import LONG, Cluster
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.receipts import Receipt

ALERT_WINDOW = "7d"
"""Alerts watch the clusters of this window's map."""
APPROACH = "approach"
SWEPT = "swept"
RECEIPT = "receipt"
ESTIMATE = "estimate"
REAL = "real"
"""The layers a subscription can alert on: the estimated map, or the real positions' layer
(a venue whose positions are public); each has its own detector memory."""
REARM_FACTOR = 2.0
MATERIAL_CHANGE = 2.0
"""A cluster whose USD grew or shrank by this factor counts as a new one."""


@dataclass(frozen=True)
class Remembered:
    """A cluster this chat was alerted about, as it was then."""

    side: str
    low: float
    high: float
    usd: float
    alerted_at: int

    def overlaps(self, cluster: Cluster) -> bool:
        return self.side == cluster.side and self.low <= cluster.high and cluster.low <= self.high


@dataclass(frozen=True)
class Watch:
    """What the detector remembers for one chat and instrument between checks."""

    remembered: tuple[Remembered, ...] = ()
    last_alert_at: int | None = None
    last_price: float | None = None


@dataclass(frozen=True)
class Subject:
    """The instrument and map a check is about: its key, its name and where it comes from."""

    instrument: str
    label: str
    source: str
    window: str
    layer: str = ESTIMATE
    coverage: float | None = None
    """For the real layer: the scanned positions' notional over the open interest."""


@dataclass(frozen=True)
class Alert:
    """Something to tell a chat about one instrument."""

    kind: str
    instrument: str
    label: str
    source: str
    side: str
    low: float
    high: float
    usd: float
    strength: float
    price: float
    previous_price: float | None
    distance_pct: float
    silent: bool
    window: str
    alerted_at: int | None = None
    """For a sweep: when the chat was told of the cluster's approach."""
    receipt: Receipt | None = None
    """For a receipt: what was recorded during the sweep."""
    grown_pct: float | None = None
    """For a building cluster: how much its USD grew, in percent; None for a new one."""
    over_ms: int | None = None
    """For a building cluster: the time between the maps compared."""
    layer: str = ESTIMATE
    """``real`` for a cluster of real positions' liquidation prices."""
    positions: int | None = None
    """For a real cluster: the positions liquidating inside it."""
    coverage: float | None = None
    """For a real cluster: the scanned positions' notional over the open interest."""

    @property
    def direction(self) -> str:
        """``falling`` or ``rising`` toward the cluster, or ``near`` when unknown."""
        if self.previous_price is None or self.previous_price == self.price:
            return "near"
        return "falling" if self.price < self.previous_price else "rising"


def distance_to(cluster: Cluster | Remembered, price: float) -> float:
    """Percent from price to the cluster's near edge; 0 inside; negative once crossed."""
    if cluster.low <= price <= cluster.high:
        return 0.0
    if cluster.side == LONG:
        return (price - cluster.high) / price * 100
    return (cluster.low - price) / price * 100


def check(
    watch: Watch,
    clusters: list[Cluster],
    price: float,
    now_ms: int,
    distance_pct: float,
    settings: ChatSettings,
    subject: Subject,
) -> tuple[Watch, list[Alert]]:
    """The next state and the alerts of one check of one chat's subscription."""
    silent = in_quiet_hours(settings, now_ms)
    alerts: list[Alert] = []
    kept: list[Remembered] = []
    for old in watch.remembered:
        current = [c for c in clusters if old.overlaps(c)]
        away = distance_to(old, price)
        if away < 0:
            alerts.append(alert_about(SWEPT, old, price, watch.last_price, away, silent, subject))
            continue
        if away > REARM_FACTOR * distance_pct or not current:
            continue
        if any(not 1 / MATERIAL_CHANGE <= c.usd / old.usd <= MATERIAL_CHANGE for c in current):
            continue
        kept.append(old)

    last_alert_at = watch.last_alert_at
    cooling = in_cooldown(settings, last_alert_at, now_ms)
    candidates = [
        (distance_to(c, price), c)
        for c in clusters
        if c.strength >= settings.min_strength
        and 0 <= distance_to(c, price) <= distance_pct
        and not any(old.overlaps(c) for old in kept)
    ]
    if candidates and not cooling:
        distance, nearest = min(candidates, key=lambda pair: pair[0])
        alerts.append(
            alert_about(APPROACH, nearest, price, watch.last_price, distance, silent, subject)
        )
        kept.append(Remembered(nearest.side, nearest.low, nearest.high, nearest.usd, now_ms))
        last_alert_at = now_ms
    return Watch(tuple(kept), last_alert_at, price), alerts


def alert_about(
    kind: str,
    cluster: Cluster | Remembered,
    price: float,
    previous: float | None,
    distance: float,
    silent: bool,
    subject: Subject,
) -> Alert:
    """An alert of ``kind`` about ``cluster`` for ``subject``, at ``price``."""
    return Alert(
        kind=kind,
        instrument=subject.instrument,
        label=subject.label,
        source=subject.source,
        side=cluster.side,
        low=cluster.low,
        high=cluster.high,
        usd=cluster.usd,
        strength=getattr(cluster, "strength", 0.0),
        price=price,
        previous_price=previous,
        distance_pct=max(distance, 0.0),
        silent=silent,
        window=subject.window,
        alerted_at=getattr(cluster, "alerted_at", None),
        layer=subject.layer,
        coverage=subject.coverage,
    )


def in_cooldown(settings: ChatSettings, last_alert_at: int | None, now_ms: int) -> bool:
    """Whether the chat was alerted within its cooldown."""
    return last_alert_at is not None and now_ms - last_alert_at < settings.cooldown_minutes * 60_000


def in_quiet_hours(settings: ChatSettings, now_ms: int) -> bool:
    """Whether ``now_ms`` falls in the chat's quiet hours, in the chat's time zone."""
    if settings.quiet is None:
        return False
    moment = datetime.fromtimestamp(now_ms / 1000, settings.zone)
    return settings.quiet.contains(moment.hour * 60 + moment.minute)


def as_state(watch: Watch) -> dict[str, Any]:
    """A JSON-able form of the state, for storage."""
    return {
        "remembered": [vars(r) for r in watch.remembered],
        "last_alert_at": watch.last_alert_at,
        "last_price": watch.last_price,
    }


def from_state(data: Mapping[str, Any]) -> Watch:
    return Watch(
        tuple(Remembered(**r) for r in data.get("remembered", [])),
        data.get("last_alert_at"),
        data.get("last_price"),
    )
