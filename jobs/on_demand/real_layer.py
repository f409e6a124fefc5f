"""The real layer of a map, from the positions the scanner stored and the recorded open
interest (coverage)."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.market_sync import latest_recorded_oi
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer, RealLevel, bin_real
from liqmap.market.instruments import Instrument
from liqmap.market.positions import KnownPosition, real_levels, scanned_coverage
from liqmap.market.venues import POSITIONS_PUBLIC
from storage.stores import Stores


@dataclass(frozen=True)
class StoredPositions:
    """The stored positions of one instrument's coin, their levels, and their coverage of the
    open interest recorded up to a time (None unknown)."""

    known: list[KnownPosition]
    levels: list[RealLevel]
    open_interest_usd: float | None
    coverage: float | None


def positions_public(inst: Instrument) -> bool:
    """Whether the instrument's venue publishes its accounts' positions (one venue, not a sum)."""
    return not inst.is_aggregate and inst.exchange in POSITIONS_PUBLIC


async def stored_positions(stores: Stores, inst: Instrument, at_ms: int) -> StoredPositions | None:
    """What the scanner stored of the instrument's coin, with coverage against the OI recorded
    up to ``at_ms``; None where the venue publishes no positions or none are stored."""
    if not positions_public(inst):
        return None
    known = await stores.run(stores.positions.positions, inst.native_id)
    if not known:
        return None
    open_interest = await latest_recorded_oi(stores, inst, at_ms)
    coverage = scanned_coverage(known, open_interest)
    return StoredPositions(known, real_levels(known), open_interest, coverage)


async def real_layer_for(
    stores: Stores, inst: Instrument, liq_map: LiquidationMap
) -> RealLayer | None:
    """The real liquidation USD on ``liq_map``'s bins, from the stored positions of the
    instrument's coin, coverage against the OI recorded up to the map's time; None where the
    venue publishes no positions or none are stored."""
    stored = await stored_positions(stores, inst, liq_map.as_of_ms)
    if stored is None:
        return None
    return bin_real(liq_map.edges, stored.levels, stored.coverage)


class PositionsCache:
    """The stored positions of each coin, read again only when they changed
    (``PositionStore.version``): a price check every few seconds, or many chats asking
    ``/whales``, do not rebuild thousands of positions each time. Coverage is computed afresh
    against the OI recorded up to the time asked."""

    def __init__(self, keep: int = 64) -> None:
        self.keep = keep
        self._read: dict[str, tuple[object, list[KnownPosition], list[RealLevel]]] = {}

    async def get(self, stores: Stores, inst: Instrument, at_ms: int) -> StoredPositions | None:
        """As ``stored_positions``."""
        if not positions_public(inst):
            return None
        coin = inst.native_id
        version = await stores.run(stores.positions.version, coin)
        cached = self._read.get(inst.key)
        if cached is None or cached[0] != version:
            known = await stores.run(stores.positions.positions, coin)
            cached = (version, known, real_levels(known))
            self._read.pop(inst.key, None)
            self._read[inst.key] = cached
            while len(self._read) > self.keep:
                self._read.pop(next(iter(self._read)))
        _, known, levels = cached
        if not known:
            return None
        open_interest = await latest_recorded_oi(stores, inst, at_ms)
        return StoredPositions(known, levels, open_interest, scanned_coverage(known, open_interest))
