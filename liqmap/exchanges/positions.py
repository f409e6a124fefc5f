"""Hyperliquid's ``clearinghouseState`` answer into ``Position``s, skipping what is not one.

Evidence: Hyperliquid docs, Info endpoint, "Retrieve a user's perpetuals account summary":
``{"type": "clearinghouseState", "user": "0x..."}`` answers ``assetPositions`` (each
``{"type": "oneWay", "position": {coin, szi, entryPx, positionValue, unrealizedPnl,
returnOnEquity, liquidationPx, leverage: {type, value, rawUsd?}, marginUsed, maxLeverage,
cumFunding}}``), ``marginSummary``, ``crossMarginSummary``, ``crossMaintenanceMarginUsed``,
``withdrawable`` and ``time`` (ms). Numbers are decimal strings, ``leverage.value`` a number;
``szi`` is signed (negative: short); ``liquidationPx`` may be null. ccxt 4.5.x
``hyperliquid.parse_position`` reads the same fields (``side`` from the sign of ``szi``,
``marginMode`` from ``leverage.type``, ``liquidationPrice`` from ``liquidationPx``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liqmap.exchanges.ccxt_client import MalformedData, wire_number
from liqmap.exchanges.market_data import MAX_PRICE
from liqmap.market.positions import AccountRead, MarginMode, Position

MAX_LEVERAGE = 200.0
"""No Hyperliquid perpetual allows more than 40x; a figure past 200 is not a leverage."""


def parse_clearinghouse_state(address: str, raw: Any, fallback_ms: int) -> AccountRead:
    """The positions of one ``clearinghouseState`` answer; each malformed one, with a size
    that is not positive, or with a liquidation price that is not a price, skipped and
    counted. ``time`` is the read time, ``fallback_ms`` where the answer has none;
    ``MalformedData`` for an answer with no list of positions at all."""
    entries = raw.get("assetPositions") if isinstance(raw, Mapping) else None
    if not isinstance(entries, list):
        raise MalformedData("clearinghouseState without assetPositions")
    read_ms = raw.get("time")
    if isinstance(read_ms, bool) or not isinstance(read_ms, int) or read_ms <= 0:
        read_ms = fallback_ms
    kept: list[Position] = []
    skipped = 0
    for entry in entries:
        position = _position(address, entry, read_ms)
        if position is None:
            skipped += 1
        else:
            kept.append(position)
    return AccountRead(address, tuple(kept), skipped, read_ms)


def _position(address: str, entry: Any, read_ms: int) -> Position | None:
    if not isinstance(entry, Mapping):
        return None
    pos = entry.get("position")
    if not isinstance(pos, Mapping):
        return None
    coin = pos.get("coin")
    szi = wire_number(pos.get("szi"))
    entry_px = wire_number(pos.get("entryPx"))
    value = wire_number(pos.get("positionValue"))
    margin = wire_number(pos.get("marginUsed"))
    leverage = pos.get("leverage")
    if not isinstance(coin, str) or not coin or szi is None or szi == 0:
        return None
    if entry_px is None or not 0 < entry_px <= MAX_PRICE:
        return None
    if value is None or value <= 0 or margin is None or margin < 0:
        return None
    if not isinstance(leverage, Mapping):
        return None
    mode = leverage.get("type")
    lev = wire_number(leverage.get("value"))
    if mode not in ("cross", "isolated") or lev is None or not 0 < lev <= MAX_LEVERAGE:
        return None
    liq_raw = pos.get("liquidationPx")
    liquidation = None if liq_raw is None else wire_number(liq_raw)
    if liq_raw is not None and (liquidation is None or not 0 < liquidation <= MAX_PRICE):
        return None
    margin_mode: MarginMode = "cross" if mode == "cross" else "isolated"
    return Position(
        address=address, coin=coin, side="long" if szi > 0 else "short", size=abs(szi),
        entry=entry_px, leverage=lev, mode=margin_mode, margin=margin, value=value,
        liquidation=liquidation, read_ms=read_ms,
    )  # fmt: skip
