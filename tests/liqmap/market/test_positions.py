"""What a pass read of each coin, and its share of the open interest."""

from __future__ import annotations

import pytest

from liqmap.market.positions import AccountRead, Position, Side, coin_scans

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
