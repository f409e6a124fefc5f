"""How numbers and times read everywhere: prices, USD amounts, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(ts_ms: int) -> str:
    """``2026-11-25 07:55 UTC``."""
    return datetime.fromtimestamp(int(ts_ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


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
