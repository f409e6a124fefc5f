"""Discovery of Hyperliquid accounts against the fake REST API and websocket: the accounts on
the trades of watched coins and on the leaderboard stored with their size and last sighting, a
leaderboard that is gone a note (logged once) while the trades go on, following what chats
subscribe to, and stopping with what arrived stored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from jobs.scheduled.discovery import Discovery, discovery_for
from liqmap.config import Settings
from liqmap.exchanges.leaderboard import Leaderboard, read_leaderboard
from liqmap.exchanges.trade_addresses import TradeAddresses
from liqmap.policies.retry import RetryPolicy
from storage.stores import Stores
from tests.conftest import NOON, Adapter
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.hyperliquid import LEADERBOARD_PATH, FakeHyperliquid
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs

RETRY = RetryPolicy(attempts=None, first_delay=0.01, factor=2.0, max_delay=0.05)


@pytest.fixture
def ws(hyperliquid: FakeHyperliquid) -> Iterator[FakeHyperliquidWs]:
    with FakeHyperliquidWs(hyperliquid) as fake:
        yield fake


@pytest.fixture
async def discovery(
    stores: Stores, hyperliquid: FakeHyperliquid, ws: FakeHyperliquidWs, clock: Clock
) -> AsyncIterator[Discovery]:
    """Discovery on the fakes, writing every 20 ms, on the test's clock (stopped at NOON)."""

    def feed(coins: tuple[str, ...]) -> TradeAddresses:
        return TradeAddresses(ws.url + "/ws", coins, clock, retry=RETRY)

    async def reader() -> Leaderboard:
        return await read_leaderboard(hyperliquid.leaderboard_url)

    found = Discovery(stores, feed, reader, clock, flush_seconds=0.02)
    try:
        yield found
    finally:
        await found.stop()


def known(stores: Stores) -> dict[str, tuple[str, int, float, int | None]]:
    rows = stores.db.execute(
        "SELECT address, source, last_seen_ms, notional, scanned_ms FROM scan_addresses"
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


async def test_the_accounts_on_trades_are_stored_with_their_largest_trade(
    discovery: Discovery, ws: FakeHyperliquidWs, stores: Stores, clock: Clock
) -> None:
    ws.hyperliquid.open_accounts(8)
    discovery.watch(["BTC"])
    await ws.wait_for(lambda: discovery.status.connected or bool(ws.subscriptions()))
    trades = ws.publish("BTC", 6)
    users = {u for t in trades for u in t["users"]}
    await ws.wait_for(lambda: len(known(stores)) == len(users))
    for address, (source, seen, size, scanned) in known(stores).items():
        mine = [float(t["px"]) * float(t["sz"]) for t in trades if address in t["users"]]
        assert (source, seen, scanned) == ("trades", NOON, None)
        assert size == pytest.approx(max(mine))
    await ws.wait_for(lambda: discovery.status.trades == 6)
    assert discovery.status.from_trades == len(users)
    assert discovery.status.coins == ("BTC",) and discovery.status.connected

    clock.advance(60_000)
    again = ws.publish("BTC", 3, seed=99)
    seen_again = {u for t in again for u in t["users"]}
    await ws.wait_for(lambda: all(known(stores)[a][1] == NOON + 60_000 for a in seen_again))
    assert discovery.status.from_trades == len(users | seen_again)


async def test_the_leaderboard_accounts_are_stored_with_their_account_value(
    discovery: Discovery, hyperliquid: FakeHyperliquid, stores: Stores
) -> None:
    addresses = hyperliquid.open_accounts(4)
    assert await discovery.read_leaderboard() == 4
    rows = known(stores)
    for address in addresses:
        value = float(hyperliquid.state(address)["marginSummary"]["accountValue"])  # type: ignore[index]
        assert rows[address] == ("leaderboard", NOON, pytest.approx(value), None)
    status = discovery.status
    assert (status.leaderboard_rows, status.from_leaderboard) == (4, 4)
    assert (status.leaderboard_note, status.leaderboard_read_ms) == (None, NOON)
    assert await stores.run(stores.positions.largest, 1) == [
        max(addresses, key=lambda a: rows[a][2])
    ]


async def test_a_leaderboard_gone_is_a_note_logged_once_and_the_trades_go_on(
    discovery: Discovery,
    hyperliquid: FakeHyperliquid,
    ws: FakeHyperliquidWs,
    stores: Stores,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accounts = hyperliquid.open_accounts(4)
    hyperliquid.inject(Fault(status=404, body="Not Found"), LEADERBOARD_PATH, times=None)
    caplog.set_level(logging.INFO, logger="jobs.scheduled.discovery")
    discovery.watch(["ETH"])
    assert await discovery.read_leaderboard() == 0
    assert await discovery.read_leaderboard() == 0
    assert discovery.status.leaderboard_note == "the leaderboard answered HTTP 404"
    notes = [r for r in caplog.records if "leaderboard" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in notes] == [
        (logging.INFO, "no Hyperliquid leaderboard: the leaderboard answered HTTP 404; "
                       "addresses come from trades alone")
    ]  # fmt: skip
    await ws.wait_for(lambda: ws.subscriptions() == {"trades:ETH"})
    trades = ws.publish("ETH", 2)
    await ws.wait_for(lambda: len(known(stores)) == len({u for t in trades for u in t["users"]}))

    hyperliquid.clear_faults()
    before = set(known(stores))
    assert await discovery.read_leaderboard() == len(set(accounts) - before)
    assert discovery.status.leaderboard_note is None
    assert "the Hyperliquid leaderboard answers again" in caplog.text


async def test_discovery_follows_the_hyperliquid_coins_chats_watch(
    discovery: Discovery,
    hyperliquid: FakeHyperliquid,
    ws: FakeHyperliquidWs,
    adapter: Adapter,
    stores: Stores,
) -> None:
    hyperliquid.open_accounts(6)
    await stores.run(stores.chats.seen, 7, "private", None)
    await stores.run(stores.chats.subscribe, 7, "hyperliquid:BTC", None)
    await stores.run(stores.chats.subscribe, 7, "hyperliquid:SOL", None)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        discovery.follow(market, every_seconds=0.02)
        await ws.wait_for(lambda: ws.subscriptions() == {"trades:BTC", "trades:SOL"})
        trades = ws.publish("SOL", 4)
        users = {u for t in trades for u in t["users"]}
        await ws.wait_for(lambda: set(known(stores)) == users)

        await stores.run(stores.chats.unsubscribe, 7, "hyperliquid:BTC")
        await stores.run(stores.chats.unsubscribe, 7, "hyperliquid:SOL")
        await ws.wait_for(lambda: ws.connections == 0 and discovery.status.coins == ())


async def test_stopping_stores_what_arrived_since_the_last_write(
    stores: Stores, hyperliquid: FakeHyperliquid, ws: FakeHyperliquidWs
) -> None:
    hyperliquid.open_accounts(5)
    clock = Clock(NOON)
    feeds: list[TradeAddresses] = []

    def feed(coins: tuple[str, ...]) -> TradeAddresses:
        feeds.append(TradeAddresses(ws.url + "/ws", coins, clock, retry=RETRY))
        return feeds[-1]

    found = Discovery(stores, feed, None, clock, flush_seconds=3600)
    found.watch(["BTC"])
    await ws.wait_for(lambda: bool(feeds) and feeds[0].connected)
    trades = ws.publish("BTC", 3)
    await ws.wait_for(lambda: feeds[0].trades == 3)
    assert known(stores) == {}, "not written yet"
    await found.stop()
    assert set(known(stores)) == {u for t in trades for u in t["users"]}
    await ws.wait_for(lambda: ws.connections == 0)  # the server hears the close in its thread
    assert await found.read_leaderboard() == 0, "not asked"


async def test_discovery_reads_where_the_settings_say(
    stores: Stores, hyperliquid: FakeHyperliquid, ws: FakeHyperliquidWs
) -> None:
    hyperliquid.open_accounts(3)
    settings = Settings(
        exchange_urls={"hyperliquid": hyperliquid.url},
        ws_urls={"hyperliquid": ws.url},
        hyperliquid_leaderboard_url=hyperliquid.leaderboard_url,
    )
    found = discovery_for(settings, stores, lambda: NOON)
    try:
        found.watch(["BTC"])
        await ws.wait_for(lambda: ws.subscriptions() == {"trades:BTC"})
        assert await found.read_leaderboard() == 3
    finally:
        await found.stop()
    off = discovery_for(replace(settings, hyperliquid_leaderboard_url=None), stores, lambda: NOON)
    assert await off.read_leaderboard() == 0
    assert off.status.leaderboard_note is None
    assert hyperliquid.count(LEADERBOARD_PATH) == 1, "not asked when set empty"
