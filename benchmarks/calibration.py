"""``liqmap calibrate --fit`` against the fake Hyperliquid: the calibration table, and what the
CSV backtest says about tiers fitted to the real leverage mix.

Run: ``python -m benchmarks.calibration [--days 7] [--accounts 1500]`` from the repository root.

The fake's accounts are drawn from ``tests.fakes.hyperliquid.LEVERAGE_MIX``, a made-up mix:
the table measured here shows the method working end to end, not how good the estimate is on
Hyperliquid's real traders (that needs a scan of the real venue).

1. Simulated time on the fake clock: the current open interest of BTC, ETH and SOL recorded
   every 5 minutes for ``--days`` (as ``liqmap run``'s refresh records it), the market moving
   underneath as the fake's tape moves.
2. ``--accounts`` fake accounts opened near the mark, then one ``liqmap scan`` over them (the
   fake's request weight limit lifted: the scanner's budget is measured elsewhere).
3. ``liqmap calibrate --fit``: the table, the fitted tiers and the backtest's verdict on them;
   then the leverage mix read back against ``LEVERAGE_MIX`` capped by each coin's maximum.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from jobs.market_sync import record_open_interest
from liqmap.cli.main import main as liqmap
from liqmap.evaluation.calibration import notional_by_leverage
from liqmap.exchanges.market_data import MarketData
from liqmap.market.timeframes import DAY_MS, MINUTE_MS
from storage.database import open_database
from storage.positions import PositionStore
from storage.stores import Stores
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import LEVERAGE_MIX, FakeHyperliquid
from tests.support.cli import FAST

COINS = ("BTC", "ETH", "SOL")
RECORD_EVERY_MS = 5 * MINUTE_MS
HOURLY = Path(__file__).resolve().parents[1] / "data" / "btc_agg_1h_2025-12_2026-03.csv"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The liqmap settings of ``values`` while the commands run; the rest put back after."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(("LIQMAP_", "TELEGRAM_"))}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


async def _record(fake: FakeHyperliquid, clock: Clock, db_path: Path, days: float) -> int:
    """Record the three coins' OI every 5 simulated minutes for ``days``; snapshots stored."""
    db = open_database(db_path)
    stores = Stores(db, clock)
    stored = 0
    try:
        async with MarketData(
            {"hyperliquid": fake.url}, clock=clock, ccxt_config=FAST.ccxt_config
        ) as market:
            coins = [await market.instrument(f"hyperliquid:{coin}") for coin in COINS]
            for _ in range(int(days * DAY_MS / RECORD_EVERY_MS)):
                clock.advance(RECORD_EVERY_MS)
                stored += await record_open_interest(market, stores, coins)
    finally:
        stores.close()
        db.close()
    return stored


def _mix_read_back(db_path: Path, fake: FakeHyperliquid) -> None:
    """The real mix by notional as stored, against the fake's ``LEVERAGE_MIX`` capped."""
    db = open_database(db_path)
    try:
        store = PositionStore(db)
        print("\nthe fake's leverage mix read back by notional (read / drawn, %):")
        for perp in fake.perps:
            drawn: dict[float, float] = {}
            for leverage, weight in LEVERAGE_MIX:
                capped = float(min(leverage, perp.max_leverage))
                drawn[capped] = drawn.get(capped, 0.0) + weight
            known = store.positions(perp.name)
            read = notional_by_leverage(k.position for k in known)
            cells = [
                f"{lev:g}x {100 * read.get(lev, 0):.1f}/{100 * w:.0f}" for lev, w in drawn.items()
            ]
            print(f"  {perp.name:<5}{len(known):>6} positions  " + "  ".join(cells))
    finally:
        db.close()


def run(days: float, accounts: int) -> None:
    clock = Clock(NOON - int(days * DAY_MS))
    tuning = replace(FAST, clock=clock)
    with tempfile.TemporaryDirectory() as tmp, FakeHyperliquid(clock=clock) as fake:
        fake.weight_limit = 10**9
        db_path = Path(tmp) / "calibration.db"
        env = {"LIQMAP_DB": str(db_path), "LIQMAP_HYPERLIQUID_URL": fake.url}
        started = time.perf_counter()
        snapshots = asyncio.run(_record(fake, clock, db_path, days))
        print(f"recorded {snapshots:,} OI snapshots of {', '.join(COINS)} over {days:g} simulated "
              f"days in {time.perf_counter() - started:.1f} s")  # fmt: skip
        addresses = fake.open_accounts(accounts, seed=18)
        with _environment(env):
            started = time.perf_counter()
            with contextlib.redirect_stdout(None):
                code = liqmap(["scan", *addresses], tuning)
            assert code == 0, code
            print(f"scanned {accounts:,} accounts in {time.perf_counter() - started:.1f} s\n")
            print("NOTE: measured on the fake Hyperliquid, whose accounts are drawn from a "
                  "made-up leverage mix: this shows the method, not the real venue.\n")  # fmt: skip
            code = liqmap(["calibrate", "--fit", "--csv", str(HOURLY)], tuning)
            assert code == 0, code
        _mix_read_back(db_path, fake)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days of recorded OI")
    parser.add_argument("--accounts", type=int, default=1500, help="fake accounts to scan")
    args = parser.parse_args()
    run(args.days, args.accounts)


if __name__ == "__main__":
    main()
