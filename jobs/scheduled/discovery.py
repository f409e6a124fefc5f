"""Discovery of Hyperliquid accounts for the scanner of real positions, from public sources.

Two sources: the accounts on the trades of the watched Hyperliquid coins (both ``users`` of
each trade, from the websocket, ``TradeAddresses``), and the leaderboard where it answers
(each listed account with its account value). What they find goes into SQLite in batches
(``PositionStore.discovered``): every ``flush_seconds`` for trades, and the leaderboard's rows
in transactions of ``LEADERBOARD_CHUNK``. The leaderboard is not part of Hyperliquid's
documented API: when it is gone (refused, unreachable, unreadable) that is a note in
``status``, logged once at INFO, and the trades go on. Both run in tasks of their own, so
nothing else waits on them; ``stop`` writes what the trades gave since the last write and
closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from liqmap.errors import LiqmapError
from liqmap.exchanges.leaderboard import Leaderboard, LeaderboardGone, read_leaderboard
from liqmap.exchanges.trade_addresses import Sighting, TradeAddresses, trades_url
from liqmap.market.venues import HYPERLIQUID
from storage.stores import Stores

if TYPE_CHECKING:
    from liqmap.config import Settings
    from liqmap.exchanges.market_data import MarketData

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
RESTART_SECONDS = 60.0
"""After an unexpected error, the trades are read again after this pause."""
LEADERBOARD_SECONDS = 3600.0
"""The leaderboard is read at most this often (it is some 25 MB)."""
LEADERBOARD_CHUNK = 2_000
"""Leaderboard rows written in one transaction: each holds the database thread some 25 ms."""


@dataclass
class DiscoveryStatus:
    """Where discovery stands, as ``/status`` may show it."""

    coins: tuple[str, ...] = ()
    """The Hyperliquid coins whose trades are read."""
    connected: bool = False
    trades: int = 0
    """Trades read since the start."""
    skipped: int = 0
    """Malformed frames and trades skipped since the start."""
    reconnects: int = 0
    last_error: str | None = None
    from_trades: int = 0
    """Addresses new to the database found on trades since the start."""
    leaderboard_rows: int | None = None
    """Accounts listed by the last leaderboard read (None: none read yet)."""
    from_leaderboard: int = 0
    """Addresses new to the database found on the leaderboard since the start."""
    leaderboard_note: str | None = None
    """Why the last leaderboard read gave nothing; None when it answered (or was not asked)."""
    leaderboard_read_ms: int | None = None
    """When the leaderboard last answered."""


FeedFactory = Callable[[tuple[str, ...]], TradeAddresses]
LeaderboardReader = Callable[[], Awaitable[Leaderboard]]


class Discovery:
    """Finds Hyperliquid accounts on the trades of the coins given to ``watch`` (or followed
    from the chats' subscriptions) and, through ``reader``, on the leaderboard."""

    def __init__(
        self,
        stores: Stores,
        feeds: FeedFactory,
        reader: LeaderboardReader | None,
        clock: Callable[[], int],
        flush_seconds: float = FLUSH_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.stores = stores
        self.clock = clock
        self.status = DiscoveryStatus()
        self._feeds = feeds
        self._reader = reader
        self._flush_seconds = flush_seconds
        self._sleep = sleep
        self._feed: TradeAddresses | None = None
        self._feed_task: asyncio.Task[None] | None = None
        self._counted = (0, 0, 0)
        """Trades, skipped and reconnects of the feeds replaced so far."""
        self._left: list[Sighting] = []
        """What replaced feeds saw since the last write."""
        self._tasks: list[asyncio.Task[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    def watch(self, coins: Iterable[str]) -> None:
        """Read the trades of exactly these coins from now on (none: no connection)."""
        wanted = tuple(sorted(set(coins)))
        if wanted == self.status.coins:
            return
        self.status.coins = wanted
        self._retire_feed()
        if wanted:
            self._feed = self._feeds(wanted)
            self._feed_task = asyncio.create_task(self._feeding(self._feed), name="trades")
        if self._writer is None:
            self._writer = asyncio.create_task(self._flushing(), name="discovery writes")
            self._tasks.append(self._writer)

    def follow(self, market: MarketData, every_seconds: float) -> None:
        """Watch the Hyperliquid coins chats subscribe to, looking again every
        ``every_seconds``."""
        self._tasks.append(asyncio.create_task(self._follow(market, every_seconds)))

    def poll_leaderboard(self, every_seconds: float = LEADERBOARD_SECONDS) -> None:
        """Read the leaderboard now and every ``every_seconds``, while some coin is watched."""
        self._tasks.append(asyncio.create_task(self._polling(every_seconds)))

    async def read_leaderboard(self) -> int:
        """Read the leaderboard once and store its accounts; how many were new (0, with a
        note in ``status``, when it is gone or not asked)."""
        if self._reader is None:
            return 0
        try:
            board = await self._reader()
        except LeaderboardGone as exc:
            self._note(str(exc))
            return 0
        now = self.clock()
        seen = [(leader.address, now, leader.account_value) for leader in board.leaders]
        new = 0
        for start in range(0, len(seen), LEADERBOARD_CHUNK):  # other writes come in between
            chunk = seen[start : start + LEADERBOARD_CHUNK]
            new += await self.stores.run(self.stores.positions.discovered, chunk, "leaderboard")
        if self.status.leaderboard_note is not None:
            log.info("the Hyperliquid leaderboard answers again")
        status = self.status
        status.leaderboard_note, status.leaderboard_read_ms = None, now
        status.leaderboard_rows = len(board.leaders)
        status.from_leaderboard += new
        log.info("Hyperliquid leaderboard: %d accounts (%d new, %d rows skipped)",
                 len(board.leaders), new, board.skipped)  # fmt: skip
        return new

    async def flush(self) -> int:
        """Store the accounts seen on trades since the last call; how many were new."""
        async with self._writing:
            self._count()
            taken, self._left = [*self._left, *(self._feed.take() if self._feed else ())], []
            seen = [(s.address, s.seen_ms, s.usd) for s in taken]
            new = await self.stores.run(self.stores.positions.discovered, seen, "trades")
            self.status.from_trades += new
            return new

    async def stop(self) -> None:
        """Stop reading; what the trades gave since the last write is stored."""
        tasks, self._tasks, self._writer = self._tasks, [], None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._feed_task is not None:
            self._feed_task.cancel()
            await asyncio.gather(self._feed_task, return_exceptions=True)
        try:
            await self.flush()
        finally:
            self.status.connected = False

    # -- tasks -----------------------------------------------------------------------------

    def _retire_feed(self) -> None:
        """Stop the current feed; what it saw is kept for the next write."""
        feed, task = self._feed, self._feed_task
        if feed is None or task is None:
            return
        task.cancel()
        self._left += feed.take()
        self._counted = (
            self._counted[0] + feed.trades,
            self._counted[1] + feed.skipped,
            self._counted[2] + feed.reconnects,
        )
        self._feed, self._feed_task = None, None

    def _count(self) -> None:
        feed, status = self._feed, self.status
        trades, skipped, reconnects = self._counted
        status.connected = feed is not None and feed.connected
        status.trades = trades + (feed.trades if feed else 0)
        status.skipped = skipped + (feed.skipped if feed else 0)
        status.reconnects = reconnects + (feed.reconnects if feed else 0)
        status.last_error = feed.last_error if feed else status.last_error

    async def _feeding(self, feed: TradeAddresses) -> None:
        """``feed`` until cancelled; an unexpected error (a bug) is logged, and it starts
        again after a pause."""
        while True:
            try:
                await feed.run()
            except Exception as exc:
                feed.last_error = f"unexpected: {exc}"
                log.exception("hyperliquid trades: unexpected error; starting again")
                await self._sleep(RESTART_SECONDS)

    def _note(self, note: str) -> None:
        if note != self.status.leaderboard_note:
            log.info("no Hyperliquid leaderboard: %s; addresses come from trades alone", note)
        self.status.leaderboard_note = note

    async def _flushing(self) -> None:
        while True:
            await self._sleep(self._flush_seconds)
            try:  # a stop during a write waits for it (``flush`` holds a lock) and counts it
                await asyncio.shield(self.flush())
            except Exception:  # the database: logged, tried again at the next write
                log.exception("cannot store the Hyperliquid addresses found on trades")

    async def _polling(self, every_seconds: float) -> None:
        while True:
            if self.status.coins:
                try:
                    await self.read_leaderboard()
                except Exception:
                    log.exception("cannot store the Hyperliquid leaderboard's accounts")
                await self._sleep(every_seconds)
            else:
                await self._sleep(self._flush_seconds)

    async def _follow(self, market: MarketData, every_seconds: float) -> None:
        while True:
            try:
                keys = await self.stores.run(self.stores.chats.watched_instruments)
            except Exception:
                log.exception("cannot read the subscriptions to discover accounts for")
                keys = None
            if keys is not None:
                coins = []
                for key in keys:
                    try:
                        inst = await market.instrument(key)
                    except LiqmapError:
                        continue  # the recorder and the refresh say why
                    except Exception:
                        log.exception("cannot discover accounts for %s: unexpected error", key)
                        continue
                    coins += [m.native_id for m in inst.members or (inst,)
                              if m.exchange == HYPERLIQUID.name]  # fmt: skip
                self.watch(coins)
            await self._sleep(every_seconds)


def discovery_for(
    settings: Settings,
    stores: Stores,
    clock: Callable[[], int],
    flush_seconds: float = FLUSH_SECONDS,
) -> Discovery:
    """Discovery as ``settings`` say: trades where ``LIQMAP_HYPERLIQUID_WS_URL`` (else
    ``LIQMAP_HYPERLIQUID_URL``, else Hyperliquid) serves them, and the leaderboard at
    ``LIQMAP_HYPERLIQUID_LEADERBOARD_URL`` unless it is set empty."""
    name = HYPERLIQUID.name
    url = trades_url(settings.exchange_urls.get(name), settings.ws_urls.get(name))
    board = settings.hyperliquid_leaderboard_url

    def feed(coins: tuple[str, ...]) -> TradeAddresses:
        return TradeAddresses(url, coins, clock)

    async def reader() -> Leaderboard:
        assert board is not None
        return await read_leaderboard(board)

    return Discovery(stores, feed, reader if board else None, clock, flush_seconds)
