"""The map budgets (``liqmap.policies.fair_use``) kept in the database: loaded at start and
written at each charge, so a restart within the minute gives no new budget."""

from __future__ import annotations

from collections.abc import Callable

from liqmap.policies.fair_use import FairUse, Refusal
from storage.stores import Stores


class MapBudgets:
    """Charges new maps to their keys and the service; each request's buckets are written
    through, granted or not (a refusal can mark a chat as asking again)."""

    def __init__(self, policy: FairUse, stores: Stores, clock: Callable[[], int]) -> None:
        self.policy = policy
        self.stores = stores
        self.clock = clock

    async def load(self) -> None:
        """Take up the budgets as the last run left them."""
        now = self.clock()
        self.policy.restore(await self.stores.run(self.stores.budgets.load, now))

    async def take(self, keys: list[str]) -> Refusal | None:
        """One new map for ``keys`` (and the service); None if granted, else the wait."""
        now = self.clock()
        refusal = self.policy.take(keys, now)
        await self.stores.run(self.stores.budgets.save, self.policy.buckets(keys), now)
        return refusal
