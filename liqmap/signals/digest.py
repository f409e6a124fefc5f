"""The daily digest: each subscription's nearest clusters and the last 24 hours of alerts.

Pure: when a chat's digest is due comes from its settings and the time; what it says from
the stored maps and the alerts the chat was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from liqmap.engine.clusters import LONG, SHORT, Cluster
from liqmap.engine.snapshot import MapSnapshot
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import Alert

DIGEST = "digest"
SPAN_MS = 24 * 3_600_000
"""A digest covers the alerts of this span before it."""
GRACE_MINUTES = 120
"""A digest is queued up to this late (a restart); later, or turned on after its time, it
waits for the next day."""


@dataclass(frozen=True)
class Level:
    """The nearest cluster of one side of a map."""

    side: str
    low: float
    high: float
    usd: float
    distance_pct: float

    @classmethod
    def of(cls, cluster: Cluster) -> Level:
        return cls(cluster.side, cluster.low, cluster.high, cluster.usd, cluster.distance_pct)


@dataclass(frozen=True)
class Watched:
    """One subscription's latest map, as far as the digest tells it."""

    label: str
    source: str
    price: float
    as_of_ms: int
    levels: tuple[Level, ...]

    @classmethod
    def of(cls, snapshot: MapSnapshot) -> Watched:
        nearest = (snapshot.nearest(side) for side in (LONG, SHORT))
        levels = tuple(Level.of(c) for c in nearest if c is not None)
        return cls(snapshot.label, snapshot.source, snapshot.price, snapshot.as_of_ms, levels)


@dataclass(frozen=True)
class Digest:
    """What one chat's daily message says; ``tz`` is the zone its times are shown in."""

    made_at: int
    tz: str
    watched: tuple[Watched, ...]
    swept: tuple[Alert, ...]
    """Swept alerts and receipts the chat was sent in the span."""
    alerts: int
    """Approach alerts the chat was sent in the span."""
    silent: bool
    kind: str = DIGEST


def due_day(settings: ChatSettings, now_ms: int) -> str | None:
    """The local day (``2026-11-25``) whose digest is due at ``now_ms``: from the chat's
    digest time to ``GRACE_MINUTES`` after it, that day. Wall-clock time in the chat's zone,
    so DST moves nothing (a time skipped that night is taken just after)."""
    if settings.digest_at is None:
        return None
    local = datetime.fromtimestamp(now_ms / 1000, settings.zone)
    late = local.hour * 60 + local.minute - settings.digest_at
    return local.date().isoformat() if 0 <= late < GRACE_MINUTES else None
