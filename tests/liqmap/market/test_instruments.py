"""Symbol forms resolve to one instrument; unknown or expired ones get clear errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from liqmap.errors import ExpiredInstrument, InstrumentError, UnknownExchange, UnknownInstrument
from liqmap.market.instruments import InstrumentBook, parse_symbol

NOW = int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp() * 1000)
LIVE_EXPIRY = int(datetime(2026, 12, 25, 8, tzinfo=UTC).timestamp() * 1000)
PAST_EXPIRY = int(datetime(2026, 11, 20, 8, tzinfo=UTC).timestamp() * 1000)


def market(symbol: str, native: str, kind: str = "swap", **extra: object) -> dict:
    base, rest = symbol.split("/")
    quote, _, settle_part = rest.partition(":")
    settle = settle_part.split("-")[0]
    return {
        "symbol": symbol,
        "id": native,
        "base": base,
        "quote": quote,
        "settle": settle,
        "type": kind,
        "linear": settle == quote,
        "contractSize": extra.pop("contractSize", 0.01),
        "active": True,
        **extra,
    }


OKX_MARKETS = [
    market("BTC/USDT:USDT", "BTC-USDT-SWAP"),
    market("ETH/USDT:USDT", "ETH-USDT-SWAP", contractSize=0.1),
    market("BTC/USDC:USDC", "BTC-USDC-SWAP"),
    market("BTC/USD:BTC", "BTC-USD-SWAP", contractSize=100),
    market("BTC/USDT:USDT-261225", "BTC-USDT-261225", "future", expiry=LIVE_EXPIRY),
    market("BTC/USDT:USDT-261120", "BTC-USDT-261120", "future", expiry=PAST_EXPIRY),
    market("BTC/USDT", "BTC-USDT", "spot"),
    {**market("LUNA/USDT:USDT", "LUNA-USDT-SWAP"), "active": False},
]


@pytest.fixture
def book() -> InstrumentBook:
    return InstrumentBook.from_markets("okx", OKX_MARKETS)


@pytest.mark.parametrize(
    "typed", ["BTC", "btc", " Btc ", "BTC-USDT-SWAP", "btc-usdt-swap", "BTC/USDT:USDT", "BTCUSDT"]
)
def test_every_form_of_the_btc_perp_resolves_to_it(book: InstrumentBook, typed: str) -> None:
    query = parse_symbol(typed, "okx")
    inst = book.find(query.text, NOW)
    assert (inst.exchange, inst.symbol, inst.native_id) == ("okx", "BTC/USDT:USDT", "BTC-USDT-SWAP")
    assert (inst.kind, inst.linear, inst.contract_size) == ("swap", True, 0.01)
    assert inst.expiry_ms is None
    assert inst.key == "okx:BTC-USDT-SWAP"


def test_dated_future_in_native_and_ccxt_form(book: InstrumentBook) -> None:
    for typed in ("BTC-USDT-261225", "BTC/USDT:USDT-261225"):
        inst = book.find(parse_symbol(typed, "okx").text, NOW)
        assert inst.native_id == "BTC-USDT-261225"
        assert inst.kind == "future"
        assert inst.expiry_ms == LIVE_EXPIRY


def test_inverse_perp(book: InstrumentBook) -> None:
    inst = book.find("BTC-USD-SWAP", NOW)
    assert inst.inverse and inst.settle == "BTC" and inst.contract_size == 100
    assert book.find("BTC-USD", NOW) == inst


def test_bare_asset_means_the_usdt_perp_not_usdc(book: InstrumentBook) -> None:
    assert book.find("BTC", NOW).settle == "USDT"
    assert book.find("BTC-USDC-SWAP", NOW).settle == "USDC"


def test_exchange_prefix_is_split_off() -> None:
    assert parse_symbol("binance:ETH", "okx") == parse_symbol("ETH", "binance")
    assert parse_symbol("BYBIT:btc/usdt:usdt", "okx").exchange == "bybit"
    assert parse_symbol("BTC/USDT:USDT", "bybit").exchange == "bybit"


def test_unknown_exchange_lists_supported_ones() -> None:
    with pytest.raises(UnknownExchange, match="unknown exchange kraken; supported: okx, binance"):
        parse_symbol("kraken:BTC", "okx")


def test_unknown_symbol_names_close_matches(book: InstrumentBook) -> None:
    with pytest.raises(UnknownInstrument) as caught:
        book.find("BTCC", NOW)
    assert str(caught.value) == "unknown instrument BTCC on okx; did you mean BTC?"
    assert caught.value.suggestions == ("BTC",)


def test_unknown_symbol_without_close_match(book: InstrumentBook) -> None:
    with pytest.raises(UnknownInstrument) as caught:
        book.find("DOGEFATHER", NOW)
    assert str(caught.value) == "unknown instrument DOGEFATHER on okx"


def test_spot_and_inactive_markets_are_not_instruments(book: InstrumentBook) -> None:
    assert {i.native_id for i in book.instruments} == {
        "BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USDC-SWAP", "BTC-USD-SWAP",
        "BTC-USDT-261225", "BTC-USDT-261120",
    }  # fmt: skip
    with pytest.raises(UnknownInstrument):
        book.find("LUNA", NOW)


def test_expired_future_still_listed_says_so(book: InstrumentBook) -> None:
    with pytest.raises(ExpiredInstrument, match="BTC-USDT-261120 on okx expired on 2026-11-20"):
        book.find("BTC-USDT-261120", NOW)


def test_expired_future_gone_from_the_list_says_so(book: InstrumentBook) -> None:
    with pytest.raises(ExpiredInstrument, match="BTC-USDT-250523 on okx expired on 2025-05-23"):
        book.find("BTC-USDT-250523", NOW)


def test_future_date_not_listed_is_unknown_not_expired(book: InstrumentBook) -> None:
    with pytest.raises(UnknownInstrument):
        book.find("BTC-USDT-270326", NOW)


@pytest.mark.parametrize("typed", ["", "   ", "<b>BTC</b>", "BTC 😀", "A" * 5000, "BTC;DROP"])
def test_junk_is_refused_with_a_short_message(typed: str) -> None:
    with pytest.raises(InstrumentError) as caught:
        parse_symbol(typed, "okx")
    assert len(str(caught.value)) < 120
    assert "BTC-USDT-SWAP" in str(caught.value)


def test_binance_style_ids() -> None:
    book = InstrumentBook.from_markets(
        "binance",
        [
            market("BTC/USDT:USDT", "BTCUSDT", contractSize=1),
            market("BTC/USDT:USDT-261225", "BTCUSDT_261225", "future", expiry=LIVE_EXPIRY),
        ],
    )
    assert book.find("BTC", NOW).native_id == "BTCUSDT"
    assert book.find("BTCUSDT_261225", NOW).kind == "future"
    assert book.find("BTC-USDT-261225", NOW).native_id == "BTCUSDT_261225"
