"""The ``liqmap`` command line: the composition root that wires config, exchanges and storage."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from liqmap.config import Settings, load_settings
from liqmap.errors import ConfigError, LiqmapError
from liqmap.market_data import MarketData
from liqmap.timeframes import STEPS, WINDOWS

log = logging.getLogger("liqmap")

DEFAULT_STEP = {"1d": "1m", "7d": "5m", "30d": "15m"}
"""Candle step used for each window unless ``--step`` says otherwise."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        settings = load_settings()
        return asyncio.run(args.command(args, settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except LiqmapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqmap",
        description="Liquidation maps for crypto derivatives, their clusters, and alerts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    fetch = commands.add_parser(
        "fetch",
        help="fetch candles and open interest into the cache",
        description="Bring the cache (LIQMAP_DB) up to date for one instrument and window; "
        "only what the cache lacks is fetched.",
    )
    _symbol_arguments(fetch)
    fetch.add_argument("--step", choices=list(STEPS), help="candle step (default per window)")
    fetch.set_defaults(command=_fetch)

    price = commands.add_parser("price", help="print current prices (mark, else last)")
    price.add_argument("symbols", nargs="+", metavar="SYMBOL")
    price.add_argument("--exchange", help="exchange for bare symbols (default LIQMAP_EXCHANGE)")
    price.set_defaults(command=_price)
    return parser


def _symbol_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", help="e.g. BTC, BTC-USDT-SWAP, binance:ETH")
    parser.add_argument("--exchange", help="exchange for bare symbols (default LIQMAP_EXCHANGE)")
    parser.add_argument("--window", choices=list(WINDOWS), default="1d", help="default 1d")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "ccxt", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _market_data(settings: Settings, exchange: str | None) -> MarketData:
    return MarketData(
        urls=settings.exchange_urls, default_exchange=(exchange or settings.default_exchange)
    )


async def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.market_sync import sync_window
    from storage.database import open_database
    from storage.market_cache import MarketCache

    db = open_database(settings.db_path)
    try:
        async with _market_data(settings, args.exchange) as market:
            inst = await market.instrument(args.symbol)
            step = args.step or DEFAULT_STEP[args.window]
            window = await sync_window(
                market, MarketCache(db), inst, args.window, step, ProgressLine(sys.stderr)
            )
    finally:
        db.close()
    candles, oi = window.candles, window.open_interest
    print(f"{inst.native_id} on {inst.exchange}, {args.window} at {step}:")
    if len(candles):
        print(
            f"  {len(candles):,} candles {_utc(candles.ts[0])} -> {_utc(candles.ts[-1])}, "
            f"last close {candles.close[-1]:,.2f}"
        )
    else:
        print("  no candles in this window")
    if len(oi):
        print(
            f"  {len(oi):,} open-interest rows at {window.oi_step}, "
            f"latest {oi.usd[-1] / 1e6:,.1f}M USD at {_utc(oi.ts[-1])}"
        )
    else:
        print(f"  no open-interest rows at {window.oi_step} in this window")
    print(f"  cached in {settings.db_path}")
    return 0


async def _price(args: argparse.Namespace, settings: Settings) -> int:
    async with _market_data(settings, args.exchange) as market:
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


class ProgressLine:
    """Shows paging progress of long fetches on a terminal line (or every 10% to a log)."""

    def __init__(self, stream: TextIO, min_rows: int = 2000) -> None:
        self.stream = stream
        self.min_rows = min_rows
        self._shown = -1

    def __call__(self, done: int, expected: int) -> None:
        if expected < self.min_rows:
            return
        tenth = min(10, done * 10 // max(expected, 1))
        if self.stream.isatty():
            end = "\n" if done >= expected else ""
            self.stream.write(f"\r  fetched {done:,}/{expected:,} rows{end}")
        elif tenth > self._shown:
            self.stream.write(f"  fetched {done:,}/{expected:,} rows\n")
        self._shown = tenth
        self.stream.flush()


def _utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(int(ts_ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    raise SystemExit(main())
