"""The recorded liquidations of a chart's window, read from the store for one instrument or
each exchange of an aggregate."""

from __future__ import annotations

from liqmap.engine.realized import RealizedView, covered_share
from liqmap.market.instruments import Instrument
from storage.stores import Stores


async def realized_view(
    stores: Stores, inst: Instrument, start_ms: int, end_ms: int
) -> RealizedView | None:
    """What the recorder saw of ``[start, end)``; None when it never watched the instrument
    then, so charts without a recorder stay as they were."""
    return await stores.run(_view, stores, inst, start_ms, end_ms)


def _view(stores: Stores, inst: Instrument, start_ms: int, end_ms: int) -> RealizedView | None:
    parts = inst.members if inst.is_aggregate else (inst,)
    store = stores.realized
    shares = [
        covered_share(store.covered(p.exchange, p.native_id), start_ms, end_ms) for p in parts
    ]
    if not any(shares):
        return None
    rows = [
        row
        for part in parts
        for row in store.between(part.exchange, part.native_id, start_ms, end_ms)
    ]
    rows.sort(key=lambda r: r.ts)
    venues = tuple(p.exchange for p in parts)
    return RealizedView(tuple(rows), start_ms, end_ms, sum(shares) / len(shares), venues)
