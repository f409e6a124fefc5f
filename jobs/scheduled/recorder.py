"""The liquidation recorder: the forced closes of every watched instrument, live, stored.

One task per venue connects, subscribes and, every ``flush_seconds``, stores what arrived
together with the span it watched (``RealizedStore.record``: events and span in one
transaction). A span runs from the moment the exchange acknowledged the subscription to the
last frame heard from it (ccxt's pings are answered every ``KEEPALIVE_MS`` even when nothing
is liquidated), so it grows only while the venue is connected, subscribed and alive; a
connection lost or gone silent ends it there, and the time until the next subscription stays
a gap. Reconnects follow ``RetryPolicy`` (``retry_call``), pausing longer after each
failure; a stream that had stayed up longer than the longest pause was healthy, so its loss
is retried at once and the pauses start over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from liqmap.engine.ranges import Range
from liqmap.engine.realized import SAMPLED_VENUES, Realized
from liqmap.errors import LiqmapError
from liqmap.exchanges.liquidation_stream import LiquidationStream, StreamDown, recordable
from liqmap.market.instruments import Instrument
from liqmap.market.venues import CENTRALIZED
from liqmap.policies.retry import RetryPolicy, retry_call
from storage.stores import Stores

if TYPE_CHECKING:
    from liqmap.config import Settings
    from liqmap.exchanges.market_data import MarketData

log = logging.getLogger(__name__)

RECORDER_RETRY = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=60.0)
"""Reconnects: at once after a healthy stream is lost, then 1 s, 2 s, 4 s ... up to a minute,
for as long as it takes."""
FLUSH_SECONDS = 1.0


@dataclass
class RecorderStatus:
    """One venue's recording as ``/status`` shows it."""

    exchange: str
    note: str
    """How much of the venue's liquidations its feed carries ("" for all)."""
    instruments: int = 0
    connected: bool = False
    """Connected and subscribed."""
    since_ms: int | None = None
    """When the current subscription was acknowledged."""
    last_message_ms: int | None = None
    """When the exchange last sent anything (a liquidation, an answer to a ping)."""
    events: int = 0
    """New events stored since the start."""
    skipped: int = 0
    """Malformed liquidation messages skipped since the start."""
    reconnects: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class Batch:
    """One write of one venue: the rows that arrived, how many were new, the span watched."""

    exchange: str
    rows: tuple[Realized, ...]
    new: int
    span: Range


StreamFactory = Callable[[str], LiquidationStream]


class Recorder:
    """Records the liquidations of the instruments given to ``watch`` (or followed from the
    chats' subscriptions) on ``venues``, each venue in a task of its own."""

    def __init__(
        self,
        stores: Stores,
        streams: StreamFactory,
        clock: Callable[[], int],
        venues: Sequence[str] = CENTRALIZED,
        retry: RetryPolicy = RECORDER_RETRY,
        flush_seconds: float = FLUSH_SECONDS,
        on_batch: Callable[[Batch], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.stores = stores
        self.clock = clock
        self.venues = tuple(venues)
        self.status = {
            venue: RecorderStatus(venue, SAMPLED_VENUES.get(venue, "")) for venue in self.venues
        }
        self._streams = streams
        self._retry = retry
        self._flush_seconds = flush_seconds
        self._on_batch = on_batch
        self._sleep = sleep
        self._wanted: dict[str, frozenset[Instrument]] = dict.fromkeys(self.venues, frozenset())
        self._changed = {venue: asyncio.Event() for venue in self.venues}
        self._lost = dict.fromkeys(self.venues, False)
        self._tasks: dict[str, asyncio.Task] = {}

    def watch(self, instruments: Iterable[Instrument]) -> None:
        """Record exactly these instruments from now on (an aggregate stands for its members);
        a venue's subscription changes within ``flush_seconds``."""
        wanted: dict[str, set[Instrument]] = {venue: set() for venue in self.venues}
        for inst in instruments:
            for member in inst.members or (inst,):
                if member.exchange in wanted:
                    wanted[member.exchange].add(member)
        for venue, members in wanted.items():
            if frozenset(members) == self._wanted[venue]:
                continue
            self._wanted[venue] = frozenset(members)
            self.status[venue].instruments = len(members)
            self._changed[venue].set()
            if members and venue not in self._tasks:
                self._tasks[venue] = asyncio.create_task(self._run(venue), name=f"record {venue}")

    def follow(self, market: MarketData, every_seconds: float) -> None:
        """Record what chats subscribe to, looking again every ``every_seconds``."""
        self._tasks["follow"] = asyncio.create_task(self._follow(market, every_seconds))

    async def stop(self) -> None:
        """Stop every task; each venue stores what it received and closes its connection."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- tasks -----------------------------------------------------------------------------

    async def _follow(self, market: MarketData, every_seconds: float) -> None:
        while True:
            try:
                keys = await self.stores.run(self.stores.chats.watched_instruments)
            except Exception:
                log.exception("cannot read the subscriptions to record; trying again later")
                keys = None
            if keys is not None:
                instruments = []
                for key in keys:
                    try:
                        instruments.append(await market.instrument(key))
                    except LiqmapError as exc:
                        log.warning("cannot record %s: %s", key, exc)
                    except Exception:
                        log.exception("cannot record %s: unexpected error", key)
                self.watch(instruments)
            await self._sleep(every_seconds)

    async def _run(self, venue: str) -> None:
        stream = self._streams(venue)
        status = self.status[venue]

        def retrying(exc: BaseException, delay: float) -> None:
            status.last_error = str(exc)
            log.warning("%s liquidations: %s; trying again in %.1fs", venue, exc, delay)

        try:
            while True:
                if not self._wanted[venue]:
                    self._changed[venue].clear()
                    await stream.reset()
                    await self._changed[venue].wait()
                    continue
                try:
                    await retry_call(
                        lambda: self._session(stream), self._retry, (StreamDown,), retrying,
                        self._sleep,
                    )  # fmt: skip
                except Exception as exc:  # a bug or the database: logged, not the end
                    status.connected, status.last_error = False, f"unexpected: {exc}"
                    self._lost[venue] = True
                    log.exception("%s liquidations: unexpected error; restarting", venue)
                    await self._sleep(self._retry.max_delay)
        finally:
            status.connected = False
            await stream.close()

    async def _session(self, stream: LiquidationStream) -> None:
        """Subscribe to the wanted instruments and record until they change (return) or the
        stream fails (``StreamDown``; returns instead after a healthy stream)."""
        venue, status = stream.venue, self.status[stream.venue]
        self._changed[venue].clear()
        wanted = self._wanted[venue]
        if not wanted:
            return
        await stream.open(wanted)
        start = stream.subscribed_ms or self.clock()
        status.connected, status.since_ms = True, start
        if self._lost[venue]:
            status.reconnects += 1
            self._lost[venue] = False
        log.info("recording %s liquidations of %d instruments", venue, len(wanted))
        try:
            while not self._changed[venue].is_set():
                await stream.wait(self._flush_seconds)
                await self._write(stream, wanted, start)
        except StreamDown as exc:
            status.connected, status.since_ms, status.last_error = False, None, str(exc)
            self._lost[venue] = True
            heard = await self._write(stream, wanted, start)
            if (heard - start) / 1000 > self._retry.max_delay:
                log.warning("%s liquidations: lost the stream (%s); reconnecting", venue, exc)
                return
            raise
        except asyncio.CancelledError:  # stopping: what arrived since the last write stays
            await self._write(stream, wanted, start)
            raise
        await self._write(stream, wanted, start)

    async def _write(
        self, stream: LiquidationStream, wanted: Iterable[Instrument], start: int
    ) -> int:
        """Store the rows received and the span from ``start`` to the last frame heard; that
        moment."""
        venue, status = stream.venue, self.status[stream.venue]
        rows = stream.take()
        heard = max(start, stream.last_heard_ms or start)
        ids = sorted(inst.native_id for inst in wanted)
        new = await self.stores.run(self.stores.realized.record, venue, ids, rows, (start, heard))
        status.events += new
        status.skipped = stream.skipped
        status.last_message_ms = stream.last_heard_ms
        if rows and self._on_batch is not None:
            self._on_batch(Batch(venue, tuple(rows), new, (start, heard)))
        return heard


def recorder_for(
    settings: Settings,
    stores: Stores,
    clock: Callable[[], int],
    on_batch: Callable[[Batch], None] | None = None,
) -> Recorder:
    """The recorder of these settings: every venue whose websocket host is known to match
    its REST host (``recordable``); the others are named in a warning."""
    venues = []
    for venue in CENTRALIZED:
        rest, ws = settings.exchange_urls.get(venue), settings.ws_urls.get(venue)
        if recordable(venue, rest, ws):
            venues.append(venue)
        else:
            log.warning(
                "not recording %s liquidations: LIQMAP_%s_URL is %s but LIQMAP_%s_WS_URL is "
                "not set", venue, venue.upper(), rest, venue.upper(),
            )  # fmt: skip

    def stream(venue: str) -> LiquidationStream:
        return LiquidationStream(
            venue, settings.ws_urls.get(venue), settings.exchange_urls.get(venue), clock
        )

    return Recorder(stores, stream, clock, venues, on_batch=on_batch)
