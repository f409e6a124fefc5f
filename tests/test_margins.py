"""Model parameters per instrument: the exchange's fee rule, margin rate and leverage cap."""

from __future__ import annotations

import pytest

from liqmap.instruments import Instrument
from liqmap.margins import params_for
from liqmap.market_data import MarketData
from liqmap.model import DEFAULT_TIERS, ModelParams
from tests.fakes.okx import FakeOkx


def instrument(exchange: str, base: str, max_leverage: float | None) -> Instrument:
    return Instrument(exchange, f"{base}/USDT:USDT", f"{base}USDT", base, "USDT", "USDT", 1.0,
                      True, "swap", max_leverage=max_leverage)  # fmt: skip


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
    from liqmap.model import DESIGN_TIERS

    base = ModelParams(tiers=DESIGN_TIERS)
    assert params_for(instrument("okx", "SOL", 20), base=base).tiers == DESIGN_TIERS


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
