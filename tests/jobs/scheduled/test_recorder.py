"""The liquidation recorder against the fake websockets: stored once, spans, gaps, following."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from jobs.scheduled.recorder import Recorder, RecorderStatus
from liqmap.exchanges.liquidation_stream import LiquidationStream
from liqmap.market.instruments import Instrument
from liqmap.policies.retry import RetryPolicy
from storage.stores import Stores
from tests.conftest import NOON, Adapter
from tests.fakes.binance import BinanceSymbol, FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.liquidation_ws import FakeBinanceWs, FakeBybitWs, FakeOkxWs, FakeWsServer, Liq
from tests.fakes.okx import FakeOkx
from tests.support.fast import FAST_CCXT
from tests.support.liquidation_venues import FEEDS, T0, FeedVenue, expected, liqs

pytestmark = pytest.mark.slow

RETRY = RetryPolicy(attempts=None, first_delay=0.01, factor=2.0, max_delay=0.05)
"""Endless, fast: a stream that was up longer than 0.05 s of the test clock was healthy."""
FLUSH = 0.03


def recorder(
    stores: Stores,
    clock: Clock,
    fakes: dict[str, tuple[str, FakeWsServer]],
    flush: float = FLUSH,
    made: dict[str, LiquidationStream] | None = None,
    keepalive_ms: int | None = None,
) -> Recorder:
    """A recorder of the venues in ``fakes`` (name -> REST URL, websocket fake); the streams
    it makes go into ``made``; ccxt pings every ``keepalive_ms`` if given."""
    config = FAST_CCXT | ({"streaming": {"keepAlive": keepalive_ms}} if keepalive_ms else {})

    def stream(venue: str) -> LiquidationStream:
        rest, ws = fakes[venue]
        made_now = LiquidationStream(venue, ws.url, rest, clock, config, subscribe_seconds=3)
        if made is not None:
            made[venue] = made_now
        return made_now

    return Recorder(stores, stream, clock, list(fakes), RETRY, flush)


@dataclass
class Recording:
    venue: FeedVenue
    rest: str
    fake: FakeWsServer
    recorder: Recorder
    btc: Instrument
    clock: Clock
    stores: Stores

    @property
    def status(self) -> RecorderStatus:
        return self.recorder.status[self.venue.name]

    async def stored(self) -> list:
        realized = self.stores.realized
        return await self.stores.run(
            realized.between, self.venue.name, self.btc.native_id, 0, 2**62
        )

    async def covered(self) -> list:
        realized = self.stores.realized
        return await self.stores.run(realized.covered, self.venue.name, self.btc.native_id)

    async def until_covered(self, spans: list, within: float = 30.0) -> None:
        """Wait until the stored spans are ``spans``."""
        deadline = time.monotonic() + within
        while (found := await self.covered()) != spans:
            if time.monotonic() > deadline:
                raise AssertionError(f"covered {found}, expected {spans}")
            await asyncio.sleep(0.01)


@pytest.fixture(params=list(FEEDS))
async def recording(
    request: pytest.FixtureRequest, adapter: Adapter, stores: Stores
) -> AsyncIterator[Recording]:
    """Each venue in turn, recording BTC on a test clock stopped at NOON."""
    venue = FEEDS[request.param]
    rest = request.getfixturevalue(venue.name)
    clock = Clock(NOON)
    with venue.ws() as fake:
        async with adapter(**{venue.name: rest.url}) as market:
            btc = await market.instrument(f"{venue.name}:{venue.btc}")
        rec = recorder(stores, clock, {venue.name: (rest.url, fake)})
        try:
            yield Recording(venue, rest.url, fake, rec, btc, clock, stores)
        finally:
            await rec.stop()


async def connected(rec: Recording, reconnects: int = 0) -> None:
    await rec.fake.wait_for(lambda: rec.status.connected and rec.status.reconnects == reconnects)


async def test_each_event_is_stored_once_with_the_span_it_watched(recording: Recording) -> None:
    rec = recording
    rec.recorder.watch([rec.btc])
    await connected(rec)
    assert (rec.status.since_ms, rec.status.instruments) == (NOON, 1)
    events = liqs(rec.venue.btc, 3)
    rec.fake.push(*events)
    rec.fake.send(rec.venue.spoiled(rec.fake, events[0])[0])
    rec.fake.push(*events)  # the venue repeats itself
    await rec.fake.wait_for(lambda: rec.status.events == 3 and rec.status.skipped == 1)
    rec.clock.advance(60_000)
    rec.fake.ping()  # heard from a minute later
    await rec.until_covered([(NOON, NOON + 60_000)])
    assert await rec.stored() == [expected(rec.btc, liq) for liq in events]
    assert rec.status.last_message_ms is not None and rec.status.last_error is None


async def test_a_lost_connection_resumes_without_losing_or_repeating_events(
    recording: Recording,
) -> None:
    rec = recording
    rec.recorder.watch([rec.btc])
    await connected(rec)
    before = liqs(rec.venue.btc, 2)
    rec.fake.push(*before)
    await rec.fake.wait_for(lambda: rec.status.events == 2)
    rec.clock.advance(120_000)
    rec.fake.ping()
    await rec.until_covered([(NOON, NOON + 120_000)])
    rec.fake.drop()
    await connected(rec, reconnects=1)
    after = liqs(rec.venue.btc, 3, start=T0 + 10)
    rec.fake.push(*before, *after)  # re-sent after the reconnect, and new ones
    await rec.fake.wait_for(lambda: rec.status.events == 5)
    assert await rec.stored() == [expected(rec.btc, liq) for liq in before + after]
    assert "closed" in (rec.status.last_error or "")


async def test_the_time_the_venue_refused_connections_stays_a_gap(recording: Recording) -> None:
    rec = recording
    rec.recorder.watch([rec.btc])
    await connected(rec)
    rec.clock.advance(10_000)
    rec.fake.ping()
    await rec.until_covered([(NOON, NOON + 10_000)])
    rec.fake.refuse()
    rec.fake.drop()
    await rec.fake.wait_for(lambda: rec.fake.refused >= 3 and not rec.status.connected)
    rec.clock.advance(50_000)  # 50 s refused
    rec.fake.push(liqs(rec.venue.btc, 1)[0])  # nobody is there to hear it
    rec.fake.accept()
    await connected(rec, reconnects=1)
    rec.clock.advance(5_000)
    rec.fake.ping()
    await rec.until_covered([(NOON, NOON + 10_000), (NOON + 60_000, NOON + 65_000)])
    assert await rec.stored() == []
    assert "503" in (rec.status.last_error or "")


async def test_a_connection_gone_silent_ends_its_span_at_the_last_frame_heard(
    recording: Recording,
) -> None:
    """A half-open connection says nothing and is not closed: the span stops at the last frame
    heard, though the recorder writes on until ccxt's keepalive gives up on it."""
    rec, name = recording, recording.venue.name
    quick = recorder(rec.stores, rec.clock, {name: (rec.rest, rec.fake)}, keepalive_ms=1000)
    try:
        quick.watch([rec.btc])
        await rec.fake.wait_for(lambda: quick.status[name].connected)
        rec.clock.advance(10_000)
        rec.fake.ping()
        await rec.until_covered([(NOON, NOON + 10_000)])
        rec.fake.mute()
        # a pong already in flight when the connection went silent is stamped when it lands:
        # let it land before the clock moves (or it would claim the silent time as heard). Once
        # the client's next keepalive ping went unanswered, the pong to the one before it has
        # landed; the keepalive gives up only a ping or two later
        await rec.fake.wait_for(lambda: rec.fake.swallowed >= 1)
        rec.clock.advance(50_000)
        await rec.fake.wait_for(lambda: quick.status[name].reconnects == 1)
        rec.clock.advance(5_000)
        rec.fake.ping()
        await rec.until_covered([(NOON, NOON + 10_000), (NOON + 60_000, NOON + 65_000)])
        assert "ping-pong keepalive" in (quick.status[name].last_error or "")
    finally:
        await quick.stop()


async def test_stopping_stores_what_arrived_since_the_last_write(
    okx: FakeOkx, adapter: Adapter, stores: Stores
) -> None:
    clock = Clock(NOON)
    made: dict[str, LiquidationStream] = {}
    with FakeOkxWs() as fake:
        async with adapter(okx=okx.url) as market:
            btc = await market.instrument("okx:BTC")
        rec = recorder(stores, clock, {"okx": (okx.url, fake)}, flush=60.0, made=made)
        rec.watch([btc])
        await fake.wait_for(lambda: rec.status["okx"].connected)
        clock.advance(1_000)
        events = liqs("BTC-USDT-SWAP", 2)
        fake.push(*events)
        await fake.wait_for(lambda: made["okx"].last_heard_ms == NOON + 1_000)
        await rec.stop()
        await fake.wait_for(lambda: fake.connections == 0)
    stored = await stores.run(stores.realized.between, "okx", "BTC-USDT-SWAP", 0, 2**62)
    assert stored == [expected(btc, liq) for liq in events], "no write before the stop"
    covered = await stores.run(stores.realized.covered, "okx", "BTC-USDT-SWAP")
    assert covered == [(NOON, NOON + 1_000)]
    assert rec.status["okx"].connected is False


async def test_a_failing_write_is_logged_and_recording_starts_again(
    okx: FakeOkx, adapter: Adapter, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database failing a write (a full disk) does not end the recording for good."""
    record, failures = stores.realized.record, []

    def fail_once(*args: object) -> int:
        if not failures:
            failures.append(args)
            raise sqlite3.OperationalError("database or disk is full")
        return record(*args)

    monkeypatch.setattr(stores.realized, "record", fail_once)
    with FakeOkxWs() as fake:
        async with adapter(okx=okx.url) as market:
            btc = await market.instrument("okx:BTC")
        rec = recorder(stores, Clock(NOON), {"okx": (okx.url, fake)})
        try:
            rec.watch([btc])
            await fake.wait_for(lambda: rec.status["okx"].reconnects == 1)
            assert "disk is full" in (rec.status["okx"].last_error or "")
            await fake.wait_for(lambda: rec.status["okx"].connected)
            fake.push(*liqs("BTC-USDT-SWAP", 2))
            await fake.wait_for(lambda: rec.status["okx"].events == 2)
        finally:
            await rec.stop()


async def test_the_recorder_follows_what_chats_subscribe_to(
    okx: FakeOkx, binance: FakeBinance, bybit: FakeBybit, adapter: Adapter, stores: Stores
) -> None:
    """``all:BTC`` is recorded on every venue; replacing it with ``bybit:ETH`` drops the
    other venues' connections and moves Bybit's subscription."""
    clock = Clock(NOON)
    rests = {"okx": okx.url, "binance": binance.url, "bybit": bybit.url}
    fakes = {"okx": FakeOkxWs(), "binance": FakeBinanceWs(snapshot_ms=0), "bybit": FakeBybitWs()}
    for fake in fakes.values():
        fake.start()
    try:
        async with adapter(**rests) as market:
            rec = recorder(stores, clock, {v: (rests[v], fakes[v]) for v in rests})
            await stores.run(stores.chats.seen, 7, "private", None)
            await stores.run(stores.chats.subscribe, 7, "all:BTC", None)
            rec.follow(market, every_seconds=0.02)
            try:
                await fakes["okx"].wait_for(
                    lambda: (
                        all(rec.status[v].connected for v in rests)
                        and fakes["binance"].subscriptions() == {"btcusdt@forceOrder"}
                        and fakes["bybit"].subscriptions() == {"allLiquidation.BTCUSDT"}
                        and fakes["okx"].subscriptions() == {"liquidation-orders:SWAP"}
                    )
                )
                clock.advance(1_000)
                fakes["okx"].push(Liq("BTC-USDT-SWAP", "long", 60_000.0, 5, T0))
                fakes["binance"].push(Liq("BTCUSDT", "short", 60_000.0, 0.5, T0))
                fakes["bybit"].push(Liq("BTCUSDT", "long", 60_000.0, 0.25, T0))
                await fakes["okx"].wait_for(lambda: all(rec.status[v].events == 1 for v in rests))

                await stores.run(stores.chats.unsubscribe, 7, "all:BTC")
                await stores.run(stores.chats.subscribe, 7, "bybit:ETH", None)
                # Bybit's new subscription counts from its acknowledgement (``since_ms``), not
                # from the moment the fake took the request: the clock moves only after it
                await fakes["okx"].wait_for(
                    lambda: (
                        fakes["bybit"].subscriptions() == {"allLiquidation.ETHUSDT"}
                        and fakes["okx"].connections == 0
                        and fakes["binance"].connections == 0
                        and rec.status["bybit"].connected
                        and rec.status["bybit"].since_ms == NOON + 1_000
                    )
                )
                clock.advance(1_000)
                fakes["bybit"].push(Liq("ETHUSDT", "short", 3_000.0, 2, T0 + 1))
                await fakes["okx"].wait_for(lambda: rec.status["bybit"].events == 2)
                counts = {v: rec.status[v].instruments for v in rests}
                assert counts == {"okx": 0, "binance": 0, "bybit": 1}
            finally:
                await rec.stop()
    finally:
        for fake in fakes.values():
            fake.stop()
    streams = await stores.run(stores.realized.streams)
    recorded = {(s.exchange, s.instrument): (s.events, s.covered) for s in streams}
    first, second = (NOON, NOON + 1_000), (NOON + 1_000, NOON + 2_000)
    assert recorded == {
        ("okx", "BTC-USDT-SWAP"): (1, (first,)),
        ("binance", "BTCUSDT"): (1, (first,)),
        ("bybit", "BTCUSDT"): (1, (first,)),
        ("bybit", "ETHUSDT"): (1, (second,)),
    }


async def test_more_binance_symbols_than_one_stream_takes_are_all_recorded(
    adapter: Adapter, stores: Stores
) -> None:
    """ccxt's binance takes at most 200 subscriptions on one stream and refuses a larger watch
    (BadRequest, ``subscriptionLimitByStream``: a failed connection, retried); 250 watched
    perpetuals are subscribed in batches at the first try, and a liquidation on the last one
    is stored like one on the first."""
    clock = Clock(NOON)
    listed = [BinanceSymbol(f"C{n:03d}USDT", f"C{n:03d}", 1.0 + n) for n in range(250)]
    with FakeBinance(symbols=listed) as rest, FakeBinanceWs(snapshot_ms=0) as ws:
        async with adapter(binance=rest.url) as market:
            watched = [await market.instrument(f"binance:{s.symbol}") for s in listed]
            rec = recorder(stores, clock, {"binance": (rest.url, ws)})
            rec.watch(watched)
            try:
                streams = {f"{s.symbol.lower()}@forceOrder" for s in listed}
                await ws.wait_for(
                    lambda: rec.status["binance"].connected and ws.subscriptions() == streams
                )
                clock.advance(1_000)
                ws.push(Liq("C000USDT", "long", 1.0, 3, T0), Liq("C249USDT", "short", 250.0, 2, T0))
                await ws.wait_for(lambda: rec.status["binance"].events == 2)
                assert rec.status["binance"].last_error is None
            finally:
                await rec.stop()
    streams_stored = await stores.run(stores.realized.streams)
    assert {s.instrument: s.events for s in streams_stored if s.events} == {
        "C000USDT": 1,
        "C249USDT": 1,
    }
