"""Stored maps: the latest per instrument and window answers ``/map`` without recomputing."""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass

import numpy as np
from sqlite_utils import Database

from liqmap.engine.clusters import Cluster
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer
from liqmap.engine.snapshot import MapSnapshot, VenueShare
from liqmap.signals.growing_clusters import REFRESHES, Frame

KEPT_MAPS = REFRESHES + 1
"""Maps kept per instrument and window: the building detector compares this many."""


@dataclass(frozen=True)
class StoredMap:
    """A snapshot with when it was computed and the Telegram file id of its chart, once sent."""

    id: int
    instrument: str
    computed_at: int
    snapshot: MapSnapshot
    chart_file_id: str | None = None
    alert_chart_file_id: str | None = None


@dataclass(frozen=True)
class Freshness:
    """When an instrument's map was last computed and how recent its data was."""

    instrument: str
    window: str
    computed_at: int
    as_of: int


class SnapshotStore:
    """Save, find and prune map snapshots."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, instrument: str, snapshot: MapSnapshot, computed_at: int) -> StoredMap:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO snapshots (instrument, window, computed_at, as_of, price, label, "
                "source, step, map, clusters, notes, venues, real) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    instrument,
                    snapshot.window,
                    computed_at,
                    snapshot.as_of_ms,
                    snapshot.price,
                    snapshot.label,
                    snapshot.source,
                    snapshot.step,
                    _pack(snapshot.liq_map),
                    json.dumps([asdict(c) for c in snapshot.clusters]),
                    json.dumps(list(snapshot.notes)),
                    json.dumps([asdict(v) for v in snapshot.venues]),
                    None if snapshot.real is None else _pack_real(snapshot.real),
                ],
            )
        return StoredMap(int(cursor.lastrowid or 0), instrument, computed_at, snapshot)

    def latest(self, instrument: str, window: str) -> StoredMap | None:
        return self._one(
            "SELECT * FROM snapshots WHERE instrument = ? AND window = ? "
            "ORDER BY computed_at DESC, id DESC LIMIT 1",
            [instrument, window],
        )

    def computed_at(self, instrument: str, window: str) -> int | None:
        """When the latest map of an instrument and window was computed (without loading it)."""
        row = self.db.execute(
            "SELECT MAX(computed_at) FROM snapshots WHERE instrument = ? AND window = ?",
            [instrument, window],
        ).fetchone()
        return row[0]

    def frames(self, instrument: str, window: str, count: int) -> list[Frame]:
        """The clusters of the ``count`` latest maps, oldest first (without their maps)."""
        rows = self.db.execute(
            "SELECT computed_at, price, clusters FROM snapshots WHERE instrument = ? AND "
            "window = ? ORDER BY computed_at DESC, id DESC LIMIT ?",
            [instrument, window, count],
        ).fetchall()
        return [
            Frame(at, price, [Cluster(**c) for c in json.loads(clusters)])
            for at, price, clusters in reversed(rows)
        ]

    def by_id(self, snapshot_id: int) -> StoredMap | None:
        return self._one("SELECT * FROM snapshots WHERE id = ?", [snapshot_id])

    def _one(self, sql: str, params: list) -> StoredMap | None:
        row = next(self.db.query(sql, params), None)
        if row is None:
            return None
        snapshot = MapSnapshot(
            label=row["label"],
            source=row["source"],
            window=row["window"],
            step=row["step"],
            liq_map=_unpack(row["map"]),
            clusters=[Cluster(**c) for c in json.loads(row["clusters"])],
            notes=tuple(json.loads(row["notes"])),
            venues=tuple(VenueShare(**v) for v in json.loads(row["venues"])),
            real=None if row["real"] is None else _unpack_real(row["real"]),
        )
        return StoredMap(
            row["id"],
            row["instrument"],
            row["computed_at"],
            snapshot,
            row["chart_file_id"],
            row["alert_chart_file_id"],
        )

    def set_chart_file_id(self, snapshot_id: int, file_id: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE snapshots SET chart_file_id = ? WHERE id = ?", [file_id, snapshot_id]
            )

    def set_alert_chart_file_id(self, snapshot_id: int, file_id: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE snapshots SET alert_chart_file_id = ? WHERE id = ?", [file_id, snapshot_id]
            )

    def freshness(self) -> list[Freshness]:
        """The latest computation of every instrument and window."""
        rows = self.db.execute(
            "SELECT instrument, window, MAX(computed_at), MAX(as_of) FROM snapshots "
            "GROUP BY instrument, window ORDER BY instrument, window"
        ).fetchall()
        return [Freshness(*row) for row in rows]

    def prune(self, keep: int = KEPT_MAPS) -> int:
        """Keep the ``keep`` latest snapshots per instrument and window, and those unsent
        alerts still need for their chart; how many went."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM snapshots WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() "
                "OVER (PARTITION BY instrument, window ORDER BY computed_at DESC, id DESC) AS n "
                "FROM snapshots) WHERE n > ?) AND id NOT IN (SELECT snapshot_id FROM outbox "
                "WHERE state IN ('pending', 'sending') AND snapshot_id IS NOT NULL)",
                [keep],
            )
        return cursor.rowcount

    def prune_before(self, computed_before_ms: int) -> int:
        """Delete maps computed before ``computed_before_ms`` (instruments no longer refreshed),
        except those pending alerts still need for their chart; how many went."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM snapshots WHERE computed_at < ? AND id NOT IN (SELECT snapshot_id "
                "FROM outbox WHERE state IN ('pending', 'sending') AND snapshot_id IS NOT NULL)",
                [computed_before_ms],
            )
        return cursor.rowcount


def _pack(liq_map: LiquidationMap) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        price=liq_map.price,
        as_of=liq_map.as_of_ms,
        edges=liq_map.edges,
        long_by_band=liq_map.long_by_band,
        short_by_band=liq_map.short_by_band,
        bands=np.array(liq_map.bands),
    )
    return buffer.getvalue()


def _unpack(blob: bytes) -> LiquidationMap:
    with np.load(io.BytesIO(blob)) as data:
        return LiquidationMap(
            price=float(data["price"]),
            as_of_ms=int(data["as_of"]),
            edges=data["edges"],
            long_by_band=data["long_by_band"],
            short_by_band=data["short_by_band"],
            bands=tuple(str(b) for b in data["bands"]),
        )


def _pack_real(real: RealLayer) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        edges=real.edges,
        long_usd=real.long_usd,
        short_usd=real.short_usd,
        coverage=np.nan if real.coverage is None else real.coverage,
        counts=np.array([real.positions, real.stale, real.read_ms], dtype=np.int64),
    )
    return buffer.getvalue()


def _unpack_real(blob: bytes) -> RealLayer:
    with np.load(io.BytesIO(blob)) as data:
        coverage = float(data["coverage"])
        positions, stale, read_ms = (int(n) for n in data["counts"])
        return RealLayer(
            edges=data["edges"],
            long_usd=data["long_usd"],
            short_usd=data["short_usd"],
            coverage=None if np.isnan(coverage) else coverage,
            positions=positions,
            stale=stale,
            read_ms=read_ms,
        )
