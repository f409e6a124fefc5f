"""What the metrics endpoint reads of the database at a scrape: the outbox by state, how long
the oldest due alert has waited, and the time the recorder watched."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from liqmap.engine.ranges import Range


@dataclass(frozen=True)
class OutboxFigures:
    """Outbox rows by state, and when the oldest pending row that is due was queued."""

    by_state: dict[str, int]
    oldest_due_ms: int | None


def outbox_figures(db: Database, now_ms: int) -> OutboxFigures:
    rows = db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
    (oldest,) = db.execute(
        "SELECT min(created_at) FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?",
        [now_ms],
    ).fetchone()
    return OutboxFigures({state: int(count) for state, count in rows}, oldest)


def watched_spans(db: Database, since_ms: int) -> dict[str, list[list[Range]]]:
    """Per exchange, each recorded instrument's watched time since ``since_ms``."""
    rows = db.execute(
        "SELECT exchange, instrument, start_ts, end_ts FROM recorded_spans WHERE end_ts > ? "
        "ORDER BY exchange, instrument",
        [since_ms],
    ).fetchall()
    spans: dict[tuple[str, str], list[Range]] = {}
    for exchange, instrument, start, end in rows:
        spans.setdefault((exchange, instrument), []).append((int(start), int(end)))
    found: dict[str, list[list[Range]]] = {}
    for (exchange, _), ranges in spans.items():
        found.setdefault(exchange, []).append(ranges)
    return found
