"""``liqmap scan``: one pass over Hyperliquid accounts, their real positions into the database."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import TYPE_CHECKING

from liqmap.cli.arguments import Commands, positive_seconds
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data, open_stores
from liqmap.config import Settings
from liqmap.errors import UnknownInstrument
from liqmap.formats import usd
from liqmap.market.positions import AccountRead, CoinScan, coin_scans

if TYPE_CHECKING:
    from liqmap.exchanges.market_data import MarketData
    from storage.stores import Stores

ADDRESS = re.compile(r"0x[0-9a-f]{40}")
DISCOVER_COINS = ("BTC", "ETH", "SOL")
"""Whose trades ``--discover`` listens to without ``--coin``."""
LIMIT = 50


def add_commands(commands: Commands) -> None:
    """``scan``."""
    scan = commands.add_parser(
        "scan",
        help="read the open positions of Hyperliquid accounts",
        description="One pass over the given Hyperliquid accounts (the largest known first): "
        "their open positions into the database (LIQMAP_DB), and per coin the accounts read, "
        "positions, long and short notional, and their share of the open interest. With "
        "--discover, accounts are first found on public trades and the leaderboard, and the "
        "largest known are read too.",
    )
    scan.add_argument("addresses", nargs="*", metavar="ADDRESS", type=address)
    scan.add_argument("--coin", type=str.upper, help="only this coin, e.g. BTC")
    scan.add_argument(
        "--discover", type=positive_seconds, metavar="SECONDS",
        help="first listen this long to the trades of --coin (default "
        f"{', '.join(DISCOVER_COINS)}) and read the leaderboard, for accounts to scan",
    )  # fmt: skip
    scan.add_argument(
        "--limit", type=count, default=LIMIT, metavar="N",
        help=f"with --discover, read at most this many of the largest known (default {LIMIT})",
    )  # fmt: skip
    scan.set_defaults(command=scan_accounts)


def address(text: str) -> str:
    """An account address, ``0x`` and 40 hex digits, in lower case."""
    name = text.strip().lower()
    if not ADDRESS.fullmatch(name):
        raise argparse.ArgumentTypeError(f"not an address (0x and 40 hex digits): {text!r}")
    return name


def count(text: str) -> int:
    """A whole number from 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


async def scan_accounts(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Read each address once (with ``--discover``, the largest found too), store what it
    holds, print a line per coin."""
    if not args.addresses and args.discover is None:
        print("liqmap scan: error: give ADDRESS... or --discover SECONDS; see liqmap scan -h",
              file=sys.stderr)  # fmt: skip
        return 2
    reads: list[AccountRead] = []
    with open_stores(settings, tuning) as stores:
        async with market_data(settings, "hyperliquid", tuning) as market:
            wanted = list(args.addresses)
            if args.discover is not None:
                await _discover(args, settings, tuning, stores, market)
                wanted += await stores.run(stores.positions.largest, args.limit)
            order = await stores.run(stores.positions.largest_first, wanted)
            pass_id = await stores.run(stores.positions.begin_pass, clock_of(tuning)())
            for account in order:
                read = await market.account(account)
                await stores.run(stores.positions.save, read, pass_id)
                reads.append(read)
            skipped = sum(r.skipped for r in reads)
            weight = market.weight_spent.total()
            await stores.run(stores.positions.finish_pass, pass_id, clock_of(tuning)(),
                             len(reads), skipped, 0, weight)  # fmt: skip
            book = await market.book("hyperliquid")
            by_symbol = await market.open_interest_now("hyperliquid")
    coins = {i.symbol: i.native_id for i in book.instruments}
    open_interest = {coins[s]: value for s, value in by_symbol.items() if s in coins}
    print(f"pass {pass_id}: {len(reads)} account(s) read, {skipped} position(s) skipped")
    scans = coin_scans(reads, open_interest, args.coin)
    for scan in scans:
        print(_line(scan))
    if not scans:
        print(f"no open {args.coin} positions" if args.coin else "no open positions")
    print(f"  stored in {settings.db_path}")
    return 0


async def _discover(
    args: argparse.Namespace, settings: Settings, tuning: Tuning, stores: Stores,
    market: MarketData,
) -> None:  # fmt: skip
    """Listen to trades for ``--discover`` seconds and read the leaderboard meanwhile; the
    addresses found into the database, a line per source."""
    from jobs.scheduled.discovery import discovery_for

    listed = {i.native_id for i in (await market.book("hyperliquid")).instruments}
    if args.coin is not None and args.coin not in listed:
        raise UnknownInstrument(args.coin, "hyperliquid")
    coins = [args.coin] if args.coin else [c for c in DISCOVER_COINS if c in listed]
    discovery = discovery_for(settings, stores, clock_of(tuning), flush_seconds=1.0)
    print(f"listening to the trades of {', '.join(coins)} for {args.discover:g} s", flush=True)
    discovery.watch(coins)
    board = asyncio.create_task(discovery.read_leaderboard())
    try:
        await tuning.sleep(args.discover)
        await board
    finally:
        board.cancel()
        await discovery.stop()
    status = discovery.status
    print(f"trades: {status.from_trades} new address(es) on {status.trades} trade(s)"
          + (f", {status.skipped} malformed skipped" if status.skipped else ""))  # fmt: skip
    if status.last_error is not None:
        print(f"note: trades: {status.last_error}")
    if settings.hyperliquid_leaderboard_url is None:
        print("leaderboard: not asked (LIQMAP_HYPERLIQUID_LEADERBOARD_URL is empty)")
    elif status.leaderboard_note is not None:
        print(f"leaderboard: none; note: {status.leaderboard_note}")
    else:
        print(f"leaderboard: {status.from_leaderboard} new address(es) of "
              f"{status.leaderboard_rows} listed")  # fmt: skip


def _line(scan: CoinScan) -> str:
    coverage = scan.coverage
    share = "no open interest" if coverage is None else (
        f"coverage {coverage:.2%} of {usd(scan.open_interest_usd or 0)} open interest"
    )  # fmt: skip
    return (
        f"{scan.coin:<6} {scan.accounts} account(s), {scan.positions} position(s), "
        f"long {usd(scan.long_usd)}, short {usd(scan.short_usd)}, {share}"
    )
