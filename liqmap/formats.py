"""How numbers and times read everywhere: prices, USD amounts, UTC and local times, strict JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, tzinfo
from typing import Any


def utc(ts_ms: int) -> str:
    """``2026-11-25 07:55 UTC``."""
    return datetime.fromtimestamp(int(ts_ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def utc_clock(ts_ms: int) -> str:
    """``07:55 UTC``: a time within the day."""
    return datetime.fromtimestamp(int(ts_ms) / 1000, UTC).strftime("%H:%M UTC")


def local_time(ts_ms: int, zone: tzinfo) -> str:
    """``2026-11-25 08:55 CET``: a time in a chat's zone."""
    return datetime.fromtimestamp(int(ts_ms) / 1000, zone).strftime("%Y-%m-%d %H:%M %Z")


def usd(value: float) -> str:
    """``$78.6M``, ``$1.2B``, ``$950``."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"${value / size:,.1f}{suffix}"
    return f"${value:,.0f}"


def decimals(price: float) -> int:
    """Digits after the point a price of this size deserves."""
    return 0 if abs(price) >= 1000 else 2 if abs(price) >= 1 else 6


def price_text(price: float) -> str:
    """``67,157``, ``2,503``, ``151.25``, ``0.000123``."""
    return f"{price:,.{decimals(price)}f}"


def strict_json(data: Any) -> str:
    """JSON that strict parsers and ``jq`` accept: NaN and infinities become ``null``."""
    return json.dumps(_finite(data), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
