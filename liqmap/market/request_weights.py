"""What a request weighs against an exchange's documented per-IP weight budget.

Hyperliquid ("Rate limits and user limits", its API docs): "REST requests share an
aggregated weight limit of 1200 per minute" per IP; ``l2Book``, ``allMids``,
``clearinghouseState``, ``orderStatus``, ``spotClearinghouseState`` and ``exchangeStatus``
weigh 2, "All other documented info requests have weight 20", and ``candleSnapshot`` adds
"an additional rate limit weight per 60 items returned". A venue without documented weights
(``Venue.weight_per_minute`` None) weighs every call 1.
"""

from __future__ import annotations

import math

from liqmap.market.venues import HYPERLIQUID, Venue

LIGHT_WEIGHT = 2
"""``clearinghouseState`` and the other light info requests."""
INFO_WEIGHT = 20
"""Every other documented info request."""
CANDLE_ITEMS_PER_WEIGHT = 60
ACCOUNT_READ = "clearinghouseState"
"""The request that reads one account's positions."""
SCAN_WEIGHT_PER_MINUTE = (HYPERLIQUID.weight_per_minute or 0) // 2
"""The scanner of real positions spends at most half of Hyperliquid's documented 1200 weight
a minute per IP (600); the other half is left to refreshes, candles, prices and OI."""

CALL_WEIGHTS: dict[str, int] = {
    ACCOUNT_READ: LIGHT_WEIGHT,
    "load_markets": 2 * INFO_WEIGHT,
    "fetch_ohlcv": INFO_WEIGHT,
}
"""ccxt calls by what they send (ccxt 4.5.x ``hyperliquid``): ``load_markets`` posts
``spotMeta`` and ``metaAndAssetCtxs``; ``fetch_ohlcv`` one ``candleSnapshot``; prices and open
interest one ``metaAndAssetCtxs`` (the default, ``INFO_WEIGHT``)."""


def request_weight(venue: Venue, call: str, items: int = 0) -> int:
    """The weight of ccxt call ``call`` (or of the info request of that type) on ``venue``,
    ``items`` the rows it asks for (candles add one a 60)."""
    if venue.weight_per_minute is None:
        return 1
    weight = CALL_WEIGHTS.get(call, INFO_WEIGHT)
    if call == "fetch_ohlcv":
        weight += math.ceil(items / CANDLE_ITEMS_PER_WEIGHT)
    return weight
