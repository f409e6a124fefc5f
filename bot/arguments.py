"""What a trader types after a command: a symbol, a window, ``all`` for every exchange."""

from __future__ import annotations

from liqmap.market.instruments import ALL
from liqmap.market.timeframes import WINDOWS

DEFAULT_WINDOW = "7d"


def symbol_and_window(args: list[str]) -> tuple[str, str] | None:
    """``BTC``, ``BTC 7d``, ``7d BTC`` or ``BTC 7d all`` (every exchange summed: ``all:BTC``);
    None when that is not what was typed."""
    symbols, every = aggregate_of(args)
    windows = [a.lower() for a in symbols if a.lower() in WINDOWS]
    symbols = [a for a in symbols if a.lower() not in WINDOWS]
    if len(symbols) != 1 or len(windows) > 1:
        return None
    symbol = f"{ALL}:{symbols[0]}" if every else symbols[0]
    return symbol, windows[0] if windows else DEFAULT_WINDOW


def aggregate_of(args: list[str]) -> tuple[list[str], bool]:
    """The arguments without ``all``, and whether it was there (once)."""
    rest = [a for a in args if a.lower() != ALL]
    return rest, len(rest) == len(args) - 1
