"""Deep links that open a map: ``https://t.me/<bot>?start=map_<SYMBOL>_<WINDOW>``.

Telegram's start parameter holds at most 64 characters of ``A-Z a-z 0-9 _ -``. ``<SYMBOL>``
is a bare symbol (``map_BTC_7d``) or an instrument key with its ``exchange:`` written
``exchange_`` (``map_okx_BTC-USDT-SWAP_7d``; ``map_all_BTC_7d`` for every exchange summed);
the window is what follows the last ``_``, so symbols may hold ``-`` and ``_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from liqmap.market.instruments import ALL
from liqmap.market.timeframes import WINDOWS
from liqmap.market.venues import VENUES

PREFIX = "map_"
_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class MapLink:
    """The map a deep link opens: a symbol as ``/map`` takes it, and a window."""

    symbol: str
    window: str


def map_parameter(key: str, window: str) -> str | None:
    """The start parameter opening ``key``'s map at ``window``; None if it cannot fit."""
    exchange, colon, native = key.partition(":")
    parameter = f"{PREFIX}{exchange}_{native}_{window}" if colon else f"{PREFIX}{key}_{window}"
    return parameter if _PARAMETER.match(parameter) else None


def parse_map_parameter(parameter: str) -> MapLink | None:
    """The map a start parameter asks for; None for anything else."""
    if not (parameter.startswith(PREFIX) and _PARAMETER.match(parameter)):
        return None
    symbol, _, window = parameter.removeprefix(PREFIX).rpartition("_")
    if not symbol or window not in WINDOWS:
        return None
    head, underscore, rest = symbol.partition("_")
    if underscore and rest and head.lower() in (*VENUES, ALL):
        symbol = f"{head.lower()}:{rest}"
    return MapLink(symbol, window)


def share_url(bot_username: str, key: str, window: str) -> str | None:
    """A link anyone can tap to get this map from the bot."""
    parameter = map_parameter(key, window)
    return f"https://t.me/{bot_username}?start={parameter}" if parameter else None
