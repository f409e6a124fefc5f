"""What a pass read of each coin, and its share of the open interest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liqmap.engine.real_layer import RealLevel
from liqmap.market.positions import (
    AccountRead,
    KnownPosition,
    Position,
    Side,
    coin_scans,
    real_levels,
    scanned_coverage,
)

A, B = "0x" + "a" * 40, "0x" + "b" * 40


def held(address: str, coin: str, side: Side, value: float) -> Position:
    return Position(address=address, coin=coin, side=side, size=1.0, entry=value,
                    leverage=5, mode="isolated", margin=value / 5, value=value,
                    liquidation=None, read_ms=1)  # fmt: skip


def test_each_coin_counts_its_accounts_and_sides_against_its_open_interest() -> None:
    reads = [
        AccountRead(A, (held(A, "BTC", "long", 3e5), held(A, "ETH", "short", 1e5)), 1, 1),
        AccountRead(B, (held(B, "BTC", "short", 1e5),), 0, 1),
        AccountRead("0x" + "c" * 40, (), 0, 1),
    ]
    btc, eth = coin_scans(reads, {"BTC": 4e7})
    assert (btc.coin, btc.accounts, btc.positions) == ("BTC", 2, 2)
    assert (btc.long_usd, btc.short_usd) == (3e5, 1e5)
    assert btc.coverage == pytest.approx(0.01)
    assert (eth.short_usd, eth.coverage) == (1e5, None), "no open interest, no coverage"
    assert [s.coin for s in coin_scans(reads, {}, "ETH")] == ["ETH"]


def test_stored_positions_with_a_liquidation_price_are_the_real_levels() -> None:
    at_risk = replace(held(A, "BTC", "short", 2e5), liquidation=70_000.0, read_ms=5)
    safe = held(B, "BTC", "long", 1e5)  # no liquidation price: the account keeps it safe
    known = [KnownPosition(at_risk, pass_id=2, stale=True), KnownPosition(safe, 2, False)]
    assert real_levels(known) == [RealLevel("short", 70_000.0, 2e5, 5, stale=True)]
    assert scanned_coverage(known, 6e6) == pytest.approx(0.05), "every position's notional"
    assert scanned_coverage(known, None) is None
    assert scanned_coverage(known, 0.0) is None
