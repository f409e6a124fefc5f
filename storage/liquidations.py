"""Recorded liquidations, each event once, and the time spans each stream was watched.

A batch of events and the span it extends are written in one transaction, so a crash never
leaves events without coverage or coverage claiming events that were lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.engine.ranges import Range, merge
from liqmap.engine.realized import Realized

_COLUMNS = ("exchange", "instrument", "ts", "side", "price", "amount", "usd")


@dataclass(frozen=True)
class StreamCoverage:
    """What the recorder holds for one instrument: events, their USD, and the watched time."""

    exchange: str
    instrument: str
    events: int
    usd: float
    first_ts: int | None
    last_event_ts: int | None
    covered: tuple[Range, ...]

    @property
    def watched_until(self) -> int | None:
        return self.covered[-1][1] if self.covered else None


class RealizedStore:
    """Read and write recorded liquidations in a liqmap database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, exchange: str, instruments: Iterable[str], rows: Sequence[Realized], span: Range
    ) -> int:
        """Store ``rows`` (duplicates ignored) and mark ``span`` watched for ``instruments``;
        how many rows were new."""
        before = self.db.execute("SELECT total_changes()").fetchone()[0]
        with self.db.atomic():
            self.db.conn.executemany(
                f"INSERT OR IGNORE INTO realized ({', '.join(_COLUMNS)}) VALUES (?,?,?,?,?,?,?)",
                [(r.exchange, r.instrument, r.ts, r.side, r.price, r.amount, r.usd) for r in rows],
            )
            added = self.db.execute("SELECT total_changes()").fetchone()[0] - before
            for instrument in instruments:
                self._cover(exchange, instrument, span)
        return added

    def covered(self, exchange: str, instrument: str) -> list[Range]:
        rows = self.db.execute(
            "SELECT start_ts, end_ts FROM recorded_spans WHERE exchange = ? AND instrument = ? "
            "ORDER BY start_ts",
            [exchange, instrument],
        ).fetchall()
        return merge((int(a), int(b)) for a, b in rows)

    def between(self, exchange: str, instrument: str, start_ms: int, end_ms: int) -> list[Realized]:
        """Recorded events of one instrument with time in ``[start, end)``, oldest first."""
        rows = self.db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM realized WHERE exchange = ? AND instrument = ? "
            "AND ts >= ? AND ts < ? ORDER BY ts",
            [exchange, instrument, start_ms, end_ms],
        ).fetchall()
        return [Realized(e, i, side, p, a, u, int(ts)) for e, i, ts, side, p, a, u in rows]

    def usd_by_candle(
        self, exchange: str, instrument: str, start_ms: int, end_ms: int, step_ms: int
    ) -> list[tuple[int, str, float]]:
        """USD liquidated per side in each candle of ``step_ms`` (opening on multiples of it)
        within ``[start, end)``: ``(candle open, side, usd)``, oldest first, candles without
        events left out. Summed by SQLite, so a month of events never comes into memory."""
        rows = self.db.execute(
            "SELECT ts - ts % ? AS candle, side, sum(usd) FROM realized WHERE exchange = ? "
            "AND instrument = ? AND ts >= ? AND ts < ? GROUP BY candle, side ORDER BY candle",
            [step_ms, exchange, instrument, start_ms, end_ms],
        ).fetchall()
        return [(int(candle), side, float(usd)) for candle, side, usd in rows]

    def streams(self) -> list[StreamCoverage]:
        """Every recorded instrument: event count, USD, and the spans watched."""
        keys = self.db.execute(
            "SELECT DISTINCT exchange, instrument FROM recorded_spans ORDER BY exchange, instrument"
        ).fetchall()
        found = []
        for exchange, instrument in keys:
            events, usd, first, last = self.db.execute(
                "SELECT count(*), coalesce(sum(usd), 0), min(ts), max(ts) FROM realized "
                "WHERE exchange = ? AND instrument = ?",
                [exchange, instrument],
            ).fetchone()
            covered = tuple(self.covered(exchange, instrument))
            found.append(StreamCoverage(exchange, instrument, events, usd, first, last, covered))
        return found

    def prune(self, before_ms: int) -> int:
        """Delete events and watched time older than ``before_ms``; how many events went."""
        with self.db.atomic():
            deleted = self.db.execute("DELETE FROM realized WHERE ts < ?", [before_ms]).rowcount
            self.db.execute("DELETE FROM recorded_spans WHERE end_ts <= ?", [before_ms])
            self.db.execute(
                "UPDATE recorded_spans SET start_ts = ? WHERE start_ts < ?", [before_ms, before_ms]
            )
        return deleted

    def _cover(self, exchange: str, instrument: str, span: Range) -> None:
        ranges = merge([*self.covered(exchange, instrument), span])
        self.db.execute(
            "DELETE FROM recorded_spans WHERE exchange = ? AND instrument = ?",
            [exchange, instrument],
        )
        self.db.conn.executemany(
            "INSERT INTO recorded_spans VALUES (?, ?, ?, ?)",
            [(exchange, instrument, start, end) for start, end in ranges],
        )
