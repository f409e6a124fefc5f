"""Maps on demand: the latest stored one while fresh, else computed once however many ask."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from jobs.market_sync import sync_window
from jobs.on_demand.memo import Shared
from jobs.on_demand.real_layer import real_layer_for
from liqmap.engine.snapshot import MapSnapshot, VenueData, build_aggregate_snapshot, build_snapshot
from liqmap.errors import EveryExchangeFailed, ExchangeError
from liqmap.exchanges.market_data import MarketData, Progress
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from liqmap.market.timeframes import DEFAULT_STEP
from storage.snapshots import StoredMap
from storage.stores import Stores

T = TypeVar("T")

MIN_RECOMPUTE_MS = 30_000
"""A refresh asked for sooner than this after the last computation reuses it."""


async def compute_map(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str | None = None,
    progress: Progress | None = None,
) -> MapSnapshot:
    """Sync the window's candles and OI, then build the map and clusters in a worker thread.

    An aggregate syncs its exchanges at once and sums their maps; one failing leaves the map to
    the others, and its notes say which are missing.
    """
    step = step or DEFAULT_STEP[window]
    if inst.is_aggregate:
        return await _compute_aggregate(market, stores, inst, window, step, progress)
    data = await sync_window(market, stores, inst, window, step, progress)
    params = params_for(inst, await market.maintenance_rate(inst))
    snapshot = await asyncio.to_thread(
        build_snapshot,
        inst.native_id,
        inst.exchange,
        window,
        data.step,
        data.candles,
        data.open_interest,
        params,
        data.notes,
    )
    real = await real_layer_for(stores, inst, snapshot.liq_map)
    return snapshot if real is None else replace(snapshot, real=real)


async def _compute_aggregate(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str,
    progress: Progress | None,
) -> MapSnapshot:
    parts, notes = await sync_venues(market, stores, inst, window, step, progress)
    return await asyncio.to_thread(
        build_aggregate_snapshot, inst.native_id, window, step, parts, notes
    )


async def sync_venues(
    market: MarketData,
    stores: Stores,
    inst: Instrument,
    window: str,
    step: str,
    progress: Progress | None = None,
    warmup_ms: int = 0,
) -> tuple[list[VenueData], tuple[str, ...]]:
    """Sync each exchange of ``inst`` at once (just itself unless an aggregate), with
    ``warmup_ms`` before the window: their data and model parameters, and the notes, which
    name each exchange left out and why.

    An exchange that fails is left out; if all fail, the first error is raised.
    """
    members = inst.members if inst.is_aggregate else (inst,)

    async def venue(member: Instrument) -> tuple[VenueData, tuple[str, ...]]:
        data = await sync_window(market, stores, member, window, step, progress, warmup_ms)
        params = params_for(member, await market.maintenance_rate(member))
        return VenueData(member.exchange, data.candles, data.open_interest, params), data.notes

    parts, notes = await each_venue(members, venue)
    return parts, (*inst.missing_notes, *notes)


async def each_venue(
    members: Sequence[Instrument],
    fetch: Callable[[Instrument], Awaitable[tuple[T, tuple[str, ...]]]],
) -> tuple[list[T], list[str]]:
    """``fetch`` every exchange's member at once: what those that answered gave, in order, and
    the notes, each exchange that failed named with why. If all failed, their errors."""
    results = await asyncio.gather(*(fetch(m) for m in members), return_exceptions=True)
    found: list[T] = []
    notes: list[str] = []
    failures: list[ExchangeError] = []
    for member, result in zip(members, results, strict=True):
        if isinstance(result, ExchangeError):
            failures.append(result)
            notes.append(f"{member.exchange} left out: {result.detail}")
        elif isinstance(result, BaseException):
            raise result
        else:
            found.append(result[0])
            notes.extend(result[1])
    if not found:
        raise failures[0] if len(failures) == 1 else EveryExchangeFailed(failures)
    return found, notes


@dataclass(frozen=True)
class MapAnswer:
    """A stored map to show, and the error that kept it from being fresh, if one did."""

    stored: StoredMap
    error: ExchangeError | None = None


class MapService:
    """Serves maps from the store while fresh; computes each (instrument, window) once."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        fresh_ms: int,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.market = market
        self.stores = stores
        self.fresh_ms = fresh_ms
        self.clock = clock or market.now
        self._computing: Shared[tuple[str, str], StoredMap] = Shared()
        self.computed = 0
        self.compute_seconds = 0.0
        """Maps computed since the start, and the seconds they took (fetch, build, store)."""

    async def would_compute(self, inst: Instrument, window: str, refresh: bool = False) -> bool:
        """Whether ``get`` would compute now rather than answer from the store."""
        snapshots = self.stores.snapshots
        computed_at = await self.stores.run(snapshots.computed_at, inst.key, window)
        return computed_at is None or self.clock() - computed_at >= self._fresh_for(refresh)

    def _fresh_for(self, refresh: bool) -> int:
        return MIN_RECOMPUTE_MS if refresh else self.fresh_ms

    async def get(self, inst: Instrument, window: str, refresh: bool = False) -> MapAnswer:
        """The map to show; with ``refresh``, recomputed unless it is seconds old.

        When the exchange fails, the last stored map comes back with the error; with none
        stored, the error is raised.
        """
        stored = await self.stores.run(self.stores.snapshots.latest, inst.key, window)
        if stored is not None:
            age = self.clock() - stored.computed_at
            if age < self._fresh_for(refresh):
                return MapAnswer(stored)
        try:
            return MapAnswer(await self.compute(inst, window))
        except ExchangeError as exc:
            if stored is None:
                raise
            return MapAnswer(stored, exc)

    async def compute(self, inst: Instrument, window: str) -> StoredMap:
        """Compute and store a map now; concurrent callers share one computation."""
        return await self._computing.run((inst.key, window), lambda: self._compute(inst, window))

    async def _compute(self, inst: Instrument, window: str) -> StoredMap:
        started = time.perf_counter()
        snapshot = await compute_map(self.market, self.stores, inst, window)
        stored = await self.stores.run(self.stores.snapshots.save, inst.key, snapshot, self.clock())
        self.computed += 1
        self.compute_seconds += time.perf_counter() - started
        return stored
