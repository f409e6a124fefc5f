"""The ccxt.pro liquidation adapter against fake OKX, Binance and Bybit websockets."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import pytest
from aiohttp import WSMessage, WSMsgType

from jobs.on_demand.realized_view import realized_view
from liqmap.config import load_settings
from liqmap.engine.model import MarginRule
from liqmap.engine.realized import Realized
from liqmap.errors import ConfigError
from liqmap.exchanges.liquidation_stream import LiquidationStream, StreamDown, recordable
from liqmap.market.instruments import Instrument
from liqmap.market.margins import params_for
from liqmap.signals.receipts import Sweep, receipt_for
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.http import free_port
from tests.fakes.liquidation_ws import FakeBinanceWs, FakeBybitWs, FakeOkxWs, FakeWsServer, Liq
from tests.fakes.okx import FakeOkx
from tests.support.fast import FAST_CCXT
from tests.support.liquidation_venues import FEEDS, T0, FeedVenue, expected, liqs


@dataclass
class Feed:
    venue: FeedVenue
    fake: FakeWsServer
    stream: LiquidationStream
    btc: Instrument
    eth: Instrument

    async def rows_after(self, count: int) -> list[Realized]:
        return await collect(self.fake, self.stream, count)


async def collect(fake: FakeWsServer, stream: LiquidationStream, count: int) -> list[Realized]:
    """The rows the stream received once there are ``count`` of them."""
    taken: list[Realized] = []

    def arrived() -> bool:
        taken.extend(stream.take())
        return len(taken) >= count

    await fake.wait_for(arrived)
    return taken


def stream_to(name: str, fake: FakeWsServer, rest_url: str) -> LiquidationStream:
    return LiquidationStream(name, fake.url, rest_url, ccxt_config=FAST_CCXT, subscribe_seconds=3)


@pytest.fixture(params=list(FEEDS))
async def feed(request: pytest.FixtureRequest, adapter: Adapter) -> AsyncIterator[Feed]:
    """Each venue in turn: its fake websocket, a stream to it, its BTC and ETH perpetuals."""
    venue = FEEDS[request.param]
    rest = request.getfixturevalue(venue.name)
    with venue.ws() as fake:
        async with adapter(**{venue.name: rest.url}) as market:
            btc = await market.instrument(f"{venue.name}:{venue.btc}")
            eth = await market.instrument(f"{venue.name}:{venue.eth}")
        stream = stream_to(venue.name, fake, rest.url)
        try:
            yield Feed(venue, fake, stream, btc, eth)
        finally:
            await stream.close()


async def test_each_venue_is_subscribed_in_its_own_words_and_read_in_full(feed: Feed) -> None:
    await feed.stream.open([feed.btc, feed.eth])
    assert (
        feed.fake.sent_json()
        == {
            "okx": [
                {"op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]}
            ],
            "binance": [
                {
                    "method": "SUBSCRIBE",
                    "params": ["btcusdt@forceOrder", "ethusdt@forceOrder"],
                    "id": 1,
                }
            ],
            "bybit": [
                {"op": "subscribe", "req_id": 1, "args": ["allLiquidation.BTCUSDT"]},
                {"op": "subscribe", "req_id": 2, "args": ["allLiquidation.ETHUSDT"]},
            ],
        }[feed.venue.name]
    )
    path = {"okx": "/ws/v5/public", "binance": "/market/ws/", "bybit": "/v5/public/linear"}
    assert all(r.path.startswith(path[feed.venue.name]) for r in feed.fake.received)

    btc, eth = liqs(feed.venue.btc, 2), liqs(feed.venue.eth, 1, start=T0 + 10, price=3_000.0)
    feed.fake.push(*btc, Liq(feed.venue.other, "long", 150.0, 9.0, T0 + 5), *eth)
    rows = await feed.rows_after(3)
    assert rows == [
        expected(feed.btc, btc[0]),
        expected(feed.btc, btc[1]),
        expected(feed.eth, eth[0]),
    ]
    assert [r.side for r in rows] == ["long", "short", "long"]
    assert feed.stream.skipped == 0 and feed.stream.last_heard_ms is not None


WIRE_PRICE = {"okx": "bankruptcy", "binance": "trigger", "bybit": "bankruptcy"}
"""What each feed's price is: OKX ``bkPx`` and Bybit ``p`` the bankruptcy price (their docs),
Binance ``ap`` the average fill of the liquidation order, at the market that set it off."""


@pytest.mark.parametrize("side", ["long", "short"])
async def test_a_liquidation_at_a_map_level_counts_in_its_band_on_every_venue(
    feed: Feed, side: str, adapter: Adapter, stores: Stores, request: pytest.FixtureRequest
) -> None:
    """A 50x position whose trigger price sits in a two-bin band (0.1% bins) is liquidated;
    read back from the store as receipts read it, it lands in the band on every venue."""
    rest = request.getfixturevalue(feed.venue.name)
    async with adapter(**{feed.venue.name: rest.url}) as market:
        rule = params_for(feed.btc, await market.maintenance_rate(feed.btc)).margin
        factor = "long_factor" if side == "long" else "short_factor"
        entry, leverage = 60_000.0, np.array([50.0])
        trigger = float(entry * getattr(rule, factor)(leverage)[0])
        broke = MarginRule(0.0, 0.0, rule.formula)
        bankruptcy = float(entry * getattr(broke, factor)(leverage)[0])
        wire = bankruptcy if WIRE_PRICE[feed.venue.name] == "bankruptcy" else trigger
        assert abs(wire / trigger - 1) > 0.003 or wire == trigger, "B is bins away from T"

        await feed.stream.open([feed.btc])
        feed.fake.push(Liq(feed.venue.btc, side, wire, 2.0, T0))
        rows = await feed.rows_after(1)
        span = (T0 - 60_000, T0 + 60_000)
        await stores.run(stores.realized.record, feed.venue.name, [feed.btc.native_id], rows, span)
        view = await realized_view(stores, market, feed.btc, *span)

    assert view is not None
    low, high = trigger * 0.999, trigger * 1.001
    sweep = Sweep(1, feed.btc.key, "", "", side, low, high, 1e6, trigger, T0, T0 - 1, False, "7d")
    receipt = receipt_for(sweep, view.rows, view.covered, view.venues, view.sampled)
    assert receipt.side_usd > 0
    assert receipt.recorded_usd == receipt.side_usd, f"{view.rows[0].price} not in the band"
    stored = stores.realized.between(feed.venue.name, feed.btc.native_id, *span)
    assert [r.price for r in stored] == [pytest.approx(wire)], "stored as published"


async def test_malformed_messages_are_skipped_and_counted_the_stream_goes_on(feed: Feed) -> None:
    await feed.stream.open([feed.btc])
    good = liqs(feed.venue.btc, 3)
    spoiled = feed.venue.spoiled(feed.fake, Liq(feed.venue.btc, "long", 1.0, 1.0, T0 + 99))
    feed.fake.push(good[0])
    for message in spoiled:
        feed.fake.send(message)
    feed.fake.send('{"truncated": ')  # looks like JSON, is not
    feed.fake.send("[1, 2")
    feed.fake.push(good[1])
    assert await feed.rows_after(2) == [expected(feed.btc, liq) for liq in good[:2]]
    assert feed.stream.skipped == len(spoiled) + 2
    feed.fake.push(good[2])
    assert await feed.rows_after(1) == [expected(feed.btc, good[2])], "still reading"


async def test_a_dropped_connection_fails_the_stream_and_it_can_open_again(feed: Feed) -> None:
    await feed.stream.open([feed.btc])
    feed.fake.push(liqs(feed.venue.btc, 1)[0])
    await feed.rows_after(1)
    feed.fake.drop()
    with pytest.raises(StreamDown):
        await feed.stream.wait(3)
    await feed.stream.open([feed.btc])
    await feed.fake.wait_for(lambda: feed.fake.connections == 1)
    feed.fake.push(liqs(feed.venue.btc, 1, start=T0 + 50)[0])
    assert len(await feed.rows_after(1)) == 1


async def test_refused_handshakes_and_a_closed_port_raise_stream_down(feed: Feed) -> None:
    feed.fake.refuse()
    with pytest.raises(StreamDown, match="503"):
        await feed.stream.open([feed.btc])
    feed.fake.accept()
    port = feed.fake.port
    feed.fake.stop()
    with pytest.raises(StreamDown):
        await feed.stream.open([feed.btc])
    feed.fake.start(port)
    await feed.stream.open([feed.btc])
    assert feed.fake.refused == 1


async def test_close_leaves_no_connection(feed: Feed) -> None:
    await feed.stream.open([feed.btc, feed.eth])
    await feed.fake.wait_for(lambda: feed.fake.connections > 0)
    await feed.stream.close()
    await feed.fake.wait_for(lambda: feed.fake.connections == 0)


# -- venue by venue -----------------------------------------------------------------------------


async def test_okx_reads_every_detail_and_sizes_contracts_by_ct_val(
    okx: FakeOkx, adapter: Adapter
) -> None:
    """ccxt parses only ``details[0]``; a push carries several, for several instruments, and
    OKX's ``sz`` counts contracts: 0.01 BTC, 0.1 ETH, 100 USD for the inverse BTC-USD-SWAP."""
    with FakeOkxWs(pos_mode="net") as fake:
        async with adapter(okx=okx.url) as market:
            btc, eth, inverse = [
                await market.instrument(f"okx:{s}")
                for s in ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP")
            ]
        stream = stream_to("okx", fake, okx.url)
        try:
            await stream.open([btc, eth, inverse])
            fake.push(
                Liq("BTC-USDT-SWAP", "long", 60_000.0, 13, T0),
                Liq("BTC-USDT-SWAP", "short", 60_500.0, 7, T0 + 1),
                Liq("ETH-USDT-SWAP", "long", 3_000.0, 20, T0 + 2),
                Liq("BTC-USDT-SWAP", "long", 59_900.0, 1, T0 + 3),
                Liq("BTC-USD-SWAP", "short", 62_500.0, 5, T0 + 4),
            )
            rows = await collect(fake, stream, 5)
        finally:
            await stream.close()
    assert len(fake.sent_json()) == 1, "one message, two entries, five details"
    by_ts = {r.ts - T0: (r.instrument, r.side, r.amount, r.usd) for r in rows}
    assert by_ts == {
        0: ("BTC-USDT-SWAP", "long", pytest.approx(0.13), pytest.approx(7_800.0)),
        1: ("BTC-USDT-SWAP", "short", pytest.approx(0.07), pytest.approx(4_235.0)),
        2: ("ETH-USDT-SWAP", "long", pytest.approx(2.0), pytest.approx(6_000.0)),
        3: ("BTC-USDT-SWAP", "long", pytest.approx(0.01), pytest.approx(599.0)),
        4: ("BTC-USD-SWAP", "short", pytest.approx(0.008), pytest.approx(500.0)),
    }


async def test_okx_futures_are_a_subscription_of_their_own(okx: FakeOkx, adapter: Adapter) -> None:
    future_id = next(i.inst_id for i in okx.instruments if i.inst_type == "FUTURES")
    with FakeOkxWs() as fake:
        async with adapter(okx=okx.url) as market:
            swap = await market.instrument("okx:BTC")
            future = await market.instrument(f"okx:{future_id}")
        stream = stream_to("okx", fake, okx.url)
        try:
            await stream.open([swap, future])
            assert fake.subscriptions() == {
                "liquidation-orders:SWAP", "liquidation-orders:FUTURES"
            }  # fmt: skip
            fake.push(Liq(future_id, "short", 61_000.0, 4, T0))
            (row,) = await collect(fake, stream, 1)
            assert row.amount == pytest.approx(0.04)
        finally:
            await stream.close()


async def test_binance_sends_the_latest_liquidation_of_a_second_and_sells_close_longs(
    binance: FakeBinance, adapter: Adapter
) -> None:
    """Binance docs: "only the latest one liquidation order within 1000ms will be pushed";
    ``S`` is the liquidation order's side, so SELL liquidated a long; amount is the filled
    ``z`` at the average price ``ap``."""
    with FakeBinanceWs() as fake:
        async with adapter(binance=binance.url) as market:
            btc = await market.instrument("binance:BTC")
        stream = stream_to("binance", fake, binance.url)
        try:
            await stream.open([btc])
            burst = liqs("BTCUSDT", 3)
            fake.push(*burst)
            (row,) = await collect(fake, stream, 1)
            await stream.wait(0.3)
            assert stream.take() == [], "the two before it were never published"
        finally:
            await stream.close()
    assert row == expected(btc, burst[-1])
    assert row.side == "long"
    assert stream.note.startswith("Binance publishes at most one liquidation per symbol")
    order = FakeBinanceWs.message(burst[-1])["o"]
    assert (order["S"], float(order["ap"]), float(order["z"])) == ("SELL", row.price, row.amount)


async def test_bybit_buy_is_a_long_liquidated_and_inverse_sizes_are_dollars(
    bybit: FakeBybit, adapter: Adapter
) -> None:
    """Bybit docs, All Liquidation: "When you receive a Buy update, this means that a long
    position has been liquidated"; inverse contracts are on their own endpoint, sized in USD."""
    with FakeBybitWs() as fake:
        async with adapter(bybit=bybit.url) as market:
            linear = await market.instrument("bybit:BTCUSDT")
            inverse = await market.instrument("bybit:BTCUSD")
        stream = stream_to("bybit", fake, bybit.url)
        try:
            await stream.open([linear, inverse])
            paths = {r.path for r in fake.received}
            assert paths == {"/v5/public/linear", "/v5/public/inverse"}
            fake.push(
                Liq("BTCUSDT", "long", 60_000.0, 0.003, T0),
                Liq("BTCUSD", "short", 62_500.0, 2_500, T0 + 1),
            )
            long, short = sorted(await collect(fake, stream, 2), key=lambda r: r.ts)
        finally:
            await stream.close()
    assert FakeBybitWs.message(Liq("BTCUSDT", "long", 1, 1, 1))["data"][0]["S"] == "Buy"
    assert (long.side, long.amount, long.usd) == ("long", 0.003, pytest.approx(180.0))
    assert (short.side, short.amount, short.usd) == ("short", pytest.approx(0.04), 2_500)
    assert stream.note == ""


async def test_a_bybit_inverse_contract_is_one_dollar_whatever_its_minimum_order(
    bybit: FakeBybit, adapter: Adapter
) -> None:
    """ccxt 4.5.90 sets an inverse market's contractSize from ``minOrderQty``; a Bybit inverse
    contract is 1 USD (Bybit help, "What is Inverse Contract?"), so ``v`` is USD."""
    btcusd = next(i for i in bybit.instruments if i.symbol == "BTCUSD")
    btcusd.min_order_qty = "100"
    with FakeBybitWs() as fake:
        async with adapter(bybit=bybit.url) as market:
            inverse = await market.instrument("bybit:BTCUSD")
            client_size = market.client("bybit").market(inverse.symbol)["contractSize"]
        stream = stream_to("bybit", fake, bybit.url)
        try:
            await stream.open([inverse])
            fake.push(Liq("BTCUSD", "long", 62_500.0, 2_500, T0))
            (row,) = await collect(fake, stream, 1)
        finally:
            await stream.close()
    assert client_size == 100, "ccxt reads the minimum order as the contract"
    assert inverse.contract_size == 1
    assert (row.usd, row.amount) == (2_500, pytest.approx(0.04))


async def test_bybit_pings_are_answered_as_bybit_does() -> None:
    """ccxt sends ``{"op":"ping"}``; Bybit answers ``ret_msg: pong`` (the keepalive's proof)."""
    import aiohttp

    with FakeBybitWs() as fake:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{fake.url}/v5/public/linear") as ws,
        ):
            await ws.send_str(json.dumps({"op": "ping", "req_id": "7"}))
            answer = json.loads((await ws.receive()).data)
    assert (answer["success"], answer["ret_msg"], answer["op"], answer["req_id"]) == (
        True, "pong", "ping", "7"
    )  # fmt: skip


# -- settings -----------------------------------------------------------------------------------


def test_websocket_urls_take_scheme_host_and_port_only() -> None:
    settings = load_settings(
        {
            "LIQMAP_OKX_WS_URL": "wss://ws.okx.com:8443/",
            "LIQMAP_BINANCE_WS_URL": "ws://127.0.0.1:9001",
            "LIQMAP_BYBIT_WS_URL": " ",
        },
        env_file=None,
    )
    assert settings.ws_urls == {"okx": "wss://ws.okx.com:8443", "binance": "ws://127.0.0.1:9001"}
    for bad, why in (
        ("https://ws.okx.com", "must be a ws(s) URL"),
        ("wss://ws.okx.com:443/ws/v5", "must name only scheme, host and port: the recorder"),
        ("wss://ws.okx.com?x=1", "must name only scheme, host and port"),
        ("ws://127.0.0.1:port", "has a port that is not a number"),
    ):
        pattern = f"{re.escape(f'LIQMAP_OKX_WS_URL {why}')}.*got {re.escape(repr(bad))}"
        with pytest.raises(ConfigError, match=pattern):
            load_settings({"LIQMAP_OKX_WS_URL": bad}, env_file=None)


def test_a_venue_is_recorded_only_where_its_websocket_host_matches_its_rest_host() -> None:
    local = f"http://127.0.0.1:{free_port()}"
    assert recordable("okx", None, None)
    assert recordable("okx", "https://www.okx.com", None), "the public host, as in .env.example"
    assert not recordable("binance", local, None), "a mirror's REST beside the public websocket"
    assert recordable("bybit", local, "ws://127.0.0.1:9")


def test_the_fakes_refuse_what_the_venues_refuse() -> None:
    """Subscriptions the venues reject are rejected in their words, so a client that sends
    the wrong thing fails here as it would there."""
    import asyncio

    import aiohttp

    async def ask(url: str, request: dict) -> dict:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(request))
            return json.loads((await ws.receive()).data)

    with FakeOkxWs() as okx, FakeBinanceWs() as binance, FakeBybitWs() as bybit:
        okx_error = asyncio.run(
            ask(f"{okx.url}/ws/v5/public",
                {"op": "subscribe", "args": [{"channel": "liquidations", "instType": "SWAP"}]})
        )  # fmt: skip
        binance_error = asyncio.run(
            ask(f"{binance.url}/market/ws/0",
                {"method": "SUBSCRIBE", "params": ["btcusdt@liquidation"], "id": 4})
        )  # fmt: skip
        bybit_error = asyncio.run(
            ask(f"{bybit.url}/v5/public/linear",
                {"op": "subscribe", "args": ["liquidation"], "req_id": "x"})
        )  # fmt: skip
    assert (okx_error["event"], okx_error["code"]) == ("error", "60018")
    assert binance_error == {
        "error": {"code": 2, "msg": "Invalid request: invalid stream"},
        "id": 4,
    }
    assert (bybit_error["success"], bybit_error["op"]) == (False, "subscribe")


@pytest.mark.parametrize(
    ("kind", "heard"),
    [
        (WSMsgType.TEXT, True),
        (WSMsgType.PING, True),
        (WSMsgType.PONG, True),
        (WSMsgType.CLOSE, False),  # ends the connection: no sign it stays live
        (WSMsgType.CLOSING, False),  # aiohttp's own notices, made on our side, e.g. when the
        (WSMsgType.CLOSED, False),  # keepalive gives up on a silent connection
        (WSMsgType.ERROR, False),
    ],
)
def test_only_what_the_exchange_sent_is_a_sign_of_life(kind: WSMsgType, heard: bool) -> None:
    now = [1_000]
    stream = LiquidationStream("bybit", clock=lambda: now[0])
    handled: list[WSMessage] = []
    tapped = stream.tap_frames(handled.append)
    frame = WSMessage(kind, "{}" if kind is WSMsgType.TEXT else None, None)
    tapped(frame)
    assert handled == [frame]
    assert stream.last_heard_ms == (1_000 if heard else None)
