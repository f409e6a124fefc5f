"""``liqmap scan``: one pass over Hyperliquid accounts, their real positions into the database."""

from __future__ import annotations

import argparse
import re

from liqmap.cli.arguments import Commands
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data, open_stores
from liqmap.config import Settings
from liqmap.formats import usd
from liqmap.market.positions import AccountRead, CoinScan, coin_scans

ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def add_commands(commands: Commands) -> None:
    """``scan``."""
    scan = commands.add_parser(
        "scan",
        help="read the open positions of Hyperliquid accounts",
        description="One pass over the given Hyperliquid accounts (the largest known first): "
        "their open positions into the database (LIQMAP_DB), and per coin the accounts read, "
        "positions, long and short notional, and their share of the open interest.",
    )
    scan.add_argument("addresses", nargs="+", metavar="ADDRESS", type=address)
    scan.add_argument("--coin", type=str.upper, help="only this coin, e.g. BTC")
    scan.set_defaults(command=scan_accounts)


def address(text: str) -> str:
    """An account address, ``0x`` and 40 hex digits, in lower case."""
    name = text.strip().lower()
    if not ADDRESS.fullmatch(name):
        raise argparse.ArgumentTypeError(f"not an address (0x and 40 hex digits): {text!r}")
    return name


async def scan_accounts(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Read each address once, store what it holds, print a line per coin."""
    reads: list[AccountRead] = []
    with open_stores(settings, tuning) as stores:
        async with market_data(settings, "hyperliquid", tuning) as market:
            order = await stores.run(stores.positions.largest_first, args.addresses)
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


def _line(scan: CoinScan) -> str:
    coverage = scan.coverage
    share = "no open interest" if coverage is None else (
        f"coverage {coverage:.2%} of {usd(scan.open_interest_usd or 0)} open interest"
    )  # fmt: skip
    return (
        f"{scan.coin:<6} {scan.accounts} account(s), {scan.positions} position(s), "
        f"long {usd(scan.long_usd)}, short {usd(scan.short_usd)}, {share}"
    )
