"""Every store of one database, and the one thread that runs their calls.

Stores stay synchronous and simple; the async service reaches them only through ``run``:
``await stores.run(stores.chats.get, chat_id)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from liqmap.policies.access import Access
from liqmap.policies.fair_use import SubscriptionLimits
from storage.alerts import AlertStore
from storage.budgets import BudgetStore
from storage.chats import ChatStore
from storage.digests import DigestStore
from storage.growing_clusters import BuildingStore
from storage.liquidations import RealizedStore
from storage.market_cache import MarketCache
from storage.outbox import Outbox
from storage.positions import PositionStore
from storage.real_alerts import RealAlertStore
from storage.snapshots import SnapshotStore
from storage.sweeps import SweepStore
from storage.topics import TopicStore
from storage.webhooks import WebhookStore
from storage.worker import DbWorker

P = ParamSpec("P")
T = TypeVar("T")


class Stores:
    """The cache, chats, maps, alert state, outbox, recorded liquidations, sweeps, digests
    map budgets, scanned positions and real-cluster alerts of one database."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], int],
        access: Access | None = None,
        limits: SubscriptionLimits | None = None,
    ) -> None:
        self.db = db
        self.cache = MarketCache(db)
        self.chats = ChatStore(db, clock, access, limits)
        self.snapshots = SnapshotStore(db)
        self.outbox = Outbox(db)
        self.alerts = AlertStore(db, clock)
        self.building = BuildingStore(db, clock)
        self.real_alerts = RealAlertStore(db, clock)
        self.realized = RealizedStore(db)
        self.sweeps = SweepStore(db)
        self.digests = DigestStore(db, self.chats)
        self.budgets = BudgetStore(db)
        self.positions = PositionStore(db)
        self.topics = TopicStore(db, clock)
        self.webhooks = WebhookStore(db)
        self._worker = DbWorker()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A store call in the database thread (see ``storage.worker``)."""
        return await self._worker.run(fn, *args, **kwargs)

    def close(self) -> None:
        """Finish queued work and stop the database thread (the connection stays open)."""
        self._worker.close()
