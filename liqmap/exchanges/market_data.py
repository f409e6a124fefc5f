"""The one adapter to exchanges: instruments, candles, open interest and prices through ccxt.

One ccxt instance per exchange per process (ccxt rate-limits per instance). Network errors,
rate limits and malformed or implausible answers are retried (``EXCHANGE_RETRY``); bad
requests are not, and neither is anything else: a bug of ours surfaces at once. An IP ban
(Bybit's HTTP 403) stops every call to that exchange for ``Venue.ip_ban_ms``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from liqmap.engine.series import Candles, OpenInterest
from liqmap.errors import (
    BannedByExchange,
    EveryExchangeFailed,
    ExchangeError,
    ExchangeRejected,
    ExchangeUnavailable,
    InstrumentError,
    LiqmapError,
    UnknownInstrument,
    UnsupportedRequest,
)
from liqmap.exchanges.ccxt_client import (
    ImplausibleData,
    IpBanned,
    MalformedData,
    error_text,
    new_client,
)
from liqmap.formats import utc_clock
from liqmap.market.instruments import ALL, Instrument, InstrumentBook, aggregate, parse_symbol
from liqmap.market.positions import AccountRead
from liqmap.market.request_weights import ACCOUNT_READ, request_weight
from liqmap.market.timeframes import DAY_MS, MINUTE_MS, duration_text, floor_to, step_ms
from liqmap.market.venues import CENTRALIZED, VENUES, Venue
from liqmap.policies.request_gate import ANYONE, CLAIM, RequestGate, Urgency
from liqmap.policies.retry import RetryPolicy, retry_call

log = logging.getLogger(__name__)
request_log = logging.getLogger(f"{__name__}.requests")
"""One request's retries and outcome: the error a caller raises says the same in one line."""
T = TypeVar("T")

Progress = Callable[[str, int, int], None]
"""Called with (what is fetched, rows fetched so far, rows expected) while a long fetch
pages; what is fetched reads like ``okx BTC-USDT-SWAP 5m candles``."""

MARKETS_RETRY_MS = 10 * MINUTE_MS
MAX_MAINTENANCE_RATE = 0.1
"""No exchange's first margin tier asks 10% or more: a larger figure is not a rate."""


EXCHANGE_RETRY = RetryPolicy(attempts=5, first_delay=0.5, factor=2.0, max_delay=15.0)
MAX_PRICE = 1e9
"""No traded contract is priced this high: a larger figure is a broken answer."""
MAX_OPEN_INTEREST_USD = 1e13
"""Ten trillion dollars, more than every crypto market together: a larger figure is broken."""


@dataclass(frozen=True)
class Incident:
    """An exchange call that failed for good: shown to admins by ``/status``."""

    ts_ms: int
    exchange: str
    detail: str


@dataclass(frozen=True)
class Price:
    """A current price: the mark price where the exchange gives one, else the last trade."""

    value: float
    kind: str
    ts_ms: int | None
    other: float | None = None
    """The same moment from another source (index price, else last trade), if given."""


class MarketData:
    """Public market data of OKX, Binance and Bybit derivatives."""

    def __init__(
        self,
        urls: Mapping[str, str] | None = None,
        default_exchange: str = "okx",
        clock: Callable[[], int] | None = None,
        retry: RetryPolicy = EXCHANGE_RETRY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        ccxt_config: Mapping[str, Any] | None = None,
        markets_max_age_ms: int = DAY_MS,
    ) -> None:
        self.default_exchange = default_exchange
        self._urls = dict(urls or {})
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._retry = retry
        self._sleep = sleep
        self._ccxt_config = dict(ccxt_config or {})
        self._markets_max_age_ms = markets_max_age_ms
        self._clients: dict[str, Any] = {}
        self._books: dict[str, tuple[InstrumentBook, int]] = {}
        self._maintenance: dict[str, tuple[float | None, int]] = {}
        self._gates: dict[str, RequestGate] = {}
        self._banned_until: dict[str, int] = {}
        self.incidents: deque[Incident] = deque(maxlen=50)
        self.requests: Counter[str] = Counter()
        """Calls made to each exchange since the start, retries included."""
        self.errors: Counter[str] = Counter()
        """Of those, the ones that failed (retried or not)."""
        self.rate_limited: Counter[str] = Counter()
        """Of those, the ones the exchange refused for the rate (HTTP 429 and the like)."""
        self.weight_spent: Counter[tuple[str, Urgency]] = Counter()
        """The request weight spent at each exchange by each urgency, retries included
        (``request_weights``: 1 a call where the exchange documents no weights)."""
        self._book_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> MarketData:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every exchange connection this process opened."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    def now(self) -> int:
        return self._clock()

    # -- instruments ---------------------------------------------------------------------

    async def instrument(self, text: str) -> Instrument:
        """Resolve any symbol form (``BTC``, ``BTC-USDT-SWAP``, ``binance:ETH``, ``all:BTC``)."""
        query = parse_symbol(text, self.default_exchange)
        if query.exchange == ALL:
            return await self._aggregate(query.text)
        book = await self.book(query.exchange)
        return book.find(query.text, self.now())

    async def _aggregate(self, asset: str) -> Instrument:
        """The asset's USDT perpetual on every exchange that lists it and can be reached."""

        async def on(venue: str) -> Instrument | LiqmapError:
            try:
                return (await self.book(venue)).find(asset, self.now())
            except (InstrumentError, ExchangeError) as exc:
                return exc

        found = dict(
            zip(CENTRALIZED, await asyncio.gather(*(on(v) for v in CENTRALIZED)), strict=True)
        )
        members = [inst for inst in found.values() if isinstance(inst, Instrument)]
        if not members:
            down = [exc for exc in found.values() if isinstance(exc, ExchangeError)]
            if down:
                raise down[0] if len(down) == 1 else EveryExchangeFailed(down)
            raise UnknownInstrument(asset, ALL)
        missing = [
            (venue, _left_out(result, asset))
            for venue, result in found.items()
            if not isinstance(result, Instrument)
        ]
        return aggregate(asset, members, missing)

    async def book(self, exchange: str) -> InstrumentBook:
        """The exchange's instrument list: loaded once, reloaded when a day old."""
        lock = self._book_locks.setdefault(exchange, asyncio.Lock())
        async with lock:
            cached = self._books.get(exchange)
            if cached is not None and self.now() < cached[1]:
                return cached[0]
            client = self.client(exchange)
            try:
                markets = await self._call(
                    exchange, client.load_markets, cached is not None, parse=_markets
                )
            except ExchangeUnavailable as exc:
                if cached is None:
                    raise
                log.warning("keeping the %s instrument list from before: %s", exchange, exc)
                self._books[exchange] = (cached[0], self.now() + MARKETS_RETRY_MS)
                return cached[0]
            book = InstrumentBook.from_markets(exchange, markets)
            self._books[exchange] = (book, self.now() + self._markets_max_age_ms)
            return book

    async def maintenance_rate(self, inst: Instrument) -> float | None:
        """First-tier maintenance-margin rate from the exchange's public tiers (daily cache).

        None where the exchange needs an API key for tiers (Binance) or could not answer;
        the caller falls back to a default.
        """
        cached = self._maintenance.get(inst.key)
        if cached is not None and self.now() < cached[1]:
            return cached[0]
        rate = None
        if VENUES[inst.exchange].public_tiers:
            client = self.client(inst.exchange)
            try:
                rates = await self._call(
                    inst.exchange,
                    client.fetch_market_leverage_tiers,
                    inst.symbol,
                    {"marginMode": "isolated"},
                    parse=_maintenance_rates,
                    symbol=inst.native_id,
                )
                rate = _as_rate(min(rates)) if rates else None
            except (ExchangeUnavailable, ExchangeRejected, UnknownInstrument) as exc:
                log.warning("no margin tiers for %s, using the default: %s", inst, exc)
        self._maintenance[inst.key] = (rate, self.now() + self._markets_max_age_ms)
        return rate

    # -- candles and open interest --------------------------------------------------------

    async def candles(
        self,
        inst: Instrument,
        step: str,
        since: int,
        until: int | None = None,
        progress: Progress | None = None,
    ) -> Candles:
        """Closed candles with open time in ``[since, until)``; ``until`` defaults to now."""
        length = step_ms(step)
        end = min(until if until is not None else self.now(), floor_to(self.now(), length))
        rows = await self._candle_rows(inst, step, since, end, progress)
        return Candles.from_rows(length, rows)

    @staticmethod
    def _series(inst: Instrument, step: str, what: str) -> str:
        return f"{inst.exchange} {inst.native_id} {step} {what}"

    async def open_interest(
        self,
        inst: Instrument,
        step: str,
        since: int,
        until: int | None = None,
        progress: Progress | None = None,
    ) -> OpenInterest:
        """Open interest in USD at ``step`` with time in ``[since, until)``.

        Raises ``UnsupportedRequest`` for a step the exchange does not keep or a start older
        than the history it documents. Where it documents none (OKX), what it does not keep
        is simply missing from the answer.
        """
        venue = VENUES[inst.exchange]
        length = step_ms(step)
        now = self.now()
        end = min(until if until is not None else now + 1, now + 1)
        check_oi_request(venue, step, since, now)
        since = venue.oi_start(since, step, now)
        client = self.client(inst.exchange)

        need_usd = venue.oi_in_usd or inst.inverse

        async def page(cursor: int, page_end: int) -> list[list[float]]:
            return await self._call(
                inst.exchange,
                client.fetch_open_interest_history,
                inst.symbol,
                step,
                cursor,
                venue.oi_page,
                {"until": page_end - 1},
                parse=lambda raw: _oi_rows(raw, need_usd, venue.oi_both_sides),
                symbol=inst.native_id,
            )

        rows = await self._paginate(
            page, since, end, length, lambda _: venue.oi_page, progress,
            self._series(inst, step, "open interest"),
        )  # fmt: skip
        if not need_usd:
            rows = await self._value_in_usd(inst, step, rows)
        return OpenInterest.from_rows(length, [(ts, usd) for ts, usd, _ in rows])

    async def _candle_rows(
        self, inst: Instrument, step: str, since: int, end: int, progress: Progress | None
    ) -> list[list[float]]:
        venue = VENUES[inst.exchange]
        client = self.client(inst.exchange)
        length = step_ms(step)
        now = self.now()

        async def page(cursor: int, page_end: int) -> list[list[float]]:
            limit, params = venue.candle_request(cursor, length, now)
            return await self._call(
                inst.exchange,
                client.fetch_ohlcv,
                inst.symbol,
                step,
                cursor,
                limit,
                {**params, "until": page_end - 1},
                parse=_candle_rows,
                symbol=inst.native_id,
                weight=request_weight(venue, "fetch_ohlcv", limit),
            )

        def page_rows(cursor: int) -> int:
            return venue.candle_request(cursor, length, now)[0]

        series = self._series(inst, step, "candles")
        return await self._paginate(page, since, end, length, page_rows, progress, series)

    async def _value_in_usd(
        self, inst: Instrument, step: str, rows: list[list[float]]
    ) -> list[list[float]]:
        """Value OI given in base coins at the open price of the candle at each row's time."""
        if not rows:
            return rows
        length = step_ms(step)
        first, last = int(rows[0][0]), int(rows[-1][0])
        candles = await self._candle_rows(inst, step, first, last + length, None)
        opens = {int(row[0]): row[1] for row in candles}
        valued = [
            [ts, amount * opens[int(ts)], amount] for ts, _, amount in rows if int(ts) in opens
        ]
        if any(usd > MAX_OPEN_INTEREST_USD for _, usd, _ in valued):
            log.warning("%s: open interest valued beyond any market", inst)
            self.incidents.append(Incident(self.now(), inst.exchange, "implausible data"))
            raise ExchangeUnavailable(inst.exchange, "implausible data")
        if len(valued) < len(rows):
            log.warning(
                "%s: %d open-interest rows had no candle to value them",
                inst,
                len(rows) - len(valued),
            )
        return valued

    async def _paginate(
        self,
        fetch_page: Callable[[int, int], Awaitable[list[list[float]]]],
        since: int,
        end: int,
        step: int,
        page_rows: Callable[[int], int],
        progress: Progress | None,
        series: str,
    ) -> list[list[float]]:
        """Fetch ``[since, end)`` page by page, oldest first; each page spans ``rows`` steps."""
        by_ts: dict[int, list[float]] = {}
        expected = max(0, math.ceil((end - since) / step))
        cursor = since
        while cursor < end:
            page_end = min(end, cursor + page_rows(cursor) * step)
            fetched = await fetch_page(cursor, page_end)
            page = [row for row in fetched if cursor <= row[0] < page_end]
            for row in page:
                by_ts[int(row[0])] = row
            cursor = int(max(row[0] for row in page)) + step if page else page_end
            if progress is not None:
                progress(series, len(by_ts), expected)
        return [by_ts[ts] for ts in sorted(by_ts)]

    # -- open interest now ---------------------------------------------------------------

    async def largest(self, exchange: str, count: int) -> list[Instrument]:
        """The exchange's ``count`` perpetuals quoted in its home settlement currency (USDT;
        Hyperliquid USDC) with the most open interest in USD now, in one request;
        ``UnsupportedRequest`` where the exchange has no such request. Where the exchange
        gives OI in coins only (``oi_recorded``), coins at the mark (``open_interest_now``)."""
        client = self.client(exchange)
        if not client.has.get("fetchOpenInterests"):
            raise UnsupportedRequest(f"{exchange} does not list open interest for all swaps")
        venue = VENUES[exchange]
        book = await self.book(exchange)
        perps = {
            i.symbol: i
            for i in book.instruments
            if i.kind == "swap" and i.quote == venue.home_settle
        }
        parse = _coins_at_mark if venue.oi_recorded else _usd_values
        found = await self._call(exchange, client.fetch_open_interests, None, parse=parse)
        usd = {symbol: value for symbol, value in found.items() if symbol in perps}
        return [perps[s] for s in sorted(usd, key=usd.__getitem__, reverse=True)[:count]]

    async def open_interest_now(self, exchange: str) -> dict[str, float]:
        """Current open interest in USD of the exchange's perpetuals by ccxt symbol, in one
        request: coins at the mark price. For venues without OI history (``oi_recorded``):
        ccxt 4.5.x ``hyperliquid.fetch_open_interests`` reads ``metaAndAssetCtxs`` and gives
        ``openInterest`` in coins as ``openInterestAmount``, ``openInterestValue`` None."""
        client = self.client(exchange)
        return await self._call(exchange, client.fetch_open_interests, None, parse=_coins_at_mark)

    # -- accounts ------------------------------------------------------------------------

    async def account(self, address: str) -> AccountRead:
        """The open positions of one Hyperliquid account (``clearinghouseState``, weight 2),
        through the request gate; malformed positions skipped and counted."""
        from liqmap.exchanges.positions import parse_clearinghouse_state

        client = self.client("hyperliquid")
        body = {"type": ACCOUNT_READ, "user": address}
        fallback = self.now()
        return await self._call(
            "hyperliquid",
            client.public_post_info,
            body,
            parse=lambda raw: parse_clearinghouse_state(address, raw, fallback),
            weight=request_weight(VENUES["hyperliquid"], ACCOUNT_READ),
        )

    # -- prices --------------------------------------------------------------------------

    async def prices(self, instruments: Iterable[Instrument]) -> dict[str, Price]:
        """Current prices keyed by ``Instrument.key``: one request per exchange and kind.

        An aggregate's price is the median of its members' (an exchange failing leaves it to
        the others); an exchange failing for an instrument asked for directly raises.
        """
        wanted = list(instruments)
        groups: dict[tuple[str, str], list[Instrument]] = {}
        direct: set[tuple[str, str]] = set()
        for inst in wanted:
            for member in inst.members or (inst,):
                venue = VENUES[member.exchange]
                group = (member.exchange, venue.price_group(member.kind, member.linear))
                groups.setdefault(group, []).append(member)
                if not inst.is_aggregate:
                    direct.add(group)
        found: dict[str, Price] = {}
        for group, members in groups.items():
            try:
                found |= await self._group_prices(group[0], members)
            except LiqmapError as exc:
                if group in direct:
                    raise
                log.warning("no %s prices for the aggregates this round: %s", group[0], exc)
        for inst in wanted:
            if inst.is_aggregate:
                prices = [found[m.key] for m in inst.members if m.key in found]
                if prices:
                    found[inst.key] = _median_price(prices)
        return found

    async def _group_prices(
        self, exchange_name: str, members: list[Instrument]
    ) -> dict[str, Price]:
        """Prices of instruments of one exchange and kind, in one request (two if marks lack)."""
        client = self.client(exchange_name)
        symbols = list(dict.fromkeys(inst.symbol for inst in members))
        has_marks = bool(client.has.get("fetchMarkPrices"))
        fetch = client.fetch_mark_prices if has_marks else client.fetch_tickers
        by_symbol = await self._call(exchange_name, fetch, symbols, parse=_ticker_prices)
        unpriced = [s for s in symbols if s not in by_symbol]
        if unpriced and has_marks:
            last_trades = await self._call(
                exchange_name, client.fetch_tickers, unpriced, parse=_ticker_prices
            )
            by_symbol = last_trades | by_symbol
        return {inst.key: by_symbol[inst.symbol] for inst in members if inst.symbol in by_symbol}

    # -- plumbing ------------------------------------------------------------------------

    def client(self, name: str) -> Any:
        """The exchange's ccxt instance (untyped: what it answers goes through ``_call``),
        made on first use and kept until ``close``: one per exchange per process."""
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = new_client(
                VENUES[name], self._urls.get(name), self._ccxt_config
            )
            self._gates[name] = RequestGate(client.rateLimit / 1000)
        return client

    @property
    def clients(self) -> Mapping[str, Any]:
        """The ccxt instances open now, by exchange."""
        return MappingProxyType(self._clients)

    def bans(self) -> dict[str, str]:
        """Exchanges not called now because they banned this IP, and until when, by exchange:
        ``IP banned by Bybit (HTTP 403), not called again until 12:10 UTC``."""
        now = self.now()
        return {
            exchange: _ban_text(exchange, until)
            for exchange, until in self._banned_until.items()
            if now < until
        }

    def _check_ban(self, exchange: str) -> None:
        """Raise ``ExchangeUnavailable`` while ``exchange`` bans this IP."""
        ban = self.bans().get(exchange)
        if ban is not None:
            raise BannedByExchange(exchange, ban)

    async def _call(
        self,
        exchange: str,
        fn: Callable[..., Awaitable[object]],
        *args: object,
        parse: Callable[[Any], T],
        symbol: str = "",
        weight: int | None = None,
    ) -> T:
        """Run one ccxt call and parse its answer into our types: retry what may pass (the
        parser raises ``MalformedData`` for an answer that is not market data), map the rest.
        ``weight``: what the call weighs at the exchange (default: by its name,
        ``request_weight``)."""
        import ccxt.async_support as ccxt

        name = getattr(fn, "__name__", "request")
        transient = _transient()
        cost = weight if weight is not None else request_weight(VENUES[exchange], name)

        async def attempt() -> T:
            self._check_ban(exchange)
            claim = CLAIM.get() or ANYONE
            await self._gates[exchange].turn(claim, cost)
            self.requests[exchange] += 1
            self.weight_spent[(exchange, claim.urgency)] += cost
            try:
                return parse(await fn(*args))
            except Exception as exc:
                self.errors[exchange] += 1
                if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
                    self.rate_limited[exchange] += 1
                raise

        def retrying(exc: BaseException, delay: float) -> None:
            kind, text = _failure_kind(exc), error_text(exc, 120)
            request_log.warning(
                "%s %s failed (%s: %s), retrying in %.1fs", exchange, name, kind, text, delay
            )

        try:
            return await retry_call(attempt, self._retry, transient, retrying, sleep=self._sleep)
        except IpBanned as exc:
            until = self._banned_until[exchange] = self.now() + (VENUES[exchange].ip_ban_ms or 0)
            request_log.warning("%s %s: %s; %s", exchange, name, exc, _ban_text(exchange, until))
            self.incidents.append(Incident(self.now(), exchange, f"{name}: IP banned (HTTP 403)"))
            raise BannedByExchange(exchange, _ban_text(exchange, until)) from exc
        except ccxt.BadSymbol:
            raise UnknownInstrument(symbol or "?", exchange) from None
        except transient as exc:
            kind = _failure_kind(exc)
            request_log.warning("%s %s failed for good: %s", exchange, name, error_text(exc))
            self.incidents.append(Incident(self.now(), exchange, f"{name}: {kind}"))
            raise ExchangeUnavailable(exchange, kind) from exc
        except ccxt.BaseError as exc:
            log.warning("%s %s rejected: %s", exchange, name, error_text(exc))
            self.incidents.append(Incident(self.now(), exchange, f"{name}: {error_text(exc, 80)}"))
            raise ExchangeRejected(exchange, error_text(exc, 160)) from exc


def _transient() -> tuple[type[BaseException], ...]:
    import ccxt.async_support as ccxt

    return (ccxt.NetworkError, ccxt.BadResponse, MalformedData)


def check_oi_request(venue: Venue, step: str, since: int, now: int) -> None:
    """Raise ``UnsupportedRequest`` for a step the exchange does not keep, or a start older
    than the history it documents."""
    if step not in venue.oi_steps:
        raise UnsupportedRequest(
            f"{venue.name} keeps open-interest history only at "
            f"{', '.join(venue.oi_steps)} steps, not {step}"
        )
    earliest = venue.earliest_oi(step, now)
    if earliest is not None and venue.oi_retention_ms is not None and since < earliest:
        raise UnsupportedRequest(
            f"{venue.name} keeps open interest only for "
            f"{duration_text(venue.oi_retention_ms)}; ask for a shorter window"
        )


def _candle_rows(raw: Any) -> list[list[float]]:
    """``[ts, open, high, low, close, volume]`` rows from ccxt OHLCV lists, checked."""
    rows = []
    for row in raw or []:
        try:
            ts, o, h, low, c = (float(x) for x in row[:5])
            volume = float(row[5]) if row[5] is not None else math.nan
        except (TypeError, ValueError, IndexError):
            raise MalformedData(f"bad candle row {row!r:.80}") from None
        prices_ok = all(math.isfinite(x) and x > 0 for x in (o, h, low, c))
        if not (prices_ok and low <= min(o, c) and h >= max(o, c)):
            raise MalformedData(f"bad candle row {row!r:.80}")
        if h > MAX_PRICE:
            raise ImplausibleData(f"candle price {h:.3g} is beyond any market")
        rows.append([ts, o, h, low, c, volume])
    return rows


def _markets(raw: Any) -> list[Mapping[str, Any]]:
    """ccxt's market structures, from the table ``load_markets`` answers with."""
    return list((raw or {}).values())


def _maintenance_rates(raw: Any) -> list[float]:
    """The maintenance-margin rates of ccxt leverage tiers that give one."""
    return [float(t["maintenanceMarginRate"]) for t in raw or [] if t.get("maintenanceMarginRate")]


def _usd_values(raw: Any) -> dict[str, float]:
    """Open interest in USD by symbol from ccxt open-interest structures, where positive."""
    return {
        symbol: value
        for symbol, row in (raw or {}).items()
        if (value := _positive((row or {}).get("openInterestValue")))
    }


def _coins_at_mark(raw: Any) -> dict[str, float]:
    """Open interest in USD by symbol: ``openInterestAmount`` coins at ``info.markPx``, where
    both are positive; ``ImplausibleData`` beyond any market."""
    found = {}
    for symbol, row in (raw or {}).items():
        row = row or {}
        coins = _positive(row.get("openInterestAmount"))
        mark = _positive((row.get("info") or {}).get("markPx"))
        if coins and mark:
            found[symbol] = coins * mark
    if any(usd > MAX_OPEN_INTEREST_USD for usd in found.values()):
        raise ImplausibleData("open interest beyond any market")
    return found


def _ticker_prices(raw: Any) -> dict[str, Price]:
    """Prices by symbol from ccxt tickers (or mark prices), where they give one."""
    return {
        symbol: price
        for symbol, ticker in (raw or {}).items()
        if (price := _ticker_price(ticker)) is not None
    }


def _oi_rows(raw: Any, need_usd: bool, both_sides: bool) -> list[list[float]]:
    """``[ts, usd, base amount]`` rows from ccxt open-interest structures (NaN if not given).

    Where the exchange counts both sides, one side is ``info.singleOpenInterest`` when given,
    else half the figure (ccxt reads only the two-sided ``openInterest``).
    """
    rows = []
    for item in raw or []:
        try:
            ts = float(item["timestamp"])
            value, amount = item.get("openInterestValue"), item.get("openInterestAmount")
            usd = float(value) if value is not None else math.nan
            base = float(amount) if amount is not None else math.nan
            if both_sides:
                usd, base = _one_side(item.get("info") or {}, usd, base)
        except (TypeError, ValueError, KeyError, AttributeError):
            raise MalformedData(f"bad open-interest row {item!r:.80}") from None
        wanted = usd if need_usd else base
        if not (math.isfinite(wanted) and wanted >= 0):
            raise MalformedData(f"open-interest row without a valid value {item!r:.80}")
        if usd > MAX_OPEN_INTEREST_USD:
            raise ImplausibleData(f"open interest of {usd:.3g} USD is beyond any market")
        rows.append([ts, usd, base])
    return rows


def _one_side(info: Mapping[str, Any], usd: float, base: float) -> tuple[float, float]:
    """One side of a two-sided open interest, in the units ccxt gave it."""
    single = info.get("singleOpenInterest")
    if single in (None, ""):
        return usd / 2, base / 2
    one = float(single)
    return (one if math.isfinite(usd) else usd), (one if math.isfinite(base) else base)


def _as_rate(value: float) -> float | None:
    """A first-tier maintenance rate, or None where it is not a plausible fraction."""
    if 0 < value < MAX_MAINTENANCE_RATE:
        return value
    log.warning("ignoring an implausible first-tier maintenance rate %r", value)
    return None


def _ticker_price(ticker: Mapping[str, Any] | None) -> Price | None:
    if not ticker:
        return None
    mark, last, index = (_positive(ticker.get(k)) for k in ("markPrice", "last", "indexPrice"))
    if mark is not None:
        return Price(mark, "mark", ticker.get("timestamp"), index or last)
    if last is not None:
        return Price(last, "last", ticker.get("timestamp"), index)
    return None


def _median_price(prices: list[Price]) -> Price:
    """One price for several exchanges: the median, its kind if all agree, the latest time."""
    values = sorted(p.value for p in prices)
    middle = len(values) // 2
    value = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    kinds = {p.kind for p in prices}
    times = [p.ts_ms for p in prices if p.ts_ms is not None]
    return Price(value, kinds.pop() if len(kinds) == 1 else "median", max(times, default=None))


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _failure_kind(exc: BaseException) -> str:
    import ccxt.async_support as ccxt

    for cls, text in (
        (ccxt.RateLimitExceeded, "rate limited"),
        (ccxt.DDoSProtection, "rate limited"),
        (ccxt.OnMaintenance, "under maintenance"),
        (ccxt.RequestTimeout, "timed out"),
        (ccxt.ExchangeNotAvailable, "not reachable"),
        (ccxt.NetworkError, "network error"),
    ):
        if isinstance(exc, cls):
            return text
    if isinstance(exc, ImplausibleData):
        return "implausible data"
    return "malformed response"


def _ban_text(exchange: str, until: int) -> str:
    return (
        f"IP banned by {exchange.capitalize()} (HTTP 403), not called again until "
        f"{utc_clock(until)}"
    )


def _left_out(error: LiqmapError, asset: str) -> str:
    """Why an aggregate of ``asset`` leaves an exchange out."""
    if isinstance(error, ExchangeError):
        return f"left out: {error.detail}"
    return f"does not list {asset}"
