"""History summed over exchanges, split back into venues so each gets its own formula.

The hourly file in ``data/`` holds Binance, Bybit and OKX open interest only as their sum, so
an aggregated map of it needs an assumption about each venue's part. The shares below are
those of BTC perpetual open interest among the three as CoinGlass reported them (September
2024: Binance $7.66B, Bybit $4.84B, OKX $2.98B, that is 49%, 31%, 19%; a 2025 snapshot on
mytokencap.com/derivatives/open-interest: $10.97B, $6.44B, $3.56B, 52%, 31%, 17%), rounded.
Live aggregates need none of this: each venue's own open interest is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from liqmap.engine.model import MarginRule, ModelParams
from liqmap.engine.series import Candles, OpenInterest
from liqmap.engine.snapshot import VenueData
from liqmap.market.venues import VENUES

ASSUMED_SHARES: dict[str, float] = {"binance": 0.5, "bybit": 0.3, "okx": 0.2}
"""Each venue's assumed part of summed BTC open interest."""
BTC_FIRST_TIER: dict[str, float] = {"okx": 0.004, "binance": 0.004, "bybit": 0.005}
"""First-tier maintenance rate of each venue's BTC-USDT perpetual: OKX and Binance 0.4%
(position-tiers, leverage brackets), Bybit 0.5% (risk-limit ``maintenanceMargin`` "0.005")."""


@dataclass(frozen=True)
class VenueSlice:
    """One venue's assumed part of summed open interest and the model under its rules."""

    exchange: str
    share: float
    params: ModelParams


def venue_params(exchange: str, base: ModelParams | None = None) -> ModelParams:
    """``base`` under the rules of the BTC-USDT perpetual on ``exchange``."""
    venue = VENUES[exchange]
    rule = MarginRule(BTC_FIRST_TIER[exchange], venue.taker_fee, venue.linear_formula)
    return replace(base or ModelParams(), margin=rule)


def venue_slices(
    base: ModelParams | None = None, shares: dict[str, float] | None = None
) -> tuple[VenueSlice, ...]:
    """The venues of ``shares`` (default ``ASSUMED_SHARES``), largest first."""
    shares = ASSUMED_SHARES if shares is None else shares
    whole = sum(shares.values())
    if whole <= 0 or min(shares.values()) < 0:
        raise ValueError("venue shares must be non-negative with a positive sum")
    ordered = sorted(shares.items(), key=lambda item: -item[1])
    return tuple(VenueSlice(name, part / whole, venue_params(name, base)) for name, part in ordered)


def split_note(slices: tuple[VenueSlice, ...]) -> str:
    """What a reader of a map built from split history must know."""
    parts = " · ".join(f"{s.exchange} {s.share:.0%}" for s in slices)
    return f"open interest split {parts} (assumed: the file holds only the sum)"


def scaled(oi: OpenInterest, share: float) -> OpenInterest:
    """``share`` of ``oi`` at the same times."""
    return OpenInterest(oi.step_ms, oi.ts, oi.usd * share)


def split_history(
    candles: Candles, oi: OpenInterest, slices: tuple[VenueSlice, ...]
) -> list[VenueData]:
    """The summed history as one part per venue, for ``build_aggregate_snapshot``."""
    return [VenueData(s.exchange, candles, scaled(oi, s.share), s.params) for s in slices]
