"""Model parameters for one instrument: its liquidation formula, margin rate and leverage cap."""

from __future__ import annotations

from dataclasses import replace

from liqmap.engine.model import DEFAULT_TIERS, Formula, MarginRule, ModelParams, leverage_ladder
from liqmap.market.instruments import Instrument
from liqmap.market.venues import VENUES

MAJORS = frozenset({"BTC", "ETH"})
MAJOR_MAINTENANCE = 0.004
OTHER_MAINTENANCE = 0.01
"""First-tier maintenance rates assumed when the exchange does not publish them."""
MAJOR_MAX_LEVERAGE = 125.0
OTHER_MAX_LEVERAGE = 50.0
LOWEST_LEVERAGE = 3.0


def params_for(
    inst: Instrument, maintenance: float | None = None, base: ModelParams | None = None
) -> ModelParams:
    """``base`` with the instrument's margin rule and a ladder up to its leverage ceiling."""
    base = base or ModelParams()
    major = inst.base.upper() in MAJORS
    rate = maintenance if maintenance else (MAJOR_MAINTENANCE if major else OTHER_MAINTENANCE)
    ceiling = inst.max_leverage or (MAJOR_MAX_LEVERAGE if major else OTHER_MAX_LEVERAGE)
    ceiling = min(ceiling, MAJOR_MAX_LEVERAGE)
    tiers = base.tiers
    if base.tiers == DEFAULT_TIERS and ceiling != MAJOR_MAX_LEVERAGE:
        tiers = leverage_ladder(
            LOWEST_LEVERAGE, max(ceiling, LOWEST_LEVERAGE + 1), len(DEFAULT_TIERS)
        )
    venue = VENUES[inst.exchange]
    formula = Formula.INVERSE if inst.inverse else venue.linear_formula
    return replace(base, tiers=tiers, margin=MarginRule(rate, venue.taker_fee, formula))
