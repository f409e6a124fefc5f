"""``liqmap fetch`` and ``liqmap price``: market data into the cache, current prices out."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from liqmap.cli.arguments import EXCHANGE_HELP, Commands, exchange_name, symbol_arguments
from liqmap.cli.progress import ProgressLine
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import market_data, open_stores
from liqmap.config import Settings
from liqmap.formats import utc
from liqmap.market.timeframes import DEFAULT_STEP
from liqmap.market.venues import VENUES

if TYPE_CHECKING:
    from jobs.market_sync import MarketWindow


def add_commands(commands: Commands) -> None:
    """``fetch`` and ``price``."""
    fetch = commands.add_parser(
        "fetch",
        help="fetch candles and open interest into the cache",
        description="Bring the cache (LIQMAP_DB) up to date for one instrument and window; "
        "only what the cache lacks is fetched.",
    )
    symbol_arguments(fetch)
    fetch.set_defaults(command=fetch_window)

    price = commands.add_parser("price", help="print current prices (mark, else last)")
    price.add_argument("symbols", nargs="+", metavar="SYMBOL")
    price.add_argument("--exchange", type=exchange_name, help=EXCHANGE_HELP)
    price.set_defaults(command=print_prices)


async def fetch_window(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Sync the window of each exchange of the instrument into the cache; say what it holds."""
    from jobs.market_sync import sync_window

    with open_stores(settings, tuning) as stores:
        async with market_data(settings, args.exchange, tuning) as market:
            inst = await market.instrument(args.symbol)
            step = args.step or DEFAULT_STEP[args.window]
            for member in inst.members or (inst,):
                window = await sync_window(
                    market,
                    stores,
                    member,
                    args.window,
                    step,
                    ProgressLine(sys.stderr),
                    need_oi=False,
                )
                _print_fetched(window, args.window, step)
    for note in inst.missing_notes:
        print(note)
    print(f"  cached in {settings.db_path}")
    return 0


def _print_fetched(window: MarketWindow, length: str, step: str) -> None:
    inst, candles, oi = window.instrument, window.candles, window.open_interest
    print(f"{inst.native_id} on {inst.exchange}, {length} at {step}:")
    if len(candles):
        print(
            f"  {len(candles):,} candles {utc(candles.ts[0])} -> {utc(candles.ts[-1])}, "
            f"last close {candles.close[-1]:,.2f}"
        )
    else:
        print("  no candles in this window")
    if VENUES[inst.exchange].oi_recorded:
        print(
            f"  open interest: {inst.exchange} publishes no history; liqmap run records it at "
            f"each refresh of a watched instrument ({len(oi)} snapshot(s) of {inst.native_id} "
            "so far)"
        )
    elif len(oi):
        print(
            f"  {len(oi):,} open-interest rows at {window.oi_step}, "
            f"latest {oi.usd[-1] / 1e6:,.1f}M USD at {utc(oi.ts[-1])}"
        )
    else:
        print(f"  no open-interest rows at {window.oi_step} in this window")
    for note in window.notes:
        print(f"  note: {note}")


async def print_prices(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """A line per instrument; exit status 1 if any has no price."""
    async with market_data(settings, args.exchange, tuning) as market:
        instruments = [await market.instrument(symbol) for symbol in args.symbols]
        prices = await market.prices(instruments)
    missing = 0
    for inst in instruments:
        price = prices.get(inst.key)
        if price is None:
            missing += 1
            print(f"{inst.native_id:<22} {inst.exchange:<8} no price")
        else:
            print(f"{inst.native_id:<22} {inst.exchange:<8} {price.value:>14,.2f} ({price.kind})")
    return 1 if missing else 0
