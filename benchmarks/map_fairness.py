"""Fairness of new maps: an innocent chat's new map, idle and while ten chats flood theirs.

Run: ``python -m benchmarks.map_fairness [--window 1d] [--flooders 10] [--asks 4] [--total N]``
(``--total 100000``: no service-wide budget in effect, as before there was one).

The bot runs in this process against the local fakes (nothing reaches the internet): the fake
OKX lists 400 extra USDT perpetuals, so every map asked for is new (nothing cached, every
candle and open-interest page fetched), and its requests go at OKX's real pace (ccxt's
``rateLimit`` of 110 ms and its per-endpoint costs) with ``--okx-latency`` of round trip.
First the innocent chat asks ``--asks`` new maps one after another with the service idle; then
``--flooders`` chats each ask a new map every 10 s (6 a minute, within their own budget) and,
after ``--warmup`` seconds, the innocent chat asks again. Printed: the innocent's answer
times, how many flood maps were made and refused, and the OKX requests a new map cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from liqmap.config import Settings
from storage.database import open_database
from tests.fakes.http import free_port
from tests.fakes.okx import FakeOkx, OkxInstrument, default_instruments
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import running

INNOCENT = 5001
"""Asks with the service idle; ``INNOCENT + 1`` asks during the flood, with a full budget."""
FLOODERS = 6001
COINS = 400
BUSY = ("That is a lot of new maps", "The bot is busy")


class WallClock:
    """The real time in milliseconds: budgets refill and maps age as in production."""

    def __call__(self) -> int:
        return int(time.time() * 1000)


def instruments() -> list[OkxInstrument]:
    extra = [
        OkxInstrument(f"C{n:03d}-USDT-SWAP", "SWAP", 100.0 + n, 1, f"C{n:03d}", "linear", "USDT")
        for n in range(COINS)
    ]
    return default_instruments(int(time.time() * 1000)) + extra


@dataclass
class Asked:
    """One chat's new maps: how long each took to answer, and how many were refused."""

    times: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


async def ask(tg: FakeTelegram, chat: int, text: str, asked: Asked) -> None:
    """Send ``text`` and wait for the chat's next message: a map, or a refusal."""
    before = len(tg.sent(chat))
    start = time.monotonic()
    tg.user_sends(chat, text)
    reply = (await tg.wait_for_sent(chat, before + 1, timeout=600))[before]
    if reply["method"] == "sendPhoto":
        asked.times.append(time.monotonic() - start)
    else:
        asked.refused.append(reply.get("plain") or "")


async def flood(tg: FakeTelegram, chat: int, coins: itertools.count, window: str,
                stop: asyncio.Event) -> None:  # fmt: skip
    """A new map every 10 s (the chat's budget of 6 a minute), not waiting for answers."""
    while not stop.is_set():
        tg.user_sends(chat, f"/map C{next(coins):03d} {window}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 10.0)


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    shown = ", ".join(f"{v:.1f}" for v in values)
    return f"{shown} s (median {statistics.median(values):.1f} s)"


async def measure(args: argparse.Namespace) -> None:
    with FakeTelegram() as tg, FakeOkx(answer_delay=args.okx_latency,
                                       instruments=instruments()) as okx, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        dead = f"http://127.0.0.1:{free_port()}"
        settings = Settings(
            telegram_bot_token=tg.token,
            telegram_api_url=tg.url,
            db_path=Path(tmp) / "fair.db",
            exchange_urls={"okx": okx.url, "binance": dead, "bybit": dead},
            maps_per_minute_total=args.total,
        )
        db = open_database(settings.db_path)
        coins = itertools.count()
        wall = WallClock()
        async with running(settings, db, clock=wall, ccxt_config={}):  # type: ignore[arg-type]
            await ask(tg, INNOCENT, "/map BTC 1d", Asked())  # instruments listed, tiers known
            idle = Asked()
            okx.reset_log()
            for _ in range(args.asks):
                await ask(tg, INNOCENT, f"/map C{next(coins):03d} {args.window}", idle)
            cost = Counter(r.path.rsplit("/api/v5/", 1)[-1] for r in okx.seen("/api/v5/"))
            flooded = Asked()
            stop = asyncio.Event()
            floods = [
                asyncio.create_task(flood(tg, FLOODERS + n, coins, args.window, stop))
                for n in range(args.flooders)
            ]
            started = time.monotonic()
            await asyncio.sleep(args.warmup)
            for _ in range(args.asks):
                await ask(tg, INNOCENT + 1, f"/map C{next(coins):03d} {args.window}", flooded)
                await asyncio.sleep(2.0)
            stop.set()
            await asyncio.gather(*floods)
            span = time.monotonic() - started
            loud = [m for n in range(args.flooders) for m in tg.sent(FLOODERS + n)]
        db.close()
    per_map = sum(cost.values()) / max(1, args.asks)
    print(
        f"new {args.window} maps at OKX's pace ({args.okx_latency * 1000:.0f} ms a request), "
        f"{args.flooders} chats flooding 6 a minute each, {args.total} new maps a minute in all"
    )
    print(
        f"  OKX requests per new map: {per_map:.1f} "
        f"({', '.join(f'{n / args.asks:g} {p}' for p, n in cost.most_common())})"
    )
    print(f"  innocent chat, idle:    {spread(idle.times)}")
    print(f"  innocent chat, flooded: {spread(flooded.times)}; refused {len(flooded.refused)}")
    made = sum(m["method"] == "sendPhoto" for m in loud)
    refusals = Counter(
        next((b for b in BUSY if (m.get("plain") or "").startswith(b)), "other")
        for m in loud
        if m["method"] != "sendPhoto"
    )
    print(
        f"  flooders, over {span:.0f} s: {made} maps made, {sum(refusals.values())} refused "
        f"({', '.join(f'{n} {r!r}' for r, n in refusals.items()) or 'none'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", default="1d", choices=("1d", "7d", "30d"))
    parser.add_argument("--flooders", type=int, default=10)
    parser.add_argument("--asks", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--okx-latency", type=float, default=0.05)
    parser.add_argument("--total", type=int, default=Settings().maps_per_minute_total)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
