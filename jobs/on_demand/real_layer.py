"""The real layer of a map, from the positions the scanner stored and the recorded open
interest (coverage)."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.market_sync import latest_recorded_oi
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer, RealLevel, bin_real
from liqmap.market.instruments import Instrument
from liqmap.market.positions import KnownPosition, real_levels, scanned_coverage
from liqmap.market.venues import VENUES
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
    return not inst.is_aggregate and VENUES[inst.exchange].positions_public


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
