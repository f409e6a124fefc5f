"""The scanner of real positions: accounts read a minute inside its budget, and what it leaves
to the other Hyperliquid calls.

Run: ``python -m benchmarks.scanner [--accounts 2000] [--seconds 75] [--price-every 15]``

A real-time run (the request gate and the scanner's budget pace on the event loop's clock, so
the figures are what production gets; nothing reaches the internet): the fake Hyperliquid on
127.0.0.1 opens ``--accounts`` accounts (one to three positions each) and counts the weight of
every request as Hyperliquid documents it, answering 429 past 1200 a minute. A temporary
database knows the addresses; a chat watches ``hyperliquid:BTC``. The scanner
(``jobs.scheduled.scanner.Scanner``, production settings: 600 weight a minute, passes every
600 s) runs for ``--seconds`` while a price check (``Urgency.PRICE``, one ``metaAndAssetCtxs``
of weight 20) runs every ``--price-every`` seconds through the same adapter, as the watch job
would (15 s: ``LIQMAP_PRICE_SECONDS``; 2 s loads the gate with 600 weight a minute of price
checks, half the limit). Printed: accounts read a minute, the scanner's weight a minute (over
the run and its worst minute, counted by the fake), all Hyperliquid weight in the worst
minute, 429s, and how long the price checks took (the gate's wait and the round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from jobs.scheduled.scanner import Scanner
from liqmap.exchanges.market_data import MarketData
from liqmap.market.request_weights import SCAN_WEIGHT_PER_MINUTE
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.hyperliquid import FakeHyperliquid

ANN = 1001
WARM_UP_S = 2.5


def wall_clock() -> int:
    return int(time.time() * 1000)


async def price_checks(market: MarketData, every: float, waits: list[float]) -> None:
    """A price check of ``hyperliquid:BTC`` every ``every`` seconds, as the watch job's: how
    long each took (the gate's wait and the local round trip)."""
    CLAIM.set(Claim(Urgency.PRICE, "watch"))
    inst = await market.instrument("hyperliquid:BTC")
    while True:
        started = time.perf_counter()
        await market.prices([inst])
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(every)


async def bench(accounts: int, seconds: float, price_every: float) -> None:
    with FakeHyperliquid() as fake, tempfile.TemporaryDirectory() as tmp:
        addresses = fake.open_accounts(accounts, seed=18)
        db = open_database(Path(tmp) / "bench.db")
        stores = Stores(db, wall_clock)
        stores.chats.seen(ANN, "private", None)
        stores.chats.subscribe(ANN, "hyperliquid:BTC", None)
        for address in addresses:
            db.execute(
                "INSERT INTO scan_addresses (address, last_seen_ms, notional) VALUES (?, 0, 0)",
                [address],
            )
        async with MarketData(urls={"hyperliquid": fake.url}, clock=wall_clock) as market:
            await market.book("hyperliquid")  # loaded before the clock starts, and its
            await asyncio.sleep(WARM_UP_S)  # weight of 40 left behind at the gate
            fake.charged.clear()
            scanner = Scanner(market, stores, wall_clock, 600_000, SCAN_WEIGHT_PER_MINUTE)
            waits: list[float] = []
            started = time.perf_counter()
            scan = asyncio.create_task(scanner.run())
            checks = asyncio.create_task(price_checks(market, price_every, waits))
            await asyncio.wait([scan], timeout=seconds)
            elapsed = time.perf_counter() - started
            for task in (scan, checks):
                task.cancel()
            await asyncio.gather(scan, checks, return_exceptions=True)
            limited = market.rate_limited["hyperliquid"]
        stores.close()
        db.close()
    reads = [(t, w) for t, w, kind in fake.charged if kind == "clearinghouseState"]
    minutes = elapsed / 60
    print(f"scanner, {accounts:,} accounts known, {elapsed:.1f} s of real time")
    print(f"  accounts read:          {len(reads):,} ({len(reads) / minutes:,.0f} a minute)")
    print(f"  scanner weight:         {sum(w for _, w in reads) / minutes:,.0f} a minute "
          f"(budget {SCAN_WEIGHT_PER_MINUTE}); worst minute "
          f"{fake.most_weight_in_a_minute('clearinghouseState'):,}")  # fmt: skip
    print(f"  all Hyperliquid weight: worst minute {fake.most_weight_in_a_minute():,} "
          "(documented limit 1200)")  # fmt: skip
    print(f"  429 answers:            {limited}")
    if waits:
        median, worst = statistics.median(waits) * 1000, max(waits) * 1000
        print(f"  price checks:           {len(waits)}, median {median:.0f} ms, "
              f"worst {worst:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=75.0)
    parser.add_argument("--price-every", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(bench(args.accounts, args.seconds, args.price_every))


if __name__ == "__main__":
    main()
