"""The ccxt instance of one venue, REST (ccxt) or websocket (ccxt.pro), at its URL override.

Shared by the REST adapter (``market_data``) and the liquidation stream: the same options, the
same refusal of answers that are not market data, the same short text of a ccxt error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from liqmap.market.venues import Venue

OVERSIZED_PAGE = 2
"""An answer with more than this many times the rows asked for is not a real page."""


class MalformedData(Exception):
    """The exchange answered with rows that are not valid market data."""


class IpBanned(Exception):
    """The exchange answered with the HTTP status that means this IP is banned
    (``Venue.ip_ban_ms``)."""


class ImplausibleData(MalformedData):
    """The exchange answered with well-formed but impossible data: an open interest beyond
    any market, a page many times larger than asked for."""


def new_client(
    venue: Venue, url: str | None, config: Mapping[str, Any], base_class: type | None = None
) -> Any:
    """A ccxt instance of ``base_class`` (default: the venue's async REST class) reaching the
    REST API at ``url`` (None: the exchange's own host).

    ccxt publishes no types: the instance is ``Any``, and what it answers is checked where it
    is read.
    """
    import ccxt.async_support as ccxt

    base_class = base_class or getattr(ccxt, venue.ccxt_id)

    class StrictJson(base_class):  # type: ignore[misc, valid-type]  # a ccxt class: untyped
        """Refuses a successful HTTP answer whose body is not JSON (ccxt reads it as empty),
        and a page far larger than asked for (ccxt would parse it all, then cut it); raises
        ``IpBanned`` for an HTTP 403 where that is a ban."""

        def handle_errors(
            self,
            code: int | None,
            reason: str,
            url: str,
            method: str,
            headers: Mapping[str, str],
            body: str,
            response: Any,
            *rest: Any,
        ) -> Any:
            if code == 403 and venue.ip_ban_ms is not None:
                raise IpBanned(f"{self.id} answered HTTP 403: {error_text(Exception(body), 80)}")
            if response is None and code is not None and code < 400:
                raise ccxt.BadResponse(f"{self.id} answered with a body that is not JSON")
            _check_page_size(url, response)
            return super().handle_errors(code, reason, url, method, headers, body, response, *rest)

    options = {"fetchMarkets": {"types": list(venue.market_types)}}
    pace = {"rateLimit": venue.rate_limit_ms} if venue.rate_limit_ms else {}
    exchange = StrictJson({"enableRateLimit": True, "timeout": 10_000, **pace, **config})
    exchange.options.update(options)
    if url:
        exchange.urls["api"] = {
            key: value.replace(venue.rest_origin, url, 1) if isinstance(value, str) else value
            for key, value in exchange.urls["api"].items()
        }
    return exchange


def error_text(exc: BaseException, limit: int = 300) -> str:
    """An error's text on one line, cut to ``limit`` characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wire_number(value: Any) -> float | None:
    """A finite number from a field of an exchange's message (a decimal string or a JSON
    number); None for anything else, a boolean included."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _check_page_size(url: str, answer: Any) -> None:
    """Raise ``ImplausibleData`` when an answer holds many times the rows its request's
    ``limit`` asked for: OKX sends rows in ``data``, Bybit in ``result.list``, Binance a list."""
    asked = parse_qs(urlsplit(url).query).get("limit")
    if not asked or not asked[0].isdigit():
        return
    rows = answer
    if isinstance(answer, dict):
        rows = answer.get("data", (answer.get("result") or {}).get("list"))
    limit = int(asked[0])
    if isinstance(rows, list) and len(rows) > OVERSIZED_PAGE * limit:
        raise ImplausibleData(f"asked for at most {limit:,} rows, got {len(rows):,}")
