"""Instruments and how a symbol a trader types resolves to exactly one of them."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from liqmap.errors import ExpiredInstrument, InstrumentError, UnknownExchange, UnknownInstrument
from liqmap.market.venues import VENUES

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9/:_.\-]{0,39}$")
_ASSET = re.compile(r"^[A-Z0-9]{1,20}$")
ALL = "all"
"""The exchange name of an aggregate: one asset summed over every supported exchange."""
_EXPIRY_SUFFIX = re.compile(r"(\d{2})(\d{2})(\d{2})$")
SYMBOL_EXAMPLES = "BTC, BTC-USDT-SWAP, BTC/USDT:USDT or binance:ETH"


@dataclass(frozen=True)
class Instrument:
    """One derivative contract on one exchange."""

    exchange: str
    symbol: str
    """ccxt unified symbol, e.g. ``BTC/USDT:USDT``."""
    native_id: str
    """The exchange's own id, e.g. ``BTC-USDT-SWAP``."""
    base: str
    quote: str
    settle: str
    contract_size: float
    linear: bool
    kind: str
    """``swap`` (perpetual) or ``future`` (dated)."""
    expiry_ms: int | None = None
    max_leverage: float | None = None
    """The highest leverage the exchange allows, where its instrument list says."""
    members: tuple[Instrument, ...] = ()
    """For an aggregate (exchange ``all``): the USDT perpetual of the asset on each exchange."""
    missing: tuple[tuple[str, str], ...] = ()
    """For an aggregate: each exchange left out and why, e.g. ``("bybit", "does not list
    BTC")`` or ``("bybit", "could not be reached: ...")``."""

    @property
    def missing_notes(self) -> tuple[str, ...]:
        """One line per exchange an aggregate leaves out, saying why."""
        return tuple(f"{name} {why}" for name, why in self.missing)

    @property
    def key(self) -> str:
        """Stable identity across the product: ``okx:BTC-USDT-SWAP``."""
        return f"{self.exchange}:{self.native_id}"

    @property
    def inverse(self) -> bool:
        return not self.linear

    def expired(self, now_ms: int) -> bool:
        return self.expiry_ms is not None and self.expiry_ms <= now_ms

    @property
    def is_aggregate(self) -> bool:
        return self.exchange == ALL

    def __str__(self) -> str:
        if self.is_aggregate:
            return f"{self.native_id} on {', '.join(m.exchange for m in self.members)}"
        return f"{self.native_id} on {self.exchange}"


def aggregate(asset: str, members: list[Instrument], missing: list[tuple[str, str]]) -> Instrument:
    """The asset's USDT perpetuals on several exchanges as one instrument, ``all:BTC``."""
    return Instrument(
        exchange=ALL,
        symbol=f"{asset}/USDT:USDT",
        native_id=asset,
        base=asset,
        quote="USDT",
        settle="USDT",
        contract_size=1.0,
        linear=True,
        kind="swap",
        members=tuple(members),
        missing=tuple(missing),
    )


@dataclass(frozen=True)
class SymbolQuery:
    """A symbol split into the exchange it names (or the default) and the rest, upper-cased."""

    exchange: str
    text: str


def parse_symbol(text: str, default_exchange: str) -> SymbolQuery:
    """Split ``binance:ETH`` into exchange and symbol; check the symbol's shape."""
    raw = (text or "").strip()
    if not raw:
        raise InstrumentError(f"give a symbol such as {SYMBOL_EXAMPLES}")
    exchange = default_exchange
    head, colon, rest = raw.partition(":")
    if colon and "/" not in head:
        exchange = head.strip().lower()
        if exchange not in VENUES and exchange != ALL:
            shown = head[:20]
            supported = ", ".join([*VENUES, ALL])
            raise UnknownExchange(f"unknown exchange {shown}; supported: {supported}")
        raw = rest.strip()
    symbol = raw.upper()
    if not _SYMBOL.match(symbol):
        shown = raw if len(raw) <= 24 else raw[:24] + "…"
        raise InstrumentError(f"{shown!r} is not a symbol; try {SYMBOL_EXAMPLES}")
    if exchange == ALL and not _ASSET.match(symbol):
        raise InstrumentError(
            f"all exchanges together take an asset such as BTC, not {symbol[:24]}"
        )
    return SymbolQuery(exchange, symbol)


def instrument_from_market(exchange: str, market: Mapping[str, Any]) -> Instrument | None:
    """The instrument of a ccxt market dict, or None if it is not a live swap or future."""
    kind = market.get("type")
    if kind not in ("swap", "future") or market.get("active") is False:
        return None
    id_key = VENUES[exchange].native_id_key if exchange in VENUES else "id"
    fields = [market.get(key) for key in ("symbol", id_key, "base", "quote", "settle")]
    if not all(fields):
        return None
    symbol, native_id, base, quote, settle = (str(value) for value in fields)
    linear = bool(market.get("linear", settle == quote))
    contract_size = float(market.get("contractSize") or 1.0)
    if not linear:
        contract_size = VENUES[exchange].inverse_contract_usd or contract_size
    return Instrument(
        exchange=exchange,
        symbol=symbol,
        native_id=native_id,
        base=base,
        quote=quote,
        settle=settle,
        contract_size=contract_size,
        linear=linear,
        kind=kind,
        expiry_ms=int(market["expiry"]) if kind == "future" and market.get("expiry") else None,
        max_leverage=_max_leverage(market),
    )


def _max_leverage(market: Mapping[str, Any]) -> float | None:
    """``limits.leverage.max`` of a ccxt market where it is a number above 1."""
    limits: Mapping[str, Any] = market.get("limits") or {}
    leverage: Mapping[str, Any] = limits.get("leverage") or {}
    limit = leverage.get("max")
    if limit is None:
        return None
    try:
        value = float(limit)
    except (TypeError, ValueError):
        return None
    return value if value > 1 else None


class InstrumentBook:
    """The instruments of one exchange, indexed by every name a trader may use for them."""

    def __init__(self, exchange: str, instruments: Iterable[Instrument]) -> None:
        self.exchange = exchange
        self.instruments = tuple(instruments)
        self._by_alias: dict[str, Instrument] = {}
        for inst in self.instruments:
            self._by_alias.setdefault(inst.symbol.upper(), inst)
            self._by_alias.setdefault(inst.native_id.upper(), inst)
        for inst in self.instruments:
            for alias in _derived_aliases(inst):
                self._by_alias.setdefault(alias, inst)
        self._assets = sorted({i.base for i in self.instruments if _is_home_perp(i)})

    @classmethod
    def from_markets(cls, exchange: str, markets: Iterable[Mapping[str, Any]]) -> InstrumentBook:
        found = (instrument_from_market(exchange, market) for market in markets)
        return cls(exchange, (inst for inst in found if inst is not None))

    def __len__(self) -> int:
        return len(self.instruments)

    def find(self, symbol: str, now_ms: int) -> Instrument:
        """The instrument an upper-cased symbol names; clear errors for expired or unknown ones."""
        inst = self._by_alias.get(symbol)
        if inst is not None:
            if inst.expired(now_ms):
                raise ExpiredInstrument(
                    f"{symbol} on {self.exchange} expired on {_date(inst.expiry_ms)}"
                )
            return inst
        expiry = _expiry_in(symbol)
        if expiry is not None and expiry < _day_start(now_ms):
            raise ExpiredInstrument(
                f"{symbol} on {self.exchange} expired on {expiry.date().isoformat()}; "
                "pick a live contract"
            )
        raise UnknownInstrument(symbol, self.exchange, self.close_matches(symbol))

    def close_matches(self, symbol: str, limit: int = 3) -> tuple[str, ...]:
        """Names close to a mistyped symbol: assets first, then other ids."""
        matches = difflib.get_close_matches(symbol, self._assets, n=limit, cutoff=0.6)
        if len(matches) < limit:
            others = [alias for alias in self._by_alias if alias not in self._assets]
            extra = difflib.get_close_matches(symbol, others, n=limit, cutoff=0.75)
            matches += [m for m in extra if m not in matches][: limit - len(matches)]
        return tuple(matches)


def _is_home_perp(inst: Instrument) -> bool:
    """The linear perpetual settled in the exchange's home currency (USDT; Hyperliquid: USDC),
    which a bare asset names."""
    home = VENUES[inst.exchange].home_settle if inst.exchange in VENUES else "USDT"
    return inst.kind == "swap" and inst.linear and inst.settle == home and inst.quote == home


def _derived_aliases(inst: Instrument) -> list[str]:
    """Other spellings: ``BTC`` for the home perp (``_is_home_perp``), ``BTCUSDT``,
    ``BTC-USD`` (inverse perp) ..."""
    base, quote = inst.base.upper(), inst.quote.upper()
    pairs = [f"{base}{quote}", f"{base}-{quote}", f"{base}/{quote}", f"{base}_{quote}"]
    if inst.kind == "swap" and inst.settle.upper() in (quote, base):
        return ([base] if _is_home_perp(inst) else []) + pairs
    if inst.kind == "future" and inst.expiry_ms is not None:
        yymmdd = datetime.fromtimestamp(inst.expiry_ms / 1000, UTC).strftime("%y%m%d")
        return [f"{pair}-{yymmdd}" for pair in pairs] + [f"{base}{quote}_{yymmdd}"]
    return []


def _expiry_in(symbol: str) -> datetime | None:
    match = _EXPIRY_SUFFIX.search(symbol)
    if match is None:
        return None
    try:
        return datetime.strptime("".join(match.groups()), "%y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _day_start(now_ms: int) -> datetime:
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _date(ts_ms: int | None) -> str:
    return datetime.fromtimestamp((ts_ms or 0) / 1000, UTC).date().isoformat()
