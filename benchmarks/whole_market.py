"""The whole market on one box: 1,000 instruments on three venues, 10,000 chats, 30,000
subscriptions, the recorder on every watched instrument, 5-minute refreshes.

Run: ``python -m benchmarks.whole_market [--instruments 1000] [--chats 10000]
[--subscriptions 30000] [--cycles 3] [--burst 5000]``.

The service's own parts run in this process, as ``liqmap run`` wires them: ``MarketData`` at
ccxt's production pace (``--ccxt-rate-limit`` overrides it), the stores on one SQLite file,
the real refresh, price watch and delivery jobs (``AlertJobs``), the recorder
(``recorder_for``) and python-telegram-bot's ``ExtBot`` behind the service's own
``FairRateLimiter`` (30 messages a second). The fakes (OKX, Binance, Bybit, their
liquidation websockets, the Bot API answering 429 above 30 messages a second) run in a child
process, so the CPU time and peak RSS measured here are the service's alone.

Time: a virtual clock, shared with the fakes, drives the 5-minute cycles. Each cycle steps it
by the price interval (``LIQMAP_PRICE_SECONDS``, 15 s): at each step the watch job and the
delivery job run while the refresh job computes the maps that fall due by then (the refresh
spreads its instruments over 80% of the interval and waits on this clock, not on the wall).
So a cycle takes as long as its work, not 300 s. Real time where it must: ccxt's pacing of
requests, the Telegram rate limiter, the recorder's websockets and its one-second flushes.
The CPU share of a cycle is its CPU time over 300 s, plus the recorder's CPU rate measured
alone on the wall clock (it does not speed up with the virtual clock). A simulated day is
288 cycles: the database size after it is extrapolated from the measured cycles' growth, and
said so.

Alert latency: between cycles' steps the price of one instrument at a time is moved into its
nearest strong cluster on the fake; latency is from the fake serving the first price request
after the move (the tick that crosses) to each alert reaching the fake Bot API. The burst:
``--burst`` chats follow BTC on OKX; its price is moved into a cluster and the time to the
last of their alerts at the fake Bot API is measured, with the outbox counted against the
fake's received messages.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import multiprocessing
import os
import random
import resource
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram.ext import ExtBot

from bot.alert_sender import TelegramAlertSender
from bot.rate_limit import FairRateLimiter
from jobs.on_demand.maps import MapService
from jobs.scheduled.alert_jobs import AlertJobs
from jobs.scheduled.delivery import Delivery
from jobs.scheduled.recorder import recorder_for
from liqmap.config import Settings
from liqmap.exchanges.market_data import MarketData
from liqmap.policies.fair_use import SubscriptionLimits
from liqmap.policies.group_budget import GroupBudget
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import ALERT_WINDOW
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.binance import BinanceSymbol, FakeBinance, default_symbols
from tests.fakes.bybit import BybitInstrument, FakeBybit
from tests.fakes.bybit import default_instruments as bybit_defaults
from tests.fakes.liquidation_ws import FakeBinanceWs, FakeBybitWs, FakeOkxWs, Liq
from tests.fakes.okx import FakeOkx, OkxInstrument
from tests.fakes.okx import default_instruments as okx_defaults
from tests.fakes.telegram import FakeTelegram
from tests.support.chat_load import percentile

CYCLE_S = 300.0
"""``LIQMAP_REFRESH_SECONDS``' default."""
PRICE_S = 15.0
"""``LIQMAP_PRICE_SECONDS``' default."""
DAY_CYCLES = 288
TELEGRAM_PER_SECOND = 30
"""Bot FAQ, "My bot is hitting limits": about 30 messages a second overall."""
VENUES = ("okx", "binance", "bybit")
PRICE_PATHS = {
    "okx": "/api/v5/public/mark-price",
    "binance": "/fapi/v1/premiumIndex",
    "bybit": "/v5/market/tickers",
}

# -- the venues' published limits, and how they count ---------------------------------------

OKX_WINDOW_S = 2.0
OKX_PER_WINDOW = {
    "/api/v5/market/candles": 40,
    "/api/v5/market/history-candles": 20,
    "/api/v5/public/instruments": 20,
    "/api/v5/public/mark-price": 10,
    "/api/v5/market/tickers": 20,
    "/api/v5/public/position-tiers": 10,
    "/api/v5/rubik/stat/contracts/open-interest-history": 5,
}
"""OKX v5 docs, each public endpoint's "Rate Limit: N requests per 2 seconds", "Rate limit
rule: IP", counted per endpoint: 20 for most (``instruments``, ``history-candles``,
``tickers``), 40 for ``candles``, 10 for ``mark-price`` and ``position-tiers``, 5 for the rubik
open-interest history. ccxt 4.5.90's okx.py encodes them as costs at ``rateLimit`` 100 ms (plus
10%): ``market/candles`` 1/2, ``history-candles`` 1, ``public/mark-price`` 2 ... Endpoints
not listed are taken as 20."""
BINANCE_WEIGHT = (2400, 60.0)
"""Binance USD-M futures, GET /fapi/v1/exchangeInfo's ``rateLimits``: REQUEST_WEIGHT 2400 a
minute per IP (the fake lists the same)."""
BYBIT_REQUESTS = (600, 5.0)
"""Bybit v5 docs, Rate Limit Rules, "IP Limit": 600 requests within a 5-second window per
IP for HTTP requests."""


def binance_weight(path: str, query: dict[str, str]) -> int:
    """A request's weight, as Binance USD-M's endpoint pages give it and ccxt 4.5.90's
    binance.py (``fapiPublic``, ``fapiData``) counts it: klines by ``limit`` (<100: 1, <500:
    2, <=1000: 5, more: 10), premiumIndex 10, ticker/24hr 40 without a symbol, everything else
    1."""
    if path.startswith("/fapi/v1/klines"):
        limit = int(query.get("limit", "500"))
        return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10
    if path.startswith("/fapi/v1/premiumIndex"):
        return 10
    if path.startswith("/fapi/v1/ticker/24hr"):
        return 1 if "symbol" in query else 40
    return 1


CCXT_RATE_LIMIT_MS = {"okx": 110, "binance": 50, "bybit": 20}
"""ccxt 4.5.90's ``rateLimit`` of each venue: ms it waits per unit of a request's cost."""
OKX_COSTS = {
    "/api/v5/market/candles": 0.5,
    "/api/v5/public/mark-price": 2.0,
    "/api/v5/public/position-tiers": 2.0,
    "/api/v5/rubik/stat/contracts/open-interest-history": 2.0,
}
"""ccxt's okx.py costs that are not 1."""
BYBIT_COST = 5.0
"""ccxt's bybit.py: cost 5 on every public market endpoint."""


def ccxt_pace_s(venue: str, path: str, query: dict[str, str]) -> float:
    """Seconds ccxt's throttle spaces this request from the venue's next one."""
    if venue == "okx":
        cost = OKX_COSTS.get(path, 1.0)
    elif venue == "binance":
        cost = float(binance_weight(path, query))  # ccxt's costs there are the weights
    else:
        cost = BYBIT_COST
    return cost * CCXT_RATE_LIMIT_MS[venue] / 1000


# -- the fakes, in a child process -------------------------------------------------------------


def generated(instruments: int, now_ms: int) -> dict[str, list[Any]]:
    """The venues' default listings plus generated USDT perpetuals (``C0001`` ...), each in its
    venue's own instrument shape, until the three list ``instruments`` perpetuals together."""
    okx, binance, bybit = okx_defaults(now_ms), default_symbols(now_ms), bybit_defaults(now_ms)
    perps: dict[str, list[Any]] = {
        "okx": [i for i in okx if i.inst_type == "SWAP" and i.ct_type == "linear"],
        "binance": [s for s in binance if s.contract_type == "PERPETUAL"],
        "bybit": [i for i in bybit if i.contract_type == "LinearPerpetual"],
    }
    have = sum(len(p) for p in perps.values())
    for n in range(max(0, instruments - have)):
        coin, price = f"C{n:04d}", 0.5 + (n % 400) * 2.5
        venue = VENUES[n % 3]
        if venue == "okx":
            made: Any = OkxInstrument(f"{coin}-USDT-SWAP", "SWAP", price, 1, coin, "linear",
                                      "USDT")  # fmt: skip
            okx.append(made)
        elif venue == "binance":
            made = BinanceSymbol(f"{coin}USDT", coin, price)
            binance.append(made)
        else:
            made = BybitInstrument(f"{coin}USDT", "linear", "LinearPerpetual", coin, "USDT",
                                   "USDT", price)  # fmt: skip
            bybit.append(made)
        perps[venue].append(made)
    return {
        "okx": okx,
        "binance": binance,
        "bybit": bybit,
        **{f"{v}:perps": p for v, p in perps.items()},
    }


def native(venue: str, made: Any) -> str:
    return made.inst_id if venue == "okx" else made.symbol


def fakes_main(conn: Connection, clock_value: Any, instruments: int, liqs_per_s: float) -> None:
    """Serve the fakes; answer the parent's questions on ``conn`` until told to stop."""

    def clock() -> int:
        return int(clock_value.value)

    listed = generated(instruments, clock())
    with ExitStack() as stack:
        okx = stack.enter_context(FakeOkx(clock=clock, instruments=listed["okx"]))
        binance = stack.enter_context(FakeBinance(clock=clock, symbols=listed["binance"]))
        bybit = stack.enter_context(FakeBybit(clock=clock, instruments=listed["bybit"]))
        tg = stack.enter_context(FakeTelegram(max_per_second=TELEGRAM_PER_SECOND))
        ws = {"okx": FakeOkxWs(), "binance": FakeBinanceWs(), "bybit": FakeBybitWs()}
        for server in ws.values():
            stack.enter_context(server)
        rest: dict[str, Any] = {"okx": okx, "binance": binance, "bybit": bybit}
        perps = {v: [native(v, m) for m in listed[f"{v}:perps"]] for v in VENUES}
        conn.send({"rest": {v: f.url for v, f in rest.items()},
                   "ws": {v: f.url for v, f in ws.items()}, "tg": (tg.token, tg.base_url),
                   "perps": perps})  # fmt: skip
        rng = random.Random(7)
        pushing = liqs_per_s > 0
        while True:
            if pushing and not conn.poll(1 / liqs_per_s):
                venue = rng.choice(VENUES)
                symbol = rng.choice(perps[venue])
                price = rest[venue].tape(symbol).last_price()
                ws[venue].push(Liq(symbol, rng.choice(("long", "short")), float(price),
                                   1.0, clock()))  # fmt: skip
                continue
            ask, *args = conn.recv()
            if ask == "stop":
                return
            conn.send(_answer(ask, args, rest, tg))


def _answer(ask: str, args: list[Any], rest: dict[str, Any], tg: FakeTelegram) -> Any:
    if ask == "requests":  # (path, query, at) of each request since ``since`` (wall clock)
        (since,) = args
        return {v: [(r.path, dict(r.query), r.at) for r in f.seen() if r.at >= since]
                for v, f in rest.items()}  # fmt: skip
    if ask == "set_price":
        venue, symbol, price = args
        rest[venue].tape(symbol).set_price(price)
        return time.time()
    if ask == "first_price_read":
        venue, since = args
        reads = [r.at for r in rest[venue].seen(PRICE_PATHS[venue]) if r.at >= since]
        return min(reads, default=None)
    if ask == "messages":  # (chat, ok, time, text) of messages put into chats since ``since``
        (since,) = args
        return [
            (c["params"].get("chat_id"), c["ok"], c["time"],
             (c["result"] or {}).get("caption") or (c["result"] or {}).get("text") or "")
            for c in tg.calls_since(since)
            if c["method"] in ("sendMessage", "sendPhoto")
        ]  # fmt: skip
    if ask == "mark":
        return tg.mark()
    if ask == "throttled":
        return tg.throttled
    raise ValueError(ask)


class Fakes:
    """The child process serving the fakes, and the questions asked of it."""

    def __init__(self, instruments: int, liqs_per_s: float, now_ms: int) -> None:
        context = multiprocessing.get_context("fork")
        self.clock_value = context.Value("q", now_ms, lock=False)
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=fakes_main, args=(child, self.clock_value, instruments, liqs_per_s),
            daemon=True,
        )  # fmt: skip
        self.process.start()
        self.info: dict[str, Any] = self.conn.recv()

    def ask(self, *question: Any) -> Any:
        self.conn.send(question)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send(("stop",))
        self.process.join(timeout=30)


# -- virtual time -------------------------------------------------------------------------------


@dataclass
class VirtualTime:
    """Milliseconds since the epoch, shared with the fakes; sleeps wait on it, not the wall."""

    value: Any
    parked: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while someone sleeps on this clock."""
    _waiting: list[tuple[int, int, asyncio.Future[None]]] = field(default_factory=list)
    _n: int = 0

    def __call__(self) -> int:
        return int(self.value.value)

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._n += 1
        heapq.heappush(self._waiting, (self() + int(seconds * 1000), self._n, future))
        self.parked.set()
        await future

    def advance_to(self, ms: int) -> None:
        self.value.value = ms
        while self._waiting and self._waiting[0][0] <= ms:
            future = heapq.heappop(self._waiting)[2]
            if not future.done():
                future.set_result(None)
        if not self._waiting:
            self.parked.clear()


# -- seeding -----------------------------------------------------------------------------------


def seed(stores: Stores, keys: list[str], chats: int, subscriptions: int, burst: int,
         burst_key: str) -> dict[str, list[int]]:  # fmt: skip
    """``chats`` private chats with ``subscriptions`` subscriptions through the chat store, as
    ``/subscribe`` leaves them: the first ``burst`` chats follow ``burst_key``, the rest of
    the subscriptions go round the instruments so each is watched. Who follows what."""
    followers: dict[str, list[int]] = {key: [] for key in keys}
    per_chat = -(-subscriptions // chats)
    others = [k for k in keys if k != burst_key]
    made, turn = 0, 0
    for index in range(chats):
        chat = 10_000_000 + index
        stores.chats.seen(chat, "private", None)
        stores.chats.save_settings(chat, ChatSettings())
        wanted = [burst_key] if index < burst else []
        while len(wanted) < per_chat and made + len(wanted) < subscriptions:
            key = others[turn % len(others)]
            turn += 1
            if key not in wanted:
                wanted.append(key)
        for key in wanted:
            stores.chats.subscribe(chat, key, None)
            followers[key].append(chat)
        made += len(wanted)
    return followers


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Figures:
    first_pass_s: float = 0.0
    first_pass_requests: dict[str, list[tuple[str, dict[str, str], float]]] = field(
        default_factory=dict
    )
    cycles: list[tuple[float, float, int]] = field(default_factory=list)
    """(CPU seconds, wall seconds, maps computed) of each steady cycle."""
    cycle_requests: dict[str, int] = field(default_factory=dict)
    """Requests per venue in the last steady cycle (price probes included)."""
    recorder_cpu_share: float = 0.0
    latencies: list[float] = field(default_factory=list)
    probes: int = 0
    db_sizes: list[int] = field(default_factory=list)
    burst: dict[str, Any] = field(default_factory=dict)


def db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def measure(args: argparse.Namespace, fakes: Fakes, db_path: Path) -> Figures:
    figures = Figures()
    clock = VirtualTime(fakes.clock_value)
    info = fakes.info
    settings = Settings(exchange_urls=info["rest"], ws_urls=info["ws"])
    limits = SubscriptionLimits(max(10, -(-args.subscriptions // args.chats) + 1),
                                args.instruments + 10)  # fmt: skip
    stores = Stores(open_database(db_path), clock, limits=limits)
    keys = [f"{v}:{s}" for v in VENUES for s in info["perps"][v]][: args.instruments]
    burst_key = "okx:BTC-USDT-SWAP"
    started = time.time()
    followers = seed(stores, keys, args.chats, args.subscriptions, args.burst, burst_key)
    print(f"seeded {args.chats:,} chats, {args.subscriptions:,} subscriptions over "
          f"{len(keys):,} instruments in {time.time() - started:.0f} s", flush=True)  # fmt: skip
    ccxt = {} if args.ccxt_rate_limit is None else {"rateLimit": args.ccxt_rate_limit}
    wall = lambda: int(time.time() * 1000)  # noqa: E731  the rate limiter paces on the wall
    bot = ExtBot(info["tg"][0], base_url=info["tg"][1],
                 rate_limiter=FairRateLimiter(GroupBudget(), wall, max_retries=3))  # fmt: skip
    async with bot, MarketData(urls=info["rest"], clock=clock, ccxt_config=ccxt) as market:
        maps = MapService(market, stores, int(CYCLE_S * 1000), clock)
        delivery = Delivery(stores, TelegramAlertSender(bot), clock)
        jobs = AlertJobs(market, stores, maps, delivery, clock, CYCLE_S, sleep=clock.sleep)
        recorder = recorder_for(settings, stores, clock)
        recorder.follow(market, CYCLE_S)
        try:
            await run_cycles(args, jobs, clock, fakes, figures, db_path, stores, followers,
                             burst_key)  # fmt: skip
            figures.recorder_cpu_share = await recorder_alone(args.recorder_seconds)
            figures.burst = await burst(jobs, stores, fakes, clock, followers[burst_key],
                                        burst_key)  # fmt: skip
        finally:
            await jobs.stop()
            await recorder.stop()
    stores.close()
    return figures


async def run_cycles(args: argparse.Namespace, jobs: AlertJobs, clock: VirtualTime,
                     fakes: Fakes, figures: Figures, db_path: Path, stores: Stores,
                     followers: dict[str, list[int]], burst_key: str) -> None:  # fmt: skip
    """The first pass, then ``--cycles`` steady cycles with alert probes."""
    probe_keys = [k for k, chats in followers.items() if chats and k != burst_key]
    random.Random(3).shuffle(probe_keys)
    for cycle in range(args.cycles + 1):
        cpu, began = time.process_time(), time.time()
        refresh = asyncio.create_task(jobs.refresh())
        start_ms = clock()
        for step in range(int(CYCLE_S / PRICE_S)):
            clock.advance_to(start_ms + int(step * PRICE_S * 1000))
            await asyncio.gather(jobs.watch(), refresh_settled(refresh, clock))
            await jobs.deliver()
            if cycle and step % args.probe_every == 0 and probe_keys:
                await probe(jobs, stores, fakes, clock, probe_keys.pop(), followers, figures)
        computed = await refresh
        took = time.time() - began
        if cycle == 0:
            figures.first_pass_s = took
            figures.first_pass_requests = fakes.ask("requests", began)
            report_first_pass(figures)
        else:
            figures.cycles.append((time.process_time() - cpu, took, computed))
            asked = fakes.ask("requests", began)
            figures.cycle_requests = {v: len(r) for v, r in asked.items()}
            print(f"cycle {cycle}: {computed} maps, {took:.0f} s wall, "
                  f"{time.process_time() - cpu:.0f} s CPU", flush=True)  # fmt: skip
        clock.advance_to(start_ms + int(CYCLE_S * 1000))
        figures.db_sizes.append(db_size(db_path))


async def refresh_settled(refresh: asyncio.Task[int], clock: VirtualTime) -> None:
    """Until the refresh has computed what is due by now: done, or waiting on the clock."""
    parked = asyncio.create_task(clock.parked.wait())
    await asyncio.wait({refresh, parked}, return_when=asyncio.FIRST_COMPLETED)
    parked.cancel()


async def probe(jobs: AlertJobs, stores: Stores, fakes: Fakes, clock: VirtualTime, key: str,
                followers: dict[str, list[int]], figures: Figures) -> None:  # fmt: skip
    """Move ``key``'s price into its nearest strong cluster; watch and deliver as the jobs
    would, one price interval at a time (the clock held, the wall moving); note each alert's
    time from the crossing tick to the fake Bot API."""
    target = strong_cluster(stores, key)
    if target is None:
        return
    venue, symbol = key.split(":", 1)
    near = target.high * 1.003 if target.side == "long" else target.low * 0.997
    mark = fakes.ask("mark")
    moved = fakes.ask("set_price", venue, symbol, near)
    chats = set(followers[key])
    label = symbol
    for _ in range(4):
        await jobs.watch()
        await jobs.deliver()
        got = [m for m in fakes.ask("messages", mark) if m[0] in chats and label in m[3] and m[1]]
        if got:
            break
    tick = fakes.ask("first_price_read", venue, moved)
    figures.probes += 1
    if tick is None:
        return
    deadline, settled = time.time() + 30, time.time() + 2
    while time.time() < min(deadline, settled) and len(got) < len(chats):
        await asyncio.sleep(0.2)
        await jobs.deliver()
        more = [m for m in fakes.ask("messages", mark) if m[0] in chats and label in m[3] and m[1]]
        if len(more) > len(got):  # still arriving: followers in their cooldown send nothing
            got, settled = more, time.time() + 2
    figures.latencies.extend(m[2] - tick for m in got)


def strong_cluster(stores: Stores, key: str) -> Any:
    stored = stores.snapshots.latest(key, ALERT_WINDOW)
    if stored is None:
        return None
    strong = [c for c in stored.snapshot.clusters if c.strength >= 2.0]
    return min(strong, key=lambda c: abs(c.distance_pct), default=None)


async def recorder_alone(seconds: float) -> float:
    """The process's CPU share over ``seconds`` of wall clock with only the recorder working."""
    cpu, began = time.process_time(), time.time()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.time() - began)


async def burst(jobs: AlertJobs, stores: Stores, fakes: Fakes, clock: VirtualTime,
                chats: list[int], key: str) -> dict[str, Any]:  # fmt: skip
    """Move ``key`` into a cluster all ``chats`` follow; deliver until the last alert is in."""
    target = strong_cluster(stores, key)
    if target is None:
        return {}
    venue, symbol = key.split(":", 1)
    near = target.high * 1.003 if target.side == "long" else target.low * 0.997
    mark = fakes.ask("mark")
    moved = fakes.ask("set_price", venue, symbol, near)
    wall_start, virtual_start = time.time(), clock()
    queued = 0
    for _ in range(4):
        queued += await jobs.watch()
        if queued:
            break
    delivering = asyncio.create_task(deliver_until_done(jobs, clock, wall_start, virtual_start))
    wanted = set(chats)
    deadline = time.time() + max(120.0, 3 * len(chats) / TELEGRAM_PER_SECOND)
    got: list[tuple[int, bool, float, str]] = []
    while time.time() < deadline:
        await asyncio.sleep(1.0)
        got = [m for m in fakes.ask("messages", mark) if m[0] in wanted and symbol in m[3]]
        if len({m[0] for m in got if m[1]}) >= len(wanted):
            break
    delivering.cancel()
    await asyncio.gather(delivering, return_exceptions=True)
    tick = fakes.ask("first_price_read", venue, moved)
    delivered = [m for m in got if m[1]]
    counted = "SELECT state, count(*) FROM outbox GROUP BY state"
    states = dict(stores.db.execute(counted).fetchall())
    return {
        "chats": len(chats),
        "queued": queued,
        "delivered_chats": len({m[0] for m in delivered}),
        "delivered_messages": len(delivered),
        "refused_calls": len(got) - len(delivered),
        "last_s": max((m[2] for m in delivered), default=tick or 0) - (tick or wall_start),
        "first_s": min((m[2] for m in delivered), default=tick or 0) - (tick or wall_start),
        "outbox": states,
        "throttled": fakes.ask("throttled"),
    }


async def deliver_until_done(jobs: AlertJobs, clock: VirtualTime, wall_start: float,
                             virtual_start: int) -> None:  # fmt: skip
    """The deliver job every second, the virtual clock following the wall."""
    while True:
        clock.advance_to(virtual_start + int((time.time() - wall_start) * 1000))
        await jobs.deliver()
        await asyncio.sleep(1.0)


# -- the report -----------------------------------------------------------------------------


def peak_rate(times: list[float], window: float, weights: list[int] | None = None) -> int:
    """The most requests (or weight) in any ``window`` seconds."""
    weights = weights or [1] * len(times)
    pairs = sorted(zip(times, weights, strict=True))
    best, total, left = 0, 0, 0
    for t, w in pairs:
        total += w
        while pairs[left][0] < t - window:
            total -= pairs[left][1]
            left += 1
        best = max(best, total)
    return best


def report_first_pass(figures: Figures) -> None:
    print(f"first pass: {figures.first_pass_s:.0f} s wall for every map (the refresh's spread "
          "over 240 s not waited)", flush=True)  # fmt: skip
    for venue, requests in figures.first_pass_requests.items():
        by_path = Counter(p for p, _, _ in requests)
        times = [t for _, _, t in requests]
        if venue == "okx":
            shares = {p: peak_rate([t for q, _, t in requests if q == p], OKX_WINDOW_S)
                      / OKX_PER_WINDOW.get(p, 20) for p in by_path}  # fmt: skip
            path, share = max(shares.items(), key=lambda kv: kv[1], default=("-", 0.0))
            limit = (f"busiest endpoint {path}: peak {share:.0%} of its limit in 2 s "
                     f"({OKX_PER_WINDOW.get(path, 20)} per 2 s)")  # fmt: skip
        elif venue == "binance":
            weights = [binance_weight(p, q) for p, q, _ in requests]
            peak = peak_rate(times, BINANCE_WEIGHT[1], weights)
            limit = f"peak weight {peak} a minute (limit 2,400)"
        else:
            limit = f"peak {peak_rate(times, BYBIT_REQUESTS[1])} in 5 s (limit 600)"
        paths = ", ".join(f"{n:,} {p}" for p, n in by_path.most_common(4))
        paced = sum(ccxt_pace_s(venue, p, q) for p, q, _ in requests)
        print(f"  {venue}: {len(requests):,} requests ({paths}); {limit}; at ccxt's pace they "
              f"take at least {paced:.0f} s of this venue's throttle", flush=True)  # fmt: skip


def report(args: argparse.Namespace, figures: Figures) -> None:
    print(f"\nwhole market: {args.instruments:,} instruments, {args.chats:,} chats, "
          f"{args.subscriptions:,} subscriptions; ccxt rateLimit "
          f"{args.ccxt_rate_limit or 'production'}; machine {os.cpu_count()} cores")  # fmt: skip
    if figures.cycles:
        steady = figures.cycles[1:] or figures.cycles
        cpu = sum(c for c, _, _ in steady) / len(steady)
        wall = sum(w for _, w, _ in steady) / len(steady)
        share = cpu / CYCLE_S
        print(f"steady cycle: {cpu:.1f} s CPU and {wall:.0f} s wall a cycle = {share:.1%} of one "
              f"core over 300 s, plus the recorder alone {figures.recorder_cpu_share:.1%}: "
              f"{share + figures.recorder_cpu_share:.1%} (goal <= 25%); requests in the last: "
              f"{figures.cycle_requests}")  # fmt: skip
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss_mb:,.0f} MB (goal <= 1,536 MB)")
    sizes = figures.db_sizes
    if len(sizes) >= 2:
        growth = (sizes[-1] - sizes[1 if len(sizes) > 2 else 0]) / max(1, len(sizes) - 2 or 1)
        day = sizes[-1] + growth * (DAY_CYCLES - (len(sizes) - 1))
        print(f"database: {sizes[0] / 1e6:.0f} MB after the first pass, {sizes[-1] / 1e6:.0f} MB "
              f"after {len(sizes) - 1} cycles, growing {growth / 1e6:.1f} MB a cycle: "
              f"{day / 1e6:,.0f} MB after a day by linear extrapolation")  # fmt: skip
    lat = figures.latencies
    if lat:
        print(f"alert latency over the tick, {len(lat)} alerts from {figures.probes} price "
              f"moves: p50 {percentile(lat, 0.5):.2f} s, p99 {percentile(lat, 0.99):.2f} s, "
              f"max {max(lat):.2f} s (goal p99 <= 2 s)")  # fmt: skip
    else:
        print(f"alert latency: no alert from {figures.probes} price moves")
    b = figures.burst
    if b:
        print(f"burst to {b['chats']:,} chats: {b['delivered_chats']:,} got their alert "
              f"({b['delivered_messages']:,} messages, {b['refused_calls']} answered 429, "
              f"Telegram throttled {b['throttled']} calls in all), first {b['first_s']:.1f} s, "
              f"last {b['last_s']:.1f} s after the tick ({b['chats'] / TELEGRAM_PER_SECOND:.0f} s "
              f"at 30/s); outbox {b['outbox']}")  # fmt: skip
    print(json.dumps({"rss_mb": round(rss_mb), "latencies": len(lat)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=30_000)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--probe-every", type=int, default=4,
                        help="price steps between alert probes in a steady cycle")  # fmt: skip
    parser.add_argument("--liquidations", type=float, default=5.0,
                        help="liquidations a second the websocket fakes send, in all")  # fmt: skip
    parser.add_argument("--recorder-seconds", type=float, default=20.0)
    parser.add_argument("--ccxt-rate-limit", type=int, default=None,
                        help="ms a unit of request cost (default: ccxt's)")  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    fakes = Fakes(args.instruments, args.liquidations, int(time.time() * 1000))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(measure(args, fakes, Path(tmp) / "market.db"))
    finally:
        fakes.stop()
    report(args, figures)


if __name__ == "__main__":
    main()
