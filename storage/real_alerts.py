"""Real-cluster alerts: which subscriptions opted in, and the proximity detector's memory of
the real layer for each, kept apart from the estimate's (``alert_state``).

A row lives as long as its subscription (a foreign key deletes it with it, and moves it with a
group that became a supergroup); ``storage.opt_in_watches`` writes the memory and its alerts
in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from liqmap.signals.proximity import Watch, as_state, from_state
from storage.opt_in_watches import OptInWatches


class RealAlertStore(OptInWatches[Watch]):
    """Real-cluster alerts (``real_watch``)."""

    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        super().__init__(db, clock, "real_watch", as_state, from_state)

    def watched(self, chat_id: int) -> frozenset[str]:
        """The chat's subscriptions that opted in."""
        rows = self.db.execute(
            f"SELECT instrument FROM {self.table} WHERE chat_id = ?", [chat_id]
        ).fetchall()
        return frozenset(row[0] for row in rows)
