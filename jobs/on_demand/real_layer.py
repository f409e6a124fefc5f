"""The real layer of a map, from the positions the scanner stored and the recorded open
interest (coverage)."""

from __future__ import annotations

from jobs.market_sync import latest_recorded_oi
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLayer, bin_real
from liqmap.market.instruments import Instrument
from liqmap.market.positions import real_levels, scanned_coverage
from liqmap.market.venues import VENUES
from storage.stores import Stores


async def real_layer_for(
    stores: Stores, inst: Instrument, liq_map: LiquidationMap
) -> RealLayer | None:
    """The real liquidation USD on ``liq_map``'s bins, from the stored positions of the
    instrument's coin, coverage against the OI recorded up to the map's time; None where the
    venue publishes no positions or none are stored."""
    if inst.is_aggregate or not VENUES[inst.exchange].positions_public:
        return None
    known = await stores.run(stores.positions.positions, inst.native_id)
    if not known:
        return None
    open_interest = await latest_recorded_oi(stores, inst, liq_map.as_of_ms)
    return bin_real(liq_map.edges, real_levels(known), scanned_coverage(known, open_interest))
