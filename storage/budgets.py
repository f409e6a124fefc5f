"""The map budgets as they stood at each charge, so a restart within the minute forgets none.

A bucket untouched for a minute is full again, the same as none: such rows are dropped as
others are written and never loaded.
"""

from __future__ import annotations

from sqlite_utils import Database

from liqmap.policies.fair_use import MINUTE_MS, Bucket


class BudgetStore:
    """``map_budgets``: one row per key (``chat:1``, ``user:2``, ``service``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, now_ms: int) -> list[Bucket]:
        """The buckets charged within the last minute."""
        rows = self.db.execute(
            "SELECT key, tokens, at_ms FROM map_budgets WHERE at_ms > ?", [now_ms - MINUTE_MS]
        ).fetchall()
        return [Bucket(key, tokens, at_ms) for key, tokens, at_ms in rows]

    def save(self, buckets: list[Bucket], now_ms: int) -> None:
        """Write ``buckets`` and drop those full again, in one transaction."""
        with self.db.atomic():
            self.db.execute("DELETE FROM map_budgets WHERE at_ms <= ?", [now_ms - MINUTE_MS])
            self.db.conn.executemany(
                "INSERT INTO map_budgets (key, tokens, at_ms) VALUES (?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms",
                [(b.key, b.tokens, b.at_ms) for b in buckets],
            )
