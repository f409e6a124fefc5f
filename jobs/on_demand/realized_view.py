"""The recorded liquidations of a chart's window, read from the store for one instrument or
each exchange of an aggregate, at their trigger prices (``liqmap.engine.realized.at_trigger``)
under the margin rule each instrument's map uses."""

from __future__ import annotations

from liqmap.engine.model import MarginRule
from liqmap.engine.realized import RealizedView, at_trigger, covered_share
from liqmap.exchanges.market_data import MarketData
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from storage.stores import Stores


async def realized_view(
    stores: Stores, market: MarketData, inst: Instrument, start_ms: int, end_ms: int
) -> RealizedView | None:
    """What the recorder saw of ``[start, end)``; None when it never watched the instrument
    then, so charts without a recorder stay as they were."""
    parts = inst.members if inst.is_aggregate else (inst,)
    rules = {p.key: params_for(p, await market.maintenance_rate(p)).margin for p in parts}
    return await stores.run(_view, stores, parts, rules, start_ms, end_ms)


def _view(
    stores: Stores,
    parts: tuple[Instrument, ...],
    rules: dict[str, MarginRule],
    start_ms: int,
    end_ms: int,
) -> RealizedView | None:
    store = stores.realized
    shares = [
        covered_share(store.covered(p.exchange, p.native_id), start_ms, end_ms) for p in parts
    ]
    if not any(shares):
        return None
    rows = [
        row
        for part in parts
        for row in at_trigger(
            store.between(part.exchange, part.native_id, start_ms, end_ms), rules[part.key]
        )
    ]
    rows.sort(key=lambda r: r.ts)
    venues = tuple(p.exchange for p in parts)
    return RealizedView(tuple(rows), start_ms, end_ms, sum(shares) / len(shares), venues)
