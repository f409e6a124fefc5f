"""The alert outbox: alerts are written here first and marked sent only once Telegram took them."""

from __future__ import annotations

from sqlite_utils import Database


class Outbox:
    """Read and write the outbox table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def pending(self) -> int:
        """Alerts not yet delivered."""
        return int(
            self.db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        )
