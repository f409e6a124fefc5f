"""What the liquidation-feed tests need of each venue: its fakes, ids and malformed messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liqmap.engine.realized import Realized
from liqmap.market.instruments import Instrument
from tests.fakes.liquidation_ws import FakeBinanceWs, FakeBybitWs, FakeOkxWs, FakeWsServer, Liq

T0 = 1_795_000_000_000
"""Exchange time of the first test liquidation."""

Mutation = Callable[[dict[str, Any]], None]


def _okx_detail(message: dict[str, Any]) -> dict[str, Any]:
    return message["data"][0]["details"][0]


def _binance_order(message: dict[str, Any]) -> dict[str, Any]:
    return message["o"]


def _bybit_item(message: dict[str, Any]) -> dict[str, Any]:
    return message["data"][0]


@dataclass(frozen=True)
class FeedVenue:
    name: str
    ws: Callable[[], FakeWsServer]
    """A started-later fake sending each liquidation at once (Binance's sampling has its own
    tests)."""
    btc: str
    eth: str
    other: str
    """An instrument the venue lists that the tests do not watch."""
    malformed: dict[str, Mutation]
    """Ways to spoil a one-liquidation message, each skipped as one malformed entry."""

    def message(self, fake: FakeWsServer, liq: Liq) -> dict[str, Any]:
        return fake.message(liq)  # type: ignore[attr-defined]

    def spoiled(self, fake: FakeWsServer, liq: Liq) -> list[dict[str, Any]]:
        """One message per mutation, built from ``liq``."""
        spoiled = []
        for mutate in self.malformed.values():
            message = copy.deepcopy(self.message(fake, liq))
            mutate(message)
            spoiled.append(message)
        return spoiled


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(message: dict[str, Any]) -> None:
        path(message)[key] = value

    return mutate


def _drop(path: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    def mutate(message: dict[str, Any]) -> None:
        del path(message)[key]

    return mutate


def _replace(key: str, value: Any) -> Mutation:
    def mutate(message: dict[str, Any]) -> None:
        message[key] = value

    return mutate


OKX = FeedVenue(
    name="okx",
    ws=FakeOkxWs,
    btc="BTC-USDT-SWAP",
    eth="ETH-USDT-SWAP",
    other="SOL-USDT-SWAP",
    malformed={
        "no price": _drop(_okx_detail, "bkPx"),
        "size not a number": _set(_okx_detail, "sz", "1O"),
        "zero price": _set(_okx_detail, "bkPx", "0"),
        "negative size": _set(_okx_detail, "sz", "-3"),
        "no time": _drop(_okx_detail, "ts"),
        "unknown order side": _set(_okx_detail, "side", "hold"),
        "side not text": _set(_okx_detail, "side", ["sell"]),
        "side and position disagree": _set(_okx_detail, "posSide", "short"),
        "no instrument": _drop(lambda m: m["data"][0], "instId"),
        "data not a list": _replace("data", {"instId": "BTC-USDT-SWAP"}),
    },
)

BINANCE = FeedVenue(
    name="binance",
    ws=lambda: FakeBinanceWs(snapshot_ms=0),
    btc="BTCUSDT",
    eth="ETHUSDT",
    other="SOLUSDT",
    malformed={
        "no order": _drop(lambda m: m, "o"),
        "no symbol": _drop(_binance_order, "s"),
        "unknown side": _set(_binance_order, "S", "HOLD"),
        "side not text": _set(_binance_order, "S", ["SELL"]),
        "filled not a number": _set(_binance_order, "z", "NaN"),
        "negative average price": _set(_binance_order, "ap", "-5"),
        "zero filled": _set(_binance_order, "z", "0"),
        "no trade time": _drop(_binance_order, "T"),
    },
)

BYBIT = FeedVenue(
    name="bybit",
    ws=FakeBybitWs,
    btc="BTCUSDT",
    eth="ETHUSDT",
    other="SOLUSDT",
    malformed={
        "no price": _drop(_bybit_item, "p"),
        "size not a number": _set(_bybit_item, "v", "x"),
        "zero size": _set(_bybit_item, "v", "0"),
        "unknown side": _set(_bybit_item, "S", "None"),
        "side not text": _set(_bybit_item, "S", {"Buy": 1}),
        "no symbol": _drop(_bybit_item, "s"),
        "no time": _drop(_bybit_item, "T"),
        "data not a list": _replace("data", "oops"),
    },
)

FEEDS: dict[str, FeedVenue] = {venue.name: venue for venue in (OKX, BINANCE, BYBIT)}


def expected(inst: Instrument, liq: Liq) -> Realized:
    """The row a liquidation of ``inst`` becomes: sizes by the contract, side as pushed."""
    units = liq.size * inst.contract_size
    amount, usd = (units, units * liq.price) if inst.linear else (units / liq.price, units)
    return Realized(inst.exchange, inst.native_id, liq.side, liq.price, amount, usd, liq.ts)


def liqs(native: str, count: int, start: int = T0, price: float = 60_000.0) -> list[Liq]:
    """``count`` liquidations of one instrument, sides alternating, a millisecond apart."""
    return [
        Liq(native, ("long", "short")[i % 2], price + 10 * i, 2.0 + i, start + i)
        for i in range(count)
    ]
