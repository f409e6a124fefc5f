"""Fake public websocket servers of OKX, Binance USD-M and Bybit, for their liquidation feeds.

Each runs an ``aiohttp.web`` server on 127.0.0.1 in its own event-loop thread and speaks the
venue's protocol as its docs describe it and ccxt.pro 4.5.90 uses it (``ccxt/pro/okx.py``,
``binance.py``, ``bybit.py``: ``watch_liquidations*``, ``handle_message``, ``ping``). Tests
push liquidations (``push``) or any frame (``send``), ping (``ping``), drop connections
(``drop``), go silent as a half-open connection does (``mute``), refuse handshakes for a while
(``refuse``/``accept``), stop and restart on the same port, and read what clients sent
(``received``) and what they are subscribed to (``subscriptions``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class Liq:
    """One forced close as a test describes it; each fake writes it in its venue's words."""

    instrument: str
    """The venue's id: ``BTC-USDT-SWAP`` on OKX, ``BTCUSDT`` on Binance and Bybit."""
    side: str
    """The position liquidated: ``long`` or ``short``."""
    price: float
    size: float
    """In the venue's unit: contracts on OKX, base coins on Binance and Bybit linear (USD
    contracts on Bybit inverse)."""
    ts: int


@dataclass(frozen=True)
class Received:
    """A text frame a client sent."""

    connection: int
    path: str
    text: str
    at: float


@dataclass
class _Connection:
    id: int
    path: str
    ws: web.WebSocketResponse
    transport: Any
    topics: set[str] = field(default_factory=set)
    muted: bool = False


def number(value: float) -> str:
    """A number as the venues write them: a decimal string."""
    return f"{value:.12g}"


class FakeWsServer:
    """The venue-independent part: connections, the log, faults and the server thread."""

    paths: tuple[str, ...] = ()
    """Paths served (prefixes); anything else is answered 404 like an unknown route."""
    idle_seconds: float | None = None
    """A connection the client says nothing on for this long is closed (None: never)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.handshakes = 0
        """Handshakes tried, refused ones included."""
        self.refused = 0
        self.swallowed = 0
        """Frames that reached a muted connection and were left unanswered (pings included)."""
        self._refusing: int | None = 0
        self._connections: dict[int, _Connection] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What ``LIQMAP_<VENUE>_WS_URL`` takes: scheme, host and port."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> Self:
        """Serve on ``port`` (0: a free one); again on the old port ends an outage."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = self._call(self._serve(port))
        return self

    def stop(self) -> None:
        """Close every connection (no close frame) and stop listening."""
        if self._loop is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ---------------------------------------------------------------------

    def refuse(self, times: int | None = None) -> None:
        """Answer the next ``times`` handshakes (None: all until ``accept``) with HTTP 503."""
        with self._lock:
            self._refusing = times

    def accept(self) -> None:
        with self._lock:
            self._refusing = 0

    def drop(self) -> None:
        """Cut every connection as a network fault does: no close frame."""
        self._call(self._drop())

    def mute(self) -> None:
        """Let the connections open now go silent without closing, as half-open ones do:
        nothing more is answered (pings included) or sent on them. New ones work."""
        with self._lock:
            for conn in self._connections.values():
                conn.muted = True

    def ping(self) -> None:
        """Send a protocol ping frame on every connection (Binance does every 3 minutes)."""
        self._call(self._ping())

    def send(self, frame: dict[str, Any] | list[Any] | str, topic: str | None = None) -> None:
        """Send a frame as JSON (a string as is) to connections subscribed to ``topic``
        (None: to every connection)."""
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self._call(self._broadcast(text, topic))

    @property
    def connections(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._connections)

    def subscriptions(self) -> set[str]:
        """Topics some open connection is subscribed to."""
        with self._lock:
            return set().union(*(c.topics for c in self._connections.values()))

    def sent_json(self) -> list[Any]:
        """What clients sent, decoded where it is JSON."""
        with self._lock:
            frames = [r.text for r in self.received]
        decoded = []
        for text in frames:
            try:
                decoded.append(json.loads(text))
            except ValueError:
                decoded.append(text)
        return decoded

    async def wait_for(self, condition: Callable[[], bool], within: float = 30.0) -> None:
        """Wait (in the test's event loop) until ``condition()`` holds; a generous deadline, as
        it only bounds how long a failing test takes to say so."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{type(self).__name__}: condition not met in {within}s")
            await asyncio.sleep(0.01)

    # -- the venue's protocol (subclasses) -------------------------------------------------

    async def on_open(self, conn: _Connection) -> None:
        """What the venue says first on a new connection (nothing, unless a subclass says)."""

    async def on_text(self, conn: _Connection, text: str) -> None:
        raise NotImplementedError

    def push(self, *liqs: Liq) -> None:
        """Publish forced closes as the venue would."""
        raise NotImplementedError

    async def reply(self, conn: _Connection, payload: dict[str, Any] | str) -> None:
        await conn.ws.send_str(payload if isinstance(payload, str) else json.dumps(payload))

    # -- serving ---------------------------------------------------------------------------

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None, "server not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _serve(self, port: int) -> int:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        return self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        await self._drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _drop(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for conn in connections:
            conn.transport.abort()

    async def _broadcast(self, text: str, topic: str | None) -> None:
        with self._lock:
            targets = [c for c in self._connections.values() if topic is None or topic in c.topics]
        for conn in targets:
            if not conn.ws.closed and not conn.muted:
                await conn.ws.send_str(text)

    async def _ping(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
        for conn in connections:
            await conn.ws.ping()

    def _take_refusal(self) -> bool:
        with self._lock:
            if self._refusing == 0:
                return False
            if self._refusing is not None:
                self._refusing -= 1
            self.refused += 1
            return True

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not any(request.path.startswith(path) for path in self.paths):
            return web.Response(status=404, text="Not Found")
        with self._lock:
            self.handshakes += 1
        if self._take_refusal():
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(autoping=False)  # pings are answered in _read
        await ws.prepare(request)
        conn = _Connection(next(self._ids), request.path, ws, request.transport)
        with self._lock:
            self._connections[conn.id] = conn
        try:
            await self.on_open(conn)
            await self._read(conn)
        finally:
            with self._lock:
                self._connections.pop(conn.id, None)
        return ws

    async def _read(self, conn: _Connection) -> None:
        while True:
            try:
                message = await conn.ws.receive(timeout=self.idle_seconds)
            except TimeoutError:
                await conn.ws.close()
                return
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if conn.muted:
                with self._lock:
                    self.swallowed += 1
                continue
            if message.type == WSMsgType.PING:
                await conn.ws.pong(message.data)
            elif message.type == WSMsgType.TEXT:
                with self._lock:
                    self.received.append(Received(conn.id, conn.path, message.data, time.time()))
                await self.on_text(conn, message.data)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- OKX ----------------------------------------------------------------------------------------


class FakeOkxWs(FakeWsServer):
    """OKX v5 public websocket, ``liquidation-orders`` channel.

    OKX docs, WebSocket "Liquidation orders channel" (URL path /ws/v5/public; subscribe by
    ``instType``, which pushes every instrument of that type; ``details[].side`` is the
    order side, ``posSide`` long/short in hedge mode and net in net mode, ``sz`` in contracts
    for SWAP/FUTURES, ``bkPx`` the bankruptcy price, ``ts`` ms); "Overview, connect": a text
    ``ping`` is answered ``pong``, and a connection that sends nothing for 30 s is closed.
    Acks and errors: ``{"event":"subscribe","arg":{...},"connId":...}``,
    ``{"event":"error","code":"60018","msg":...}`` (the codes ccxt's okx.py maps).
    """

    paths = ("/ws/v5/public",)
    idle_seconds = 30.0
    INST_TYPES = ("SWAP", "FUTURES", "MARGIN", "OPTION")

    def __init__(self, pos_mode: str = "long_short") -> None:
        super().__init__()
        self.pos_mode = pos_mode
        """``long_short`` (hedge: posSide long/short) or ``net`` (posSide net)."""

    async def on_text(self, conn: _Connection, text: str) -> None:
        if text == "ping":
            await self.reply(conn, "pong")
            return
        request = _json(text)
        if not isinstance(request, dict) or request.get("op") not in ("subscribe", "unsubscribe"):
            await self.reply(conn, self._error("60012", f"Illegal request: {text}"))
            return
        for arg in request.get("args") or []:
            channel, inst_type = arg.get("channel"), arg.get("instType")
            if channel != "liquidation-orders" or inst_type not in self.INST_TYPES:
                await self.reply(
                    conn,
                    self._error(
                        "60018",
                        f"Wrong URL or channel:{channel},instType:{inst_type} doesn't exist. "
                        "Please use the correct URL, channel and parameters referring to API "
                        "document.",
                    ),
                )
                continue
            topic = f"{channel}:{inst_type}"
            if request["op"] == "subscribe":
                conn.topics.add(topic)
            else:
                conn.topics.discard(topic)
            ack = {"event": request["op"], "arg": arg, "connId": f"{conn.id:08x}"}
            if "id" in request:
                ack["id"] = request["id"]
            await self.reply(conn, ack)

    @staticmethod
    def _error(code: str, msg: str) -> dict[str, str]:
        return {"event": "error", "code": code, "msg": msg, "connId": "0a1b2c3d"}

    @staticmethod
    def inst_type(inst_id: str) -> str:
        return "SWAP" if inst_id.endswith("-SWAP") else "FUTURES"

    def message(self, *liqs: Liq) -> dict[str, Any]:
        """One push: an entry per instrument, its liquidations in ``details``."""
        inst_type = self.inst_type(liqs[0].instrument)
        data = []
        for inst_id in dict.fromkeys(liq.instrument for liq in liqs):
            family = "-".join(inst_id.split("-")[:2])
            details = [
                {
                    "bkLoss": "0",
                    "bkPx": number(liq.price),
                    "ccy": "",
                    "posSide": liq.side if self.pos_mode == "long_short" else "net",
                    "side": "sell" if liq.side == "long" else "buy",
                    "sz": number(liq.size),
                    "ts": str(liq.ts),
                }
                for liq in liqs
                if liq.instrument == inst_id
            ]
            data.append(
                {
                    "details": details,
                    "instFamily": family,
                    "instId": inst_id,
                    "instType": inst_type,
                    "uly": family,
                }
            )
        return {"arg": {"channel": "liquidation-orders", "instType": inst_type}, "data": data}

    def push(self, *liqs: Liq) -> None:
        for inst_type in dict.fromkeys(self.inst_type(liq.instrument) for liq in liqs):
            mine = [liq for liq in liqs if self.inst_type(liq.instrument) == inst_type]
            self.send(self.message(*mine), topic=f"liquidation-orders:{inst_type}")


# -- Binance ------------------------------------------------------------------------------------


class FakeBinanceWs(FakeWsServer):
    """Binance USD-M futures market streams, ``<symbol>@forceOrder``.

    Binance docs, USDⓈ-M Futures "Websocket Market Streams" (``/market/ws`` for market data
    since the 2025 split; ccxt's ``get_ws_url`` rewrites ``.../ws`` to ``.../market/ws/<n>``;
    ``{"method":"SUBSCRIBE","params":[...],"id":N}`` answered ``{"result":null,"id":N}``, a bad
    stream ``{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":N}``) and
    "Liquidation Order Streams": ``S`` is the liquidation order's side (SELL closes a long),
    ``q``/``z`` base quantities, ``p``/``ap`` price and average price, ``T`` trade time;
    "For each symbol, only the latest one liquidation order within 1000ms will be pushed as
    the snapshot" (``snapshot_ms``; 0 sends each at once).
    """

    paths = ("/market/ws", "/ws")

    def __init__(self, snapshot_ms: int = 1000) -> None:
        super().__init__()
        self.snapshot_ms = snapshot_ms
        self._pending: dict[str, Liq] = {}
        self._sending: set[asyncio.Task] = set()

    async def on_text(self, conn: _Connection, text: str) -> None:
        request = _json(text)
        if not isinstance(request, dict) or "id" not in request:
            await self.reply(conn, {"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        method, streams = request.get("method"), request.get("params") or []
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not all(
            isinstance(s, str) and (s.endswith("@forceOrder") or s == "!forceOrder@arr")
            for s in streams
        ):
            error = {"code": 2, "msg": "Invalid request: invalid stream"}
            await self.reply(conn, {"error": error, "id": request["id"]})
            return
        for stream in streams:
            (conn.topics.add if method == "SUBSCRIBE" else conn.topics.discard)(stream)
        await self.reply(conn, {"result": None, "id": request["id"]})

    @staticmethod
    def message(liq: Liq) -> dict[str, Any]:
        return {
            "e": "forceOrder",
            "E": liq.ts + 2,
            "o": {
                "s": liq.instrument,
                "S": "SELL" if liq.side == "long" else "BUY",
                "o": "LIMIT",
                "f": "IOC",
                "q": number(liq.size),
                "p": number(liq.price * (0.995 if liq.side == "long" else 1.005)),
                "ap": number(liq.price),
                "X": "FILLED",
                "l": number(liq.size),
                "z": number(liq.size),
                "T": liq.ts,
            },
        }

    def push(self, *liqs: Liq) -> None:
        for liq in liqs:
            if self.snapshot_ms <= 0:
                self._publish(liq)
                continue
            assert self._loop is not None
            with self._lock:
                opens_window = liq.instrument not in self._pending
                self._pending[liq.instrument] = liq
            if opens_window:
                self._loop.call_soon_threadsafe(
                    self._loop.call_later, self.snapshot_ms / 1000, self._flush, liq.instrument
                )

    def _flush(self, symbol: str) -> None:
        with self._lock:
            liq = self._pending.pop(symbol, None)
        if liq is not None:
            task = asyncio.ensure_future(self._send_liq(liq))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _publish(self, liq: Liq) -> None:
        self._call(self._send_liq(liq))

    async def _send_liq(self, liq: Liq) -> None:
        text = json.dumps(self.message(liq))
        await self._broadcast(text, f"{liq.instrument.lower()}@forceOrder")
        await self._broadcast(text, "!forceOrder@arr")


# -- Bybit --------------------------------------------------------------------------------------


class FakeBybitWs(FakeWsServer):
    """Bybit v5 public websocket, ``allLiquidation.{symbol}``.

    Bybit docs, v5 WebSocket "Connect" (``/v5/public/linear`` and ``/v5/public/inverse``;
    ``{"op":"subscribe","args":[topics],"req_id":...}`` answered
    ``{"success":true,"ret_msg":"","conn_id":...,"req_id":...,"op":"subscribe"}``; ``{"op":
    "ping"}`` answered ``{"success":true,"ret_msg":"pong",...,"op":"ping"}``) and "All
    Liquidation" (push every 500 ms; ``S`` "Position side ... When you receive a Buy update,
    this means that a long position has been liquidated"; ``v`` executed size, ``p``
    bankruptcy price, ``T`` ms).
    """

    paths = ("/v5/public/linear", "/v5/public/inverse")

    async def on_text(self, conn: _Connection, text: str) -> None:
        request = _json(text)
        conn_id = f"d{conn.id:07d}-{conn.path.rsplit('/', 1)[-1]}"
        if not isinstance(request, dict):
            await self.reply(conn, self._answer(False, "error:invalid op", "", {}, conn_id))
            return
        op, req_id = request.get("op"), request.get("req_id", "")
        if op == "ping":
            await self.reply(conn, self._answer(True, "pong", "ping", request, conn_id))
            return
        topics = request.get("args") or []
        if op not in ("subscribe", "unsubscribe"):
            await self.reply(conn, self._answer(False, "error:invalid op", op, request, conn_id))
            return
        bad = [t for t in topics if not (isinstance(t, str) and t.startswith("allLiquidation."))]
        if bad:
            message = f"error:handler not found,topic:{bad[0]}"
            await self.reply(conn, self._answer(False, message, op, request, conn_id))
            return
        for topic in topics:
            (conn.topics.add if op == "subscribe" else conn.topics.discard)(topic)
        answer = {"success": True, "ret_msg": "", "conn_id": conn_id, "req_id": req_id, "op": op}
        await self.reply(conn, answer)

    @staticmethod
    def _answer(ok: bool, text: str, op: str, request: dict, conn_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"success": ok, "ret_msg": text, "conn_id": conn_id}
        if "req_id" in request:
            answer["req_id"] = request["req_id"]
        answer["op"] = op
        return answer

    @staticmethod
    def message(*liqs: Liq) -> dict[str, Any]:
        """One push of one symbol's liquidations."""
        return {
            "topic": f"allLiquidation.{liqs[0].instrument}",
            "type": "snapshot",
            "ts": max(liq.ts for liq in liqs) + 5,
            "data": [
                {
                    "T": liq.ts,
                    "s": liq.instrument,
                    "S": "Buy" if liq.side == "long" else "Sell",
                    "v": number(liq.size),
                    "p": number(liq.price),
                }
                for liq in liqs
            ],
        }

    def push(self, *liqs: Liq) -> None:
        for symbol in dict.fromkeys(liq.instrument for liq in liqs):
            mine = [liq for liq in liqs if liq.instrument == symbol]
            self.send(self.message(*mine), topic=f"allLiquidation.{symbol}")
