"""A fake Hyperliquid websocket (``/ws``): the public ``trades`` channel, pings, and the trades
of a ``FakeHyperliquid``'s accounts.

Evidence: Hyperliquid docs, "Websocket" (mainnet ``wss://api.hyperliquid.xyz/ws``; ``{ "method":
"subscribe", "subscription": { "type": "trades", "coin": "SOL" } }`` answered
``{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":
"trades","coin":"SOL"}}}``); "Websocket → Subscriptions" (``trades`` pushes ``WsTrade[]`` on the
channel ``trades``: ``WsTrade {coin, side, px, sz, hash, time, tid, users: [string, string] //
[buyer, seller]}``, ``unsubscribe`` with the same subscription); "Timeouts and heartbeats"
("The server will close any connection if it hasn't sent a message to it in the last 60
seconds"; ``{ "method": "ping" }`` answered ``{ "channel": "pong" }``). The greeting text
``Websocket connection established.`` is the one hyperliquid-python-sdk's
``websocket_manager.py`` (``on_message``) skips. A request the server cannot read is answered on
the ``error`` channel with ``Error parsing JSON into valid websocket request: ...`` (ccxt 4.5.90
``pro/hyperliquid.py``, ``handle_error_message``). Which side the 60 s idle clock counts is not
said; the fake closes a connection the client has said nothing on for ``idle_seconds``.
"""

from __future__ import annotations

import random
from typing import Any

from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.liquidation_ws import FakeWsServer, _Connection, _json

GREETING = "Websocket connection established."


class FakeHyperliquidWs(FakeWsServer):
    """Hyperliquid's public websocket for the ``trades`` channel, its trades drawn from the
    accounts of ``hyperliquid`` (the REST fake)."""

    paths = ("/ws",)
    idle_seconds = 60.0

    def __init__(self, hyperliquid: FakeHyperliquid, greet: bool = True) -> None:
        super().__init__()
        self.hyperliquid = hyperliquid
        self.greet = greet
        self._tid = 0

    async def on_open(self, conn: _Connection) -> None:
        if self.greet:
            await self.reply(conn, GREETING)

    async def on_text(self, conn: _Connection, text: str) -> None:
        request = _json(text)
        method = request.get("method") if isinstance(request, dict) else None
        if method == "ping":
            await self.reply(conn, {"channel": "pong"})
            return
        subscription = request.get("subscription") if isinstance(request, dict) else None
        if (
            method not in ("subscribe", "unsubscribe")
            or not isinstance(subscription, dict)
            or subscription.get("type") != "trades"
            or not isinstance(subscription.get("coin"), str)
        ):
            await self.reply(conn, {
                "channel": "error",
                "data": f"Error parsing JSON into valid websocket request: {text}",
            })  # fmt: skip
            return
        topic = f"trades:{subscription['coin']}"
        (conn.topics.add if method == "subscribe" else conn.topics.discard)(topic)
        await self.reply(conn, {
            "channel": "subscriptionResponse",
            "data": {"method": method, "subscription": subscription},
        })  # fmt: skip

    # -- trades ----------------------------------------------------------------------------

    def trade(
        self, coin: str, buyer: str, seller: str, px: float, sz: float, time_ms: int
    ) -> dict[str, Any]:
        """One ``WsTrade`` as the docs define it."""
        self._tid += 1
        return {
            "coin": coin, "side": random.Random(self._tid).choice("AB"),
            "px": f"{px:.1f}", "sz": f"{sz:.5f}", "hash": f"0x{self._tid:064x}",
            "time": time_ms, "tid": 10**14 + self._tid, "users": [buyer, seller],
        }  # fmt: skip

    def publish(
        self, coin: str, count: int, seed: int = 7, among: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Push ``count`` trades of ``coin`` between two of the REST fake's accounts (seeded;
        of ``among`` if given; else accounts holding ``coin`` where there are two), in one
        message; the trades pushed."""
        accounts = self.hyperliquid.accounts
        holders = [a for a, ps in accounts.items() if any(p.coin == coin for p in ps)]
        pool = among or (holders if len(holders) >= 2 else list(accounts))
        assert len(pool) >= 2, "open accounts on the REST fake first"
        rng = random.Random(seed)
        price = self.hyperliquid.tape(coin).last_price()
        now = self.hyperliquid.clock()
        trades = []
        for _ in range(count):
            buyer, seller = rng.sample(pool, 2)
            size = rng.uniform(1e3, 5e5) / price
            trades.append(self.trade(coin, buyer, seller, price, size, now))
        self.send({"channel": "trades", "data": trades}, topic=f"trades:{coin}")
        return trades
