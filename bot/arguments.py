"""What a trader types after a command, read by pure parsers: a request, or a ``Refusal``.

Each parser takes the words after the command (any text at all) and never raises: what it
cannot use becomes a ``Refusal`` whose reason, with the command's usage, is the one-line answer
(``bot.texts.common.refused``).
"""

from __future__ import annotations

from dataclasses import dataclass

from liqmap.market.instruments import ALL
from liqmap.market.timeframes import WINDOWS
from liqmap.market.venues import POSITIONS_PUBLIC, VENUES
from liqmap.signals.chat_settings import SettingError, parse_distance
from liqmap.signals.growing_clusters import BUILDING
from liqmap.signals.proximity import REAL
from liqmap.signals.screener import DEFAULT_TOP, MAX_TOP

DEFAULT_WINDOW = "7d"
MAX_DIGITS = 6
"""Longer whole numbers are refused before ``int`` sees them (it refuses over 4,300 digits)."""


@dataclass(frozen=True)
class Refusal:
    """Arguments a command cannot use: why, in a few words (empty: the usage says it all)."""

    reason: str = ""


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high``; None for anything else.

    Only ASCII digits count: ``str.isdigit`` also accepts superscripts such as ``²``, which
    ``int`` refuses, and ``int`` reads other scripts' digits (``٣``) a trader never meant.
    """
    if not (text.isascii() and text.isdecimal()) or len(text) > MAX_DIGITS:
        return None
    number = int(text)
    return number if low <= number <= high else None


def top_count(args: list[str]) -> int | Refusal:
    """``N`` of ``/top [N]``: ``DEFAULT_TOP`` when not given, else 1 to ``MAX_TOP``."""
    if not args:
        return DEFAULT_TOP
    if len(args) == 1 and args[0].lower() in (*VENUES, ALL):
        return Refusal(
            f"/top takes no exchange: it screens this chat's watchlist, or without one the "
            f"default exchange's largest perpetuals; /subscribe {args[0].lower()}:BTC puts one "
            "in the watchlist"
        )
    count = whole_number(args[0], 1, MAX_TOP) if len(args) == 1 else None
    return Refusal() if count is None else count


@dataclass(frozen=True)
class Setup:
    """What a subscription is set to: its own alert distance (None: the chat's), whether
    building-cluster alerts are on, and whether real-cluster alerts are."""

    distance_pct: float | None = None
    building: bool = False
    real: bool = False

    def within(self, default_pct: float) -> float:
        """The distance alerts come within: its own, else the chat's ``default_pct``."""
        return default_pct if self.distance_pct is None else self.distance_pct


@dataclass(frozen=True)
class Follow:
    """What ``/subscribe`` asks: a symbol as typed, and what to set; None keeps what an existing
    subscription has (a new one starts from ``Setup()``)."""

    symbol: str
    distance_pct: float | None = None
    building: bool | None = None
    real: bool | None = None

    def applied(self, setup: Setup) -> Setup:
        """``setup`` with what was asked changed, the rest kept."""
        return Setup(
            setup.distance_pct if self.distance_pct is None else self.distance_pct,
            setup.building if self.building is None else self.building,
            setup.real if self.real is None else self.real,
        )


OPTIONS = (BUILDING, REAL)
"""The alerts ``/subscribe`` turns on (``building``) or off (``building off``)."""


def follow_request(args: list[str]) -> Follow | Refusal:
    """``/subscribe BTC [all] [0.8%] [building [on|off]] [real [on|off]]``: the options at
    the end, in any order, each at most once."""
    words, every = aggregate_of(args)
    if len(words) < len(args) - 1:
        return Refusal()
    options: dict[str, bool] = {}
    while words:
        lowered = [word.lower() for word in words[-2:]]
        if len(lowered) == 2 and lowered[0] in OPTIONS and lowered[1] in ("on", "off"):
            name, on, words = lowered[0], lowered[1] == "on", words[:-2]
        elif lowered[-1] in OPTIONS:
            name, on, words = lowered[-1], True, words[:-1]
        else:
            break
        if name in options:
            return Refusal(f"{name} is named twice")
        options[name] = on
    if not 1 <= len(words) <= 2:
        return Refusal()
    try:
        distance = parse_distance(words[1]) if len(words) == 2 else None
    except SettingError as exc:
        return Refusal(str(exc))
    symbol = f"{ALL}:{words[0]}" if every else words[0]
    return Follow(symbol, distance, options.get(BUILDING), options.get(REAL))


@dataclass(frozen=True)
class Unfollow:
    """What ``/unsubscribe`` stops: one symbol as typed (``all:BTC`` summed), or None: all."""

    symbol: str | None


def unfollow(args: list[str]) -> Unfollow | Refusal:
    """``/unsubscribe BTC``, ``BTC all`` (the summed one) or ``all`` (every subscription)."""
    symbols, every = aggregate_of(args)
    if not symbols and every:
        return Unfollow(None)
    if len(symbols) != 1 or len(args) > 2:
        return Refusal()
    return Unfollow(f"{ALL}:{symbols[0]}" if every else symbols[0])


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


def whales_symbol(args: list[str]) -> str | Refusal:
    """``/whales BTC`` or ``/whales hyperliquid:BTC``: the symbol on the venue whose positions
    are public (a bare coin means it); another venue is refused."""
    if len(args) != 1 or not POSITIONS_PUBLIC:
        return Refusal()
    head, colon, _ = args[0].partition(":")
    if not colon or "/" in head:
        return f"{POSITIONS_PUBLIC[0]}:{args[0]}"
    if head.lower() not in POSITIONS_PUBLIC:
        public = " and ".join(POSITIONS_PUBLIC)
        return Refusal(f"positions are public only on {public}, not {head[:20]}")
    return args[0]
