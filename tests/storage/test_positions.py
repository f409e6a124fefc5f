"""Scanned Hyperliquid accounts in the database: positions replaced per account, addresses
ordered by what they last held, and a position the latest pass did not read marked stale."""

from __future__ import annotations

from sqlite_utils import Database

from liqmap.market.positions import AccountRead, Position
from storage.positions import PositionStore

NOW = 1_800_000_000_000
A, B, C = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40


def position(address: str, coin: str, value: float, read_ms: int = NOW) -> Position:
    return Position(address=address, coin=coin, side="long", size=value / 100, entry=100.0,
                    leverage=10, mode="cross", margin=value / 10, value=value,
                    liquidation=None if coin == "SOL" else 91.0, read_ms=read_ms)  # fmt: skip


def read(address: str, *positions: Position, at: int = NOW) -> AccountRead:
    return AccountRead(address, positions, 0, at)


def test_an_account_read_again_replaces_its_positions_and_a_closed_coin_goes(
    db: Database,
) -> None:
    store = PositionStore(db)
    first = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 5e5), position(A, "SOL", 1e4)), first)
    assert [(k.position.coin, k.stale) for k in store.positions()] == [
        ("BTC", False), ("SOL", False)
    ]  # fmt: skip
    assert store.positions("SOL")[0].position.liquidation is None
    second = store.begin_pass(NOW + 60_000)
    assert second > first
    store.save(read(A, position(A, "BTC", 7e5, NOW + 60_000), at=NOW + 60_000), second)
    (btc,) = store.positions()
    assert btc.position == position(A, "BTC", 7e5, NOW + 60_000)
    assert (btc.pass_id, btc.stale) == (second, False)


def test_a_position_the_latest_pass_did_not_read_is_stale(db: Database) -> None:
    store = PositionStore(db)
    first = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 5e5)), first)
    store.save(read(B, position(B, "ETH", 2e5)), first)
    second = store.begin_pass(NOW + 60_000)
    store.save(read(B, position(B, "ETH", 2e5, NOW + 60_000), at=NOW + 60_000), second)
    assert {k.position.address: k.stale for k in store.positions()} == {A: True, B: False}


def test_known_addresses_come_largest_first_then_the_unknown_in_order(db: Database) -> None:
    store = PositionStore(db)
    one = store.begin_pass(NOW)
    store.save(read(A, position(A, "BTC", 1e5)), one)
    store.save(read(B, position(B, "BTC", 9e5), position(B, "ETH", 1e5)), one)
    assert store.largest_first([C, A, B, C]) == [B, A, C]
    assert db.execute("SELECT notional FROM scan_addresses WHERE address = ?",
                      [B]).fetchone() == (1e6,)  # fmt: skip


def test_the_version_changes_with_every_change_positions_would_show(db: Database) -> None:
    store = PositionStore(db)
    empty = store.version("BTC")
    first = store.begin_pass(NOW)
    assert store.version("BTC") != empty, "a pass changes what is stale"
    store.save(read(A, position(A, "BTC", 5e5)), first)
    saved = store.version("BTC")
    store.save(read(B, position(B, "ETH", 5e5)), first)
    assert store.version("BTC") == saved, "another coin is another version"
    later = NOW + 60_000
    store.save(read(A, position(A, "BTC", 5e5, later), at=later), first)
    assert store.version("BTC") != saved, "read again: its read time moved"
    again = store.version("BTC")
    store.save(read(A, at=later + 1), first)
    assert store.version("BTC") != again, "closed"
    assert store.version("BTC") == store.version("BTC")
