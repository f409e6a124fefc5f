"""Request weight at Hyperliquid: what our gate charges each call, against what the fake
counts (the documented weights, tests/fakes/hyperliquid.py), and ccxt's own throttle never
holding a call longer than the gate did."""

from __future__ import annotations

import pytest

from liqmap.market.request_weights import (
    ACCOUNT_READ,
    CALL_WEIGHTS,
    INFO_WEIGHT,
    SCAN_WEIGHT_PER_MINUTE,
    request_weight,
)
from liqmap.market.venues import HYPERLIQUID, OKX
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from tests.conftest import Adapter
from tests.fakes.hyperliquid import LIGHT_TYPES, WEIGHT_PER_MINUTE, FakeHyperliquid

pytestmark = pytest.mark.fixed_clock


def test_documented_weights_and_one_a_call_elsewhere() -> None:
    assert request_weight(HYPERLIQUID, ACCOUNT_READ) == 2
    assert request_weight(HYPERLIQUID, "fetch_open_interests") == INFO_WEIGHT == 20
    assert request_weight(HYPERLIQUID, "load_markets") == 40, "spotMeta and metaAndAssetCtxs"
    assert request_weight(HYPERLIQUID, "fetch_ohlcv", 5000) == 20 + 84
    assert request_weight(OKX, "fetch_ohlcv", 300) == request_weight(OKX, ACCOUNT_READ) == 1
    assert HYPERLIQUID.weight_per_minute == WEIGHT_PER_MINUTE == 1200
    assert SCAN_WEIGHT_PER_MINUTE == 600, "half of the documented limit"


def test_ccxts_cost_of_each_request_is_never_above_its_documented_weight() -> None:
    """ccxt throttles after our gate at the same ``rateLimit`` a unit: a cost above the weight
    would hold calls in ccxt's first-come queue and undo the gate's order."""
    import ccxt

    info = ccxt.hyperliquid().describe()["api"]["public"]["post"]["info"]
    assert info["cost"] <= INFO_WEIGHT
    for kind, cost in info["byType"].items():
        weight = 2 if kind in LIGHT_TYPES else INFO_WEIGHT
        assert cost <= weight, kind
    assert ccxt.hyperliquid().rateLimit == HYPERLIQUID.rate_limit_ms == 60_000 // 1200


async def test_our_count_of_weight_is_never_below_the_exchanges(
    hyperliquid: FakeHyperliquid, adapter: Adapter
) -> None:
    (address,) = hyperliquid.open_accounts(1)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        inst = await market.instrument("hyperliquid:BTC")
        await market.prices([inst])
        await market.open_interest_now("hyperliquid")
        await market.candles(inst, "1h", market.now() - 400 * 3_600_000)
        CLAIM.set(Claim(Urgency.SCAN, "scanner"))
        await market.account(address)
        await market.account(address)
        spent = market.weight_spent
    charged = {kind: sum(w for _, w, k in hyperliquid.charged if k == kind)
               for kind in {k for _, _, k in hyperliquid.charged}}  # fmt: skip
    assert spent[("hyperliquid", Urgency.SCAN)] == charged["clearinghouseState"] == 4
    others = spent[("hyperliquid", Urgency.ON_DEMAND)]
    assert others >= sum(charged.values()) - 4
    assert others == CALL_WEIGHTS["load_markets"] + 2 * INFO_WEIGHT + 20 + 84
