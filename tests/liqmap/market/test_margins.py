"""Model parameters per instrument: the exchange's fee rule, margin rate and leverage cap."""

from __future__ import annotations

import numpy as np
import pytest

from liqmap.engine.model import DEFAULT_TIERS, Formula, ModelParams
from liqmap.exchanges.market_data import MarketData
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from tests.fakes.okx import FakeOkx


def instrument(exchange: str, base: str, max_leverage: float | None) -> Instrument:
    return Instrument(exchange, f"{base}/USDT:USDT", f"{base}USDT", base, "USDT", "USDT", 1.0,
                      True, "swap", max_leverage=max_leverage)  # fmt: skip


def inverse(exchange: str, kind: str = "swap") -> Instrument:
    return Instrument(exchange, "BTC/USD:BTC", "BTCUSD", "BTC", "USD", "BTC", 1.0, False, kind)


def levels(inst: Instrument, entry: float, leverage: float, m: float) -> tuple[float, float]:
    """Long and short liquidation prices of a position opened at ``entry``."""
    rule = params_for(inst, maintenance=m).margin
    lev = np.array([leverage])
    return entry * rule.long_factor(lev)[0], entry * rule.short_factor(lev)[0]


# Hand-computed, E = entry, L = leverage, m = maintenance rate, f = fee (OKX 0.0005):
@pytest.mark.parametrize(
    ("inst", "entry", "leverage", "m", "long", "short"),
    [
        # OKX linear: E(1-1/L)/(1-m-f) = 60,000 x 0.9 / 0.9955; E(1+1/L)/(1+m+f)
        (instrument("okx", "BTC", 125), 60_000, 10, 0.004, 54_244.0984, 65_704.3305),
        # Binance linear, no fee: 60,000 x 0.9 / 0.996; 60,000 x 1.1 / 1.004
        (instrument("binance", "BTC", None), 60_000, 10, 0.004, 54_216.8675, 65_737.0518),
        # Bybit linear, margin at entry: E(1-1/L+m) = 60,000 x 0.904; E(1+1/L-m)
        (instrument("bybit", "BTC", 100), 60_000, 10, 0.004, 54_240.0, 65_760.0),
        # OKX inverse BTC-USD-SWAP: E(1+m+f)/(1+1/L) = 92,300 x 1.0045 x 3/4 (a real position:
        # avgPx 92,300 at 3x liquidating at 69,536.5); short E(1-m-f)/(1-1/L) = 92,300 x 0.9955
        # x 3/2
        (inverse("okx"), 92_300, 3, 0.004, 69_536.5125, 137_826.975),
        (inverse("okx", "future"), 92_300, 3, 0.004, 69_536.5125, 137_826.975),
        # Bybit inverse BTCUSD and its quarterlies, no fee: 92,300 x 1.004 x 3/4;
        # 92,300 x 0.996 x 3/2
        (inverse("bybit"), 92_300, 3, 0.004, 69_501.9, 137_896.2),
        (inverse("bybit", "future"), 92_300, 3, 0.004, 69_501.9, 137_896.2),
    ],
    ids=["okx-linear", "binance-linear", "bybit-linear", "okx-inverse", "okx-inverse-future",
         "bybit-inverse", "bybit-inverse-future"],
)  # fmt: skip
def test_liquidation_levels_by_exchange_and_contract_kind(
    inst: Instrument, entry: float, leverage: float, m: float, long: float, short: float
) -> None:
    assert levels(inst, entry, leverage, m) == pytest.approx((long, short), abs=1e-3)


def test_at_low_leverage_the_inverse_formula_differs_from_the_linear_one() -> None:
    okx_linear = levels(instrument("okx", "BTC", 125), 92_300, 3, 0.004)[0]
    okx_inverse = levels(inverse("okx"), 92_300, 3, 0.004)[0]
    assert okx_linear == pytest.approx(61_811.485, abs=1e-3)
    assert okx_inverse / okx_linear - 1 == pytest.approx(0.125, abs=0.001)
    for leverage in (25, 50, 100):
        near = levels(inverse("okx"), 92_300, leverage, 0.004)[0]
        far = levels(instrument("okx", "BTC", 125), 92_300, leverage, 0.004)[0]
        assert abs(near / far - 1) < 0.002


async def test_instruments_from_the_exchange_get_their_own_formula(
    okx: FakeOkx, market: MarketData
) -> None:
    swap, inverse_swap = await market.instrument("BTC"), await market.instrument("BTC-USD-SWAP")
    assert params_for(swap).margin.formula is Formula.LINEAR
    assert params_for(inverse_swap).margin.formula is Formula.INVERSE
    assert params_for(inverse_swap).margin.fee == 0.0005


def test_okx_counts_the_fee_binance_and_bybit_do_not() -> None:
    assert params_for(instrument("okx", "BTC", 125)).margin.fee == 0.0005
    assert params_for(instrument("binance", "BTC", None)).margin.fee == 0.0
    assert params_for(instrument("bybit", "BTC", 100)).margin.fee == 0.0


def test_the_exchange_rate_wins_over_the_default() -> None:
    assert params_for(instrument("okx", "SOL", 50), maintenance=0.015).margin.maintenance == 0.015
    assert params_for(instrument("okx", "BTC", 125)).margin.maintenance == 0.004
    assert params_for(instrument("binance", "DOGE", None)).margin.maintenance == 0.01


def test_the_ladder_stops_at_the_instruments_leverage_cap() -> None:
    assert params_for(instrument("okx", "BTC", 125)).tiers == DEFAULT_TIERS
    capped = params_for(instrument("okx", "SOL", 50)).tiers
    assert capped[-1].leverage == 50 and capped[0].leverage == 3
    unknown = params_for(instrument("binance", "DOGE", None)).tiers
    assert unknown[-1].leverage == 50
    assert params_for(instrument("binance", "BTC", None)).tiers == DEFAULT_TIERS
    assert params_for(instrument("okx", "BTC", 200)).tiers == DEFAULT_TIERS


def test_custom_tiers_are_kept() -> None:
    from liqmap.engine.model import FIVE_TIERS

    base = ModelParams(tiers=FIVE_TIERS)
    assert params_for(instrument("okx", "SOL", 20), base=base).tiers == FIVE_TIERS


async def test_maintenance_rates_come_from_the_exchange_tiers_once_a_day(
    okx: FakeOkx, market: MarketData
) -> None:
    sol = await market.instrument("SOL")
    assert await market.maintenance_rate(sol) == pytest.approx(0.01)
    assert await market.maintenance_rate(sol) == pytest.approx(0.01)
    assert okx.count("/api/v5/public/position-tiers") == 1
    btc = await market.instrument("BTC")
    assert await market.maintenance_rate(btc) == pytest.approx(0.004)
    assert sol.max_leverage == 100.0


async def test_no_tiers_means_the_default_not_an_error(okx: FakeOkx, market: MarketData) -> None:
    from tests.fakes.okx import okx_error

    eth = await market.instrument("ETH")
    okx.inject(okx_error("51000", "Parameter error"), "/api/v5/public/position-tiers")
    assert await market.maintenance_rate(eth) is None
    assert params_for(eth, None).margin.maintenance == 0.004
