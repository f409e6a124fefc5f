"""What the commands share on the command line: the shape of a command, argument types and the
symbol arguments."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeAlias

from liqmap.cli.tuning import Tuning
from liqmap.config import Settings
from liqmap.market.instruments import ALL
from liqmap.market.timeframes import STEPS, WINDOWS
from liqmap.market.venues import VENUES

Command: TypeAlias = Callable[[argparse.Namespace, Settings, Tuning], Coroutine[Any, Any, int]]
"""A command: its arguments, the settings and the tuning in; the exit status out."""
# argparse names the type of add_subparsers' result only privately
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001
"""Where each command group adds its commands' parsers."""

EXCHANGE_HELP = (
    "exchange for bare symbols: okx, binance, bybit, hyperliquid, or all for the first three "
    "summed "
    "(default LIQMAP_EXCHANGE)"
)


def symbol_arguments(parser: argparse.ArgumentParser) -> None:
    """An instrument and its window: the arguments of ``map``, ``heatmap`` and ``fetch``."""
    parser.add_argument("symbol", metavar="SYMBOL", help="e.g. BTC, BTC-USDT-SWAP, binance:ETH")
    parser.add_argument("--exchange", type=exchange_name, help=EXCHANGE_HELP)
    parser.add_argument("--window", choices=list(WINDOWS), default="7d", help="default 7d")
    parser.add_argument("--step", choices=list(STEPS), help="candle step (default per window)")


def exchange_name(text: str) -> str:
    """An exchange of ``--exchange``: a venue's name, or ``all``, in any case."""
    name = text.strip().lower()
    if name not in (*VENUES, ALL):
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join([*VENUES, ALL])}, got {text!r}"
        )
    return name


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def iso_time(text: str) -> int:
    """Milliseconds since the epoch of an ISO time (UTC unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO time such as 2026-03-01T12:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
