"""Live liquidations from the exchanges' public websockets: the one adapter to ccxt.pro.

ccxt.pro connects, subscribes, pings every ``KEEPALIVE_MS`` and fails a watch when the
connection is lost, goes silent (two pings unanswered) or a subscription is refused. The rows
themselves are read from every message as the exchange sent it (``_Tapped.handle_message``),
for two reasons found in ccxt 4.5.90: OKX's parser reads only the first of a message's
``details``, and a watch answers only a call already waiting, so messages read together from
the socket would be lost between two calls. A message ccxt cannot digest is logged and
counted, never allowed to stop ccxt's receive loop. Every frame heard from the exchange (a
liquidation, an answer to a ping) is a sign of life: ``last_heard_ms``; aiohttp's own notice
that the connection closed or failed is not.

Sizes become base coins and USD by the contract: ``qty × contract_size`` is base coins for
a linear contract (USD = that × price) and USD for an inverse one (coins = USD / price).
OKX sends contracts (``ctVal`` per contract), Binance USD-M and Bybit linear base coins
(contract size 1), Bybit inverse USD contracts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType

from liqmap.engine.clusters import LONG, SHORT
from liqmap.engine.realized import SAMPLED_VENUES, Realized
from liqmap.exchanges.ccxt_client import MalformedData, error_text, new_client, wire_number
from liqmap.market.instruments import Instrument
from liqmap.market.venues import VENUES

log = logging.getLogger(__name__)

KEEPALIVE_MS = 15_000
"""ccxt pings this often (its own default is 18 s for OKX and Bybit, 3 minutes for Binance),
so a quiet but live stream is heard from at least this often."""

PUBLIC_REST: dict[str, str] = {
    "okx": "https://www.okx.com",
    "binance": "https://fapi.binance.com",
    "bybit": "https://api.bybit.com",
}
"""The public REST hosts (as in ``.env.example``): overriding REST with one of these does not
call for a websocket override."""
HEARD = frozenset({WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG})
"""Frames the exchange sent. ccxt's client also hands over aiohttp's CLOSING, CLOSED and ERROR
notices, made on our side when the keepalive gives up on a silent connection: stamping those
as heard would count the silence as watched."""


def recordable(venue: str, rest_url: str | None, ws_url: str | None) -> bool:
    """Whether the venue's websocket host is known to match its REST host: both default,
    the REST URL is the public one, or the websocket URL is given too."""
    return ws_url is not None or rest_url in (None, PUBLIC_REST[venue])


class StreamDown(Exception):
    """The stream was refused or lost, or a subscription failed: worth trying again later."""


@dataclass
class _Parsed:
    acks: int = 0
    rows: list[Realized] = field(default_factory=list)
    skipped: int = 0


Watched = Mapping[str, Instrument]
"""The instruments watched on one venue by native id."""


class LiquidationStream:
    """One venue's public liquidations for a set of its instruments, through ccxt.pro.

    ``open`` subscribes (and returns once the exchange acknowledged it), ``wait`` lets it run
    (raising ``StreamDown`` as soon as it fails), ``take`` hands over the rows received since
    the last call; ``reset`` drops the connection, ``close`` the ccxt instance too.
    """

    def __init__(
        self,
        venue: str,
        ws_url: str | None = None,
        rest_url: str | None = None,
        clock: Callable[[], int] | None = None,
        ccxt_config: Mapping[str, Any] | None = None,
        subscribe_seconds: float = 10.0,
    ) -> None:
        self.venue = venue
        self.skipped = 0
        """Liquidation messages (or entries) skipped as malformed, since the start."""
        self.last_heard_ms: int | None = None
        """When the exchange last sent anything: a message, a ping, an answer to ours."""
        self.subscribed_ms: int | None = None
        """When the exchange acknowledged the last subscription ``open`` waited for."""
        self._ws_url = ws_url
        self._rest_url = rest_url
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._ccxt_config = {"streaming": {"keepAlive": KEEPALIVE_MS}, **(ccxt_config or {})}
        self._subscribe_seconds = subscribe_seconds
        self._exchange: Any = None
        self._watched: dict[str, Instrument] = {}
        self._rows: list[Realized] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._acks = 0
        self._expected = 0
        self._progress = asyncio.Event()
        self._failed = asyncio.Event()
        self._failure: BaseException | None = None

    @property
    def note(self) -> str:
        """How much of the venue's liquidations its feed carries ("" for all)."""
        return SAMPLED_VENUES.get(self.venue, "")

    async def open(self, instruments: Collection[Instrument]) -> None:
        """Connect and subscribe to ``instruments`` (all on this venue); return once the
        exchange acknowledged every subscription. Raises ``StreamDown``."""
        import ccxt.pro as ccxt

        await self.reset()
        self._watched = {inst.native_id: inst for inst in instruments}
        exchange = self._client()
        # Our RetryPolicy paces reconnects; ccxt's own dial backoff would add its pauses.
        exchange.ws_dial_backoff = {}
        try:
            await exchange.load_markets()
        except (ccxt.BaseError, MalformedData) as exc:
            raise StreamDown(f"cannot load {self.venue} markets: {error_text(exc, 200)}") from exc
        calls = _watch_calls(exchange, list(instruments))
        self._expected = len(calls)
        self._tasks = [asyncio.create_task(self._watch(call)) for call in calls]
        try:
            async with asyncio.timeout(self._subscribe_seconds):
                while self.subscribed_ms is None and self._failure is None:
                    await self._progress.wait()
                    self._progress.clear()
        except TimeoutError:
            raise StreamDown(
                f"{self.venue} did not acknowledge the subscription in {self._subscribe_seconds:g}s"
            ) from None
        self._raise_failure()

    async def wait(self, seconds: float) -> None:
        """Let the stream run for ``seconds``; raise ``StreamDown`` as soon as it fails."""
        try:
            async with asyncio.timeout(seconds):
                await self._failed.wait()
        except TimeoutError:
            return
        self._raise_failure()

    def take(self) -> list[Realized]:
        """The rows received since the last call, in order of arrival."""
        rows, self._rows = self._rows, []
        return rows

    async def reset(self) -> None:
        """Stop watching and close the connection; received rows stay for ``take``."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._exchange is not None:
            await self._exchange.close_ws_clients()
        self._acks = self._expected = 0
        self.subscribed_ms = None
        self._failure = None
        self._failed.clear()
        self._progress.clear()

    async def close(self) -> None:
        """Close the connection and the ccxt instance."""
        await self.reset()
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            await exchange.close()

    # -- plumbing --------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._exchange is None:
            import ccxt.pro

            stream, venue = self, VENUES[self.venue]

            class _Tapped(
                getattr(ccxt.pro, venue.ccxt_id)  # type: ignore[misc]  # ccxt.pro is untyped
            ):
                def handle_message(self, client: Any, message: Any) -> None:
                    stream._on_message(message)
                    try:
                        super().handle_message(client, message)
                    except Exception:  # its receive loop would stop for good
                        log.debug("ccxt could not handle a %s message", stream.venue, exc_info=True)

                def client(self, url: str) -> Any:
                    client = super().client(url)
                    if not getattr(client, "liqmap_tapped", False):
                        client.handle_message = stream.tap_frames(client.handle_message)
                        client.liqmap_tapped = True
                    return client

            self._exchange = new_client(venue, self._rest_url, self._ccxt_config, _Tapped)
            if self._ws_url:
                _point_websocket(self._exchange, self.venue, self._ws_url)
        return self._exchange

    async def _watch(self, call: Callable[[], Awaitable[Any]]) -> None:
        """Keep one ccxt watch waiting (its answers are ignored: rows come from the tap)
        until it fails."""
        import ccxt.pro as ccxt

        try:
            while True:
                await call()
        except ccxt.BaseError as exc:
            self._fail(StreamDown(f"{type(exc).__name__}: {error_text(exc, 200)}"))
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            self._fail(StreamDown("the connection was closed"))
        except Exception as exc:  # not the exchange's doing: surfaces from open/wait
            self._fail(exc)

    def _fail(self, failure: BaseException) -> None:
        if self._failure is None:
            self._failure = failure
        self._failed.set()
        self._progress.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def tap_frames(self, handle: Callable[[Any], None]) -> Callable[[Any], None]:
        """ccxt's frame handler (every frame: text, ping, pong, close), noting each frame the
        exchange sent as a sign of life (``HEARD``) and skipping a text frame that looks like
        JSON but is not: ccxt 4.5.90 decodes it inside its receive loop's callback, which
        would end the loop."""

        def handle_frame(frame: Any) -> None:
            if frame.type in HEARD:
                self.last_heard_ms = self._clock()
            try:
                handle(frame)
            except ValueError:  # json's and orjson's JSONDecodeError
                self.skipped += 1
                log.warning("skipped a %s frame that is not JSON: %.200r", self.venue, frame.data)

        return handle_frame

    def _on_message(self, message: Any) -> None:
        parsed = _PARSERS[self.venue](message, self._watched)
        if parsed.acks:
            self._acks += parsed.acks
            if self._acks >= self._expected and self.subscribed_ms is None:
                self.subscribed_ms = self._clock()
            self._progress.set()
        self._rows.extend(parsed.rows)
        if parsed.skipped:
            self.skipped += parsed.skipped
            log.warning(
                "skipped %d malformed %s liquidation(s): %.200s",
                parsed.skipped, self.venue, message,
            )  # fmt: skip


def _point_websocket(exchange: Any, venue: str, origin: str) -> None:
    """Send ccxt's websocket connections to ``origin``, each venue's own path kept."""
    urls = exchange.urls["api"]
    if venue == "okx":
        urls["ws"] = f"{origin}/ws/v5"  # ccxt adds /public
    elif venue == "binance":
        urls["ws"]["linear"] = f"{origin}/ws"  # ccxt makes it /market/ws/<stream index>
    else:
        for category in ("linear", "inverse"):
            urls["ws"]["public"][category] = f"{origin}/v5/public/{category}"


def _watch_calls(exchange: Any, instruments: list[Instrument]) -> list[Callable[[], Any]]:
    """One ccxt watch per subscription message: per contract kind where the exchange takes
    several symbols at once (OKX subscribes by instrument type), else per symbol (Bybit).
    Where ccxt caps the subscriptions of one stream (Binance: ``subscriptionLimitByStream``,
    200, and a larger watch raises BadRequest), each kind's symbols go in that many at a
    time, each batch on a stream of its own."""
    if not exchange.has.get("watchLiquidationsForSymbols"):
        return [_bind(exchange.watch_liquidations, inst.symbol) for inst in instruments]
    kinds: dict[str, list[str]] = {}
    for inst in instruments:
        kinds.setdefault(inst.kind, []).append(inst.symbol)
    caps = (exchange.options.get("subscriptionLimitByStream") or {}).values()
    batch = min((int(cap) for cap in caps), default=0) or len(instruments)
    return [
        _bind(exchange.watch_liquidations_for_symbols, symbols[start : start + batch])
        for symbols in kinds.values()
        for start in range(0, len(symbols), batch)
    ]


def _bind(method: Callable[[Any], Any], argument: Any) -> Callable[[], Any]:
    return lambda: method(argument)


# -- the venues' messages -----------------------------------------------------------------------


def _okx(message: Any, watched: Watched) -> _Parsed:
    """OKX ``liquidation-orders``: every instrument of the subscribed type, several
    ``details`` each; ``side`` is the order's (sell closes a long), ``posSide`` the
    position's in hedge mode (``net`` in net mode), ``sz`` contracts, ``bkPx`` the price."""
    if not isinstance(message, dict):
        return _Parsed()  # "pong"
    arg = message.get("arg")
    if not isinstance(arg, dict) or arg.get("channel") != "liquidation-orders":
        return _Parsed()
    if "event" in message:
        return _Parsed(acks=int(message["event"] == "subscribe"))
    parsed = _Parsed()
    entries = message.get("data")
    for entry in entries if isinstance(entries, list) else [None]:
        details = entry.get("details") if isinstance(entry, dict) else None
        inst_id = entry.get("instId") if isinstance(entry, dict) else None
        if not isinstance(details, list) or not isinstance(inst_id, str):
            parsed.skipped += 1
            continue
        inst = watched.get(inst_id)
        if inst is None:
            continue  # another instrument of the type: not watched
        for detail in details:
            detail = detail if isinstance(detail, dict) else {}
            side = _side({"sell": LONG, "buy": SHORT}, detail.get("side"))
            if detail.get("posSide") in (LONG, SHORT) and detail["posSide"] != side:
                side = None  # the order and the position disagree
            _add(parsed, inst, side, detail.get("bkPx"), detail.get("sz"), detail.get("ts"))
    return parsed


def _binance(message: Any, watched: Watched) -> _Parsed:
    """Binance ``forceOrder``: one liquidation order; ``S`` is the order's side (SELL
    closes a long), ``z`` the filled base quantity (else ``q``), ``ap`` the average price
    (else ``p``), ``T`` the trade time."""
    if not isinstance(message, dict):
        return _Parsed()
    if "id" in message and "result" in message:
        return _Parsed(acks=int(message["result"] is None))
    if message.get("e") != "forceOrder":
        return _Parsed()
    order = message.get("o")
    if not isinstance(order, dict) or not isinstance(order.get("s"), str):
        return _Parsed(skipped=1)
    parsed = _Parsed()
    inst = watched.get(order["s"])
    if inst is not None:
        side = _side({"SELL": LONG, "BUY": SHORT}, order.get("S"))
        price = order.get("ap", order.get("p"))
        quantity = order.get("z", order.get("q"))
        _add(parsed, inst, side, price, quantity, order.get("T"))
    return parsed


def _bybit(message: Any, watched: Watched) -> _Parsed:
    """Bybit ``allLiquidation``: ``S`` is the position's side ("When you receive a Buy
    update, this means that a long position has been liquidated"), ``v`` the size, ``p``
    the bankruptcy price, ``T`` the time."""
    if not isinstance(message, dict):
        return _Parsed()
    if message.get("op") == "subscribe":
        return _Parsed(acks=int(message.get("success") is True))
    topic = message.get("topic")
    if not isinstance(topic, str) or not topic.startswith("allLiquidation."):
        return _Parsed()
    parsed = _Parsed()
    items = message.get("data")
    for item in items if isinstance(items, list) else [None]:
        if not isinstance(item, dict) or not isinstance(item.get("s"), str):
            parsed.skipped += 1
            continue
        inst = watched.get(item["s"])
        if inst is not None:
            side = _side({"Buy": LONG, "Sell": SHORT}, item.get("S"))
            _add(parsed, inst, side, item.get("p"), item.get("v"), item.get("T"))
    return parsed


_PARSERS: dict[str, Callable[[Any, Watched], _Parsed]] = {
    "okx": _okx,
    "binance": _binance,
    "bybit": _bybit,
}


def _side(sides: Mapping[str, str], value: object) -> str | None:
    """The side a wire value names, None for any other value."""
    return sides.get(value) if isinstance(value, str) else None


def _add(
    parsed: _Parsed, inst: Instrument, side: str | None, price: Any, quantity: Any, ts: Any
) -> None:
    """Add the row these wire values make, or count them skipped when one is missing or
    impossible (no side, a price or size not above zero, no time)."""
    price, quantity, when = _positive(price), _positive(quantity), _positive(ts)
    if side is None or price is None or quantity is None or when is None:
        parsed.skipped += 1
        return
    units = quantity * inst.contract_size
    amount, usd = (units, units * price) if inst.linear else (units / price, units)
    parsed.rows.append(Realized(inst.exchange, inst.native_id, side, price, amount, usd, int(when)))


def _positive(value: Any) -> float | None:
    number = wire_number(value)
    return number if number is not None and number > 0 else None
