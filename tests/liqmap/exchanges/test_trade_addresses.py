"""Hyperliquid accounts from the websocket ``trades`` channel, against the fake websocket (whose
evidence is in ``tests/fakes/hyperliquid_ws.py``): both users of every trade, the largest trade
of each, malformed frames skipped and counted, pings, reconnects after a drop, a refusal or a
silent connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap.exchanges.trade_addresses import TRADES_URL, TradeAddresses, trades_url
from liqmap.policies.retry import RetryPolicy
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs

RETRY = RetryPolicy(attempts=None, first_delay=0.01, factor=2.0, max_delay=0.05)
A, B, C = "0x" + "a" * 40, "0x" + "B" * 40, "0x" + "c" * 40


@pytest.fixture
def ws(hyperliquid: FakeHyperliquid) -> Iterator[FakeHyperliquidWs]:
    hyperliquid.open_accounts(6)
    with FakeHyperliquidWs(hyperliquid) as fake:
        yield fake


@contextlib.asynccontextmanager
async def reading(feed: TradeAddresses) -> AsyncIterator[TradeAddresses]:
    task = asyncio.create_task(feed.run())
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def feed_of(ws: FakeHyperliquidWs, *coins: str, **options: Any) -> TradeAddresses:
    return TradeAddresses(ws.url + "/ws", coins, retry=RETRY, **options)


def users(trades: list[dict[str, Any]]) -> set[str]:
    return {user for trade in trades for user in trade["users"]}


def test_the_trades_url_comes_from_the_websocket_setting_else_the_rest_one() -> None:
    assert trades_url(None, None) == TRADES_URL == "wss://api.hyperliquid.xyz/ws"
    assert trades_url("https://api.hyperliquid-testnet.xyz", None) == (
        "wss://api.hyperliquid-testnet.xyz/ws"
    )
    assert trades_url("http://127.0.0.1:8080", None) == "ws://127.0.0.1:8080/ws"
    assert trades_url("http://127.0.0.1:8080", "ws://127.0.0.1:9090") == "ws://127.0.0.1:9090/ws"


async def test_both_accounts_of_every_trade_are_seen_with_their_largest_trade(
    ws: FakeHyperliquidWs,
) -> None:
    async with reading(feed_of(ws, "BTC", "ETH")) as feed:
        await ws.wait_for(
            lambda: feed.connected and ws.subscriptions() == {"trades:BTC", "trades:ETH"}
        )
        trades = ws.publish("BTC", 5) + ws.publish("ETH", 4, seed=8)
        await ws.wait_for(lambda: feed.trades == 9)
        seen = {s.address: s for s in feed.take()}
    assert set(seen) == users(trades)
    assert set(seen) <= set(ws.hyperliquid.accounts), "the fake's own accounts"
    for address, sighting in seen.items():
        mine = [t for t in trades if address in t["users"]]
        assert sighting.usd == pytest.approx(max(float(t["px"]) * float(t["sz"]) for t in mine))
    assert feed.take() == [], "each taken once"
    assert feed.skipped == 0
    sent = ws.sent_json()
    assert {"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}} in sent


async def test_malformed_frames_are_skipped_and_counted_and_the_feed_goes_on(
    ws: FakeHyperliquidWs,
) -> None:
    async with reading(feed_of(ws, "BTC")) as feed:
        await ws.wait_for(lambda: feed.connected)
        ws.send("not json {")
        ws.send([1, 2])
        ws.send({"channel": "trades", "data": {"coin": "BTC"}})
        good = ws.trade("BTC", A, C, 60_000.0, 0.5, 1)
        bad = [{**good, "users": [A]}, {**good, "users": [A, "0x12"]}, {**good, "px": "-1"},
               {**good, "sz": "abc"}, "trade"]  # fmt: skip
        ws.send({"channel": "trades", "data": [*bad, good]}, topic="trades:BTC")
        await ws.wait_for(lambda: feed.trades == 6)
        assert feed.skipped == 3 + len(bad)
        assert [s.address for s in feed.take()] == [A, C]
        trades = ws.publish("BTC", 2)
        await ws.wait_for(lambda: feed.trades == 8)
        assert {s.address for s in feed.take()} == users(trades)
        assert feed.reconnects == 0 and feed.connected


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return text != "Websocket connection established."
    return False


malformed_frames = st.one_of(
    st.text(max_size=30).filter(_not_json),
    st.builds(json.dumps, st.one_of(st.none(), st.integers(), st.lists(st.integers()))),
    st.builds(lambda d: json.dumps({"channel": "trades", "data": d}),
              st.one_of(st.none(), st.text(max_size=5), st.dictionaries(st.text(), st.text()))),
).map(lambda frame: [frame])  # fmt: skip
"""Frames that are not JSON, not an object, or a trades message without a list."""
malformed_trades = st.one_of(
    st.none(),
    st.integers(),
    st.fixed_dictionaries({"users": st.lists(st.text(max_size=42), max_size=3),
                           "px": st.just("1.0"), "sz": st.just("1.0")}),
    st.fixed_dictionaries({"users": st.just([A, B]), "px": st.sampled_from(["0", "-5", "nan",
                           "inf", "1e400", "x", ""]), "sz": st.just("1")}),
).map(lambda trade: [json.dumps({"channel": "trades", "data": [trade]})])  # fmt: skip
"""Trades without two addresses, or without a positive finite price."""


@given(
    st.lists(st.one_of(malformed_frames, malformed_trades), max_size=12),
    st.lists(st.sampled_from([A, B, C]), min_size=2, max_size=2),
)
def test_each_malformed_frame_or_trade_is_skipped_once_and_hides_no_good_trade(
    bad: list[list[str]], pair: list[str]
) -> None:
    feed = TradeAddresses("ws://127.0.0.1:9/ws", ["BTC"], clock=lambda: 5)
    feed.hear("Websocket connection established.")
    feed.hear(json.dumps({"channel": "pong"}))
    for (frame,) in bad:
        feed.hear(frame)
    good = {"coin": "BTC", "px": "10.0", "sz": "2", "users": pair}
    feed.hear(json.dumps({"channel": "trades", "data": [good]}))
    assert feed.skipped == len(bad)
    assert {(s.address, s.seen_ms, s.usd) for s in feed.take()} == {
        (p.lower(), 5, 20.0) for p in pair
    }


async def test_a_dropped_connection_is_reconnected_and_subscribed_again(
    ws: FakeHyperliquidWs,
) -> None:
    async with reading(feed_of(ws, "SOL")) as feed:
        await ws.wait_for(lambda: feed.connected)
        ws.drop()
        await ws.wait_for(lambda: feed.reconnects == 1 and feed.connected
                          and ws.subscriptions() == {"trades:SOL"})  # fmt: skip
        assert ws.handshakes == 2
        trades = ws.publish("SOL", 3)
        await ws.wait_for(lambda: feed.trades == 3)
        assert {s.address for s in feed.take()} == users(trades)


async def test_refused_handshakes_are_tried_again_until_one_is_accepted(
    ws: FakeHyperliquidWs,
) -> None:
    ws.refuse(3)
    async with reading(feed_of(ws, "BTC")) as feed:
        await ws.wait_for(lambda: feed.connected)
        assert ws.refused == 3 and feed.reconnects == 0
        assert feed.last_error is not None and "503" in feed.last_error


async def test_pings_keep_a_quiet_connection_and_silence_is_taken_for_a_drop(
    ws: FakeHyperliquidWs,
) -> None:
    ws.idle_seconds = 0.5
    async with reading(feed_of(ws, "BTC", ping_seconds=0.05, silent_seconds=0.4)) as feed:
        await ws.wait_for(lambda: feed.connected)
        await ws.wait_for(lambda: ws.sent_json().count({"method": "ping"}) >= 15)
        assert feed.reconnects == 0 and ws.handshakes == 1, "pinged, never idle"
        ws.mute()
        await ws.wait_for(lambda: feed.reconnects == 1 and feed.connected)
        assert feed.last_error == "nothing heard for 0.4s"


def test_an_error_from_the_server_is_kept_and_logged_not_counted_as_a_trade(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = TradeAddresses("ws://127.0.0.1:9/ws", ["BTC"], clock=lambda: 5)
    refusal = 'Error parsing JSON into valid websocket request: { "type": "trades" }'
    feed.hear(json.dumps({"channel": "error", "data": refusal}))
    assert feed.last_error == f"refused: {refusal}"
    assert (feed.trades, feed.skipped, feed.take()) == (0, 0, [])
    assert f"hyperliquid trades: refused: {refusal}" in caplog.text
