"""Hyperliquid accounts found on public trades: both ``users`` of every trade of the coins
watched, from the websocket ``trades`` channel.

Evidence: Hyperliquid docs, "Websocket": mainnet ``wss://api.hyperliquid.xyz/ws``; a
subscription ``{"method": "subscribe", "subscription": {"type": "trades", "coin": "SOL"}}`` is
acknowledged on the channel ``subscriptionResponse`` echoing it. "Websocket → Subscriptions":
``trades`` pushes ``{"channel": "trades", "data": WsTrade[]}``, ``WsTrade {coin, side, px, sz,
hash, time, tid, users: [string, string] // [buyer, seller]}``. "Timeouts and heartbeats": "The
server will close any connection if it hasn't sent a message to it in the last 60 seconds";
``{"method": "ping"}`` is answered ``{"channel": "pong"}``. hyperliquid-python-sdk
``websocket_manager.py``: the websocket URL is the REST base with ``http`` turned ``ws`` plus
``/ws``, a ping every 50 s, and the text ``Websocket connection established.`` may greet a
connection. ccxt 4.5.90 ``pro/hyperliquid.py`` pings every 20 s; its ``watch_trades`` keeps the
users only in each trade's ``info`` and, as every ccxt.pro watch, answers only a call already
waiting, so trades read together from the socket would be lost between two calls: this adapter
reads the socket itself through aiohttp (ccxt.pro's own transport).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

import aiohttp

from liqmap.policies.retry import RetryPolicy, retry_call

log = logging.getLogger(__name__)

TRADES_URL = "wss://api.hyperliquid.xyz/ws"
"""Where the trades are read unless the settings point elsewhere."""
GREETING = "Websocket connection established."
PING_SECONDS = 20.0
"""A ping this often (ccxt's pace; the server closes a connection quiet for 60 s)."""
SILENT_SECONDS = 50.0
"""Nothing heard for this long, pongs included: the connection is taken for dead."""
RECONNECT = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=60.0)
"""Reconnects: at once after a healthy connection is lost, else 1 s, 2 s ... up to a minute."""
ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def trades_url(rest_url: str | None, ws_origin: str | None) -> str:
    """Where the trades channel is: ``LIQMAP_HYPERLIQUID_WS_URL``'s origin plus ``/ws``; else
    the REST URL (``LIQMAP_HYPERLIQUID_URL``, one host serves both) with ``http`` turned
    ``ws`` plus ``/ws``; else Hyperliquid's public one."""
    if ws_origin:
        return ws_origin.rstrip("/") + "/ws"
    if rest_url:
        return "ws" + rest_url.rstrip("/").removeprefix("http") + "/ws"
    return TRADES_URL


def account_address(value: object) -> str | None:
    """``value`` as an account address (``0x`` and 40 hex digits, lower case), else None."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    return address if ADDRESS.fullmatch(address) else None


@dataclass(frozen=True)
class Sighting:
    """An account seen on trades: when last, and the USD of its largest trade seen."""

    address: str
    seen_ms: int
    usd: float


class FeedDown(Exception):
    """The connection was refused, lost or went silent: worth trying again later."""


class TradeAddresses:
    """The accounts on the trades of ``coins``, kept until ``take``. ``run`` connects,
    subscribes, pings every ``ping_seconds`` and reconnects after a drop (pausing as
    ``retry`` says) until cancelled. A frame that is not JSON, a trades message without a
    list, a trade without two addresses or a positive price and size is skipped and counted."""

    def __init__(
        self,
        url: str,
        coins: Collection[str],
        clock: Callable[[], int] | None = None,
        ping_seconds: float = PING_SECONDS,
        silent_seconds: float = SILENT_SECONDS,
        retry: RetryPolicy = RECONNECT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = url
        self.coins = tuple(dict.fromkeys(coins))
        self.connected = False
        """Connected, and at least one subscription acknowledged."""
        self.trades = 0
        """Trades read since the start, skipped ones included."""
        self.skipped = 0
        """Malformed frames and trades skipped since the start."""
        self.reconnects = 0
        self.last_error: str | None = None
        self.last_heard_ms: int | None = None
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._ping_seconds = ping_seconds
        self._silent_seconds = silent_seconds
        self._retry = retry
        self._sleep = sleep
        self._seen: dict[str, Sighting] = {}
        self._was_up = False

    def take(self) -> list[Sighting]:
        """The accounts seen since the last call, each once."""
        seen, self._seen = list(self._seen.values()), {}
        return seen

    async def run(self) -> None:
        """Read trades until cancelled."""

        def retrying(exc: BaseException, delay: float) -> None:
            self.last_error = str(exc)
            log.warning("hyperliquid trades: %s; reconnecting in %.1fs", exc, delay)

        async with aiohttp.ClientSession() as session:
            try:
                while True:
                    await retry_call(
                        lambda: self._session(session), self._retry, (FeedDown,), retrying,
                        self._sleep,
                    )  # fmt: skip
            finally:
                self.connected = False

    async def _session(self, session: aiohttp.ClientSession) -> None:
        """One connection, until lost (``FeedDown``; a return instead after a connection that
        was up longer than the longest pause, so that the next try starts at once)."""
        try:
            ws = await session.ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise FeedDown(f"cannot connect to {self.url}: {_reason(exc)}") from exc
        if self._was_up:
            self.reconnects += 1
        self._was_up = True
        opened = time.monotonic()
        pinging = asyncio.create_task(self._ping(ws))
        try:
            for coin in self.coins:
                subscription = {"type": "trades", "coin": coin}
                await ws.send_str(json.dumps({"method": "subscribe", "subscription": subscription}))
            await self._read(ws)
        except FeedDown as exc:
            if time.monotonic() - opened > self._retry.max_delay:
                self.last_error = str(exc)
                log.warning("hyperliquid trades: %s; reconnecting", exc)
                return
            raise
        except (aiohttp.ClientError, OSError) as exc:
            raise FeedDown(f"connection lost: {_reason(exc)}") from exc
        finally:
            self.connected = False
            pinging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinging
            await ws.close()

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(aiohttp.ClientError, OSError, ConnectionError):
            while True:
                await asyncio.sleep(self._ping_seconds)
                await ws.send_str('{"method": "ping"}')

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            try:
                message = await ws.receive(timeout=self._silent_seconds)
            except TimeoutError:
                raise FeedDown(f"nothing heard for {self._silent_seconds:g}s") from None
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                self.last_heard_ms = self._clock()
                data = message.data
                self.hear(data if isinstance(data, str) else data.decode("utf-8", "replace"))
            elif message.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                self.last_heard_ms = self._clock()
            else:  # closed by the server, or the connection failed
                raise FeedDown(f"connection closed ({message.type.name.lower()})")

    def hear(self, text: str) -> None:
        """Take in one text frame from the server: acknowledgements, errors and trades."""
        if text == GREETING:
            return
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            self._skip(text)
            return
        channel = frame.get("channel")
        if channel == "subscriptionResponse":
            self.connected = True
        elif channel == "error":
            self.last_error = f"refused: {str(frame.get('data'))[:200]}"
            log.warning("hyperliquid trades: %s", self.last_error)
        elif channel == "trades":
            trades = frame.get("data")
            if not isinstance(trades, list):
                self._skip(text)
                return
            now = self._clock()
            for trade in trades:
                self.trades += 1
                if not self._trade(trade, now):
                    self._skip(str(trade))

    def _trade(self, trade: Any, now: int) -> bool:
        """Note both accounts of ``trade``; False if it is not a trade."""
        if not isinstance(trade, dict):
            return False
        users = trade.get("users")
        if not isinstance(users, list) or len(users) != 2:
            return False
        addresses = [account_address(user) for user in users]
        usd = _positive(trade.get("px")) * _positive(trade.get("sz"))
        if None in addresses or not (math.isfinite(usd) and usd > 0):
            return False
        for address in addresses:
            assert address is not None
            known = self._seen.get(address)
            self._seen[address] = Sighting(address, now, max(usd, known.usd if known else 0.0))
        return True

    def _skip(self, what: str) -> None:
        self.skipped += 1
        log.debug("hyperliquid trades: skipped %s", what[:200])


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _positive(value: object) -> float:
    """A decimal string as a finite positive number; NaN for anything else."""
    if not isinstance(value, str):
        return math.nan
    try:
        number = float(value)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) and number > 0 else math.nan
