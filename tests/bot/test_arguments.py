"""The commands' argument parsers, pure: what they read, and what they refuse.

A property test gives every parser arbitrary text (superscripts, other scripts' digits, RTL
marks, many spaces, 100,000 characters): it never raises, and what it refuses is answered on
one short line that carries the command's usage.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.arguments import (
    Follow,
    Refusal,
    Setup,
    Unfollow,
    follow_request,
    symbol_and_window,
    top_count,
    unfollow,
    whales_symbol,
)
from bot.deep_links import parse_map_parameter
from bot.deps import BotDeps
from bot.handlers.stops import parse_stop
from bot.texts.common import refused
from liqmap.market.timeframes import WINDOWS
from liqmap.signals.chat_settings import ChatSettings, SettingError, change_setting, parse_clock
from liqmap.signals.screener import MAX_TOP
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ADMIN_GROUP, ANN, say, words

TRICKY = ["²", "1²", "٣", "½", "1e309", "nan", "-0", "\u200f", "\u202e", "\u3000", "all",
          "ALL", "building", "real", "off", "7d", "0.8%", "9" * 5000, "BTC",
          "BTC-USDT-SWAP", "okx:BTC"]  # fmt: skip
arguments = st.one_of(st.text(), st.sampled_from(TRICKY))
typed = st.one_of(
    st.text(),
    st.lists(arguments, max_size=6).map(" ".join),
    st.lists(arguments, max_size=6).map("\u3000  \t".join),
    st.text(min_size=1, max_size=3).map(lambda t: t * 10_000),
)
"""What a trader might type after a command."""

COMMANDS = ["top", "subscribe", "unsubscribe", "settings", "digest", "map", "clusters", "stop",
            "accuracy"]  # fmt: skip
SOMETHING_WRONG = "Sorry, something went wrong"

PARSERS: dict[str, Callable[[list[str]], Any]] = {
    "top": top_count,
    "subscribe": follow_request,
    "unsubscribe": unfollow,
    "whales": whales_symbol,
}


def assert_one_line_with_usage(command: str, refusal: Refusal) -> None:
    answer = refused(command, refusal)
    assert "\n" not in answer and len(answer) < 600, answer
    assert f"Usage: /{command}" in answer


def test_unsubscribe_reads_one_symbol_its_summed_form_or_all() -> None:
    read = {text: unfollow(text.split()) for text in ("BTC", "BTC all", "ALL btc", "all")}
    assert read == {
        "BTC": Unfollow("BTC"),
        "BTC all": Unfollow("all:BTC"),
        "ALL btc": Unfollow("all:btc"),
        "all": Unfollow(None),
    }
    for text in ("", "all all", "ALL all", "BTC ETH", "BTC all all", "BTC ETH all"):
        assert unfollow(text.split()) == Refusal(), text


def test_subscribe_reads_what_to_set_and_keeps_the_rest() -> None:
    read = {
        text: follow_request(text.split())
        for text in ("BTC", "BTC 0.8%", "all BTC 2 building", "BTC Building OFF", "BTC building on")
    }
    assert read == {
        "BTC": Follow("BTC"),
        "BTC 0.8%": Follow("BTC", 0.8),
        "all BTC 2 building": Follow("all:BTC", 2.0, True),
        "BTC Building OFF": Follow("BTC", None, False),
        "BTC building on": Follow("BTC", None, True),
    }
    assert Follow("BTC", None, False).applied(Setup(0.8, True)) == Setup(0.8, False)
    assert Follow("BTC", 2.0).applied(Setup(0.8, True)) == Setup(2.0, True)
    for text in ("", "building", "BTC all all", "BTC 1 2", "BTC building 1"):
        assert follow_request(text.split()) == Refusal(), text
    assert follow_request(["BTC", "1²"]) == Refusal("distance must be a number, got '1²'")


def test_whales_reads_one_coin_on_the_venue_whose_positions_are_public() -> None:
    assert whales_symbol(["BTC"]) == "hyperliquid:BTC"
    assert whales_symbol(["hyperliquid:ETH"]) == "hyperliquid:ETH"
    assert whales_symbol(["HyperLiquid:ETH"]) == "HyperLiquid:ETH"
    assert whales_symbol(["BTC/USDC:USDC"]) == "hyperliquid:BTC/USDC:USDC"
    assert whales_symbol(["okx:BTC"]) == Refusal(
        "positions are public only on hyperliquid, not okx"
    )
    assert whales_symbol(["all:BTC"]) == Refusal(
        "positions are public only on hyperliquid, not all"
    )
    for args in ([], ["BTC", "ETH"], ["BTC", "all"]):
        assert whales_symbol(args) == Refusal(), args


def test_subscribe_reads_real_cluster_alerts_beside_building_in_any_order() -> None:
    read = {
        text: follow_request(text.split())
        for text in ("hyperliquid:BTC real", "BTC 0.8 real off building", "BTC REAL on",
                     "BTC building off real")
    }  # fmt: skip
    assert read == {
        "hyperliquid:BTC real": Follow("hyperliquid:BTC", None, None, True),
        "BTC 0.8 real off building": Follow("BTC", 0.8, True, False),
        "BTC REAL on": Follow("BTC", None, None, True),
        "BTC building off real": Follow("BTC", None, False, True),
    }
    assert Follow("BTC", real=True).applied(Setup(0.8, True)) == Setup(0.8, True, True)
    assert Follow("BTC", building=False).applied(Setup(None, True, True)) == Setup(
        None, False, True
    )
    assert follow_request(["BTC", "real", "real"]) == Refusal("real is named twice")
    for text in ("real", "real on", "BTC real 1", "BTC 1 real 2"):
        assert follow_request(text.split()) == Refusal(), text


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), typed)
def test_the_parsers_answer_anything_with_a_request_or_one_line_and_the_usage(
    command: str, text: str
) -> None:
    parsed = PARSERS[command](text.split())
    if isinstance(parsed, Refusal):
        assert_one_line_with_usage(command, parsed)
    elif command == "top":
        assert 1 <= parsed <= MAX_TOP
    elif command == "subscribe":
        assert isinstance(parsed, Follow) and parsed.symbol.split()
    elif command == "whales":
        assert isinstance(parsed, str) and parsed.split() == [parsed]
    else:
        assert isinstance(parsed, Unfollow)


@settings(max_examples=100, deadline=None)
@given(typed)
def test_the_symbol_window_and_stop_parsers_take_anything(text: str) -> None:
    """``None`` is answered with the usage by /map, /clusters, /heatmap and /stop."""
    args = text.split()
    read = symbol_and_window(args)
    assert read is None or (read[0].split() and read[1] in WINDOWS)
    stop = parse_stop(args)
    assert stop is None or (math.isfinite(stop.stop) and stop.stop > 0)
    link = parse_map_parameter(args[0] if args else text)
    assert link is None or link.window in WINDOWS


@settings(max_examples=100, deadline=None)
@given(arguments, typed)
def test_settings_and_the_digest_refuse_with_one_short_line(name: str, value: str) -> None:
    for parse in (lambda: change_setting(ChatSettings(), name, value), lambda: parse_clock(value)):
        try:
            parse()
        except SettingError as exc:
            assert_one_line_with_usage("settings", Refusal(str(exc)))


async def test_the_real_handlers_answer_arbitrary_arguments_briefly(
    tg: FakeTelegram, core: BotDeps
) -> None:
    """A few drawn examples through the bot and the fake Telegram: one reply each, a short
    line with the usage or an answer, never an apology, and nothing reaches the admins."""
    drawn: list[str] = []

    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(st.sampled_from(COMMANDS), st.lists(arguments, min_size=1, max_size=4))
    def draw(command: str, args: list[str]) -> None:
        text = " ".join(arg[:300] for arg in args).strip()
        if text:
            drawn.append(f"/{command} {text}")

    draw()
    for text in drawn:
        (reply,) = await say(tg, ANN, text)
        answer = words(reply)
        assert not answer.startswith(SOMETHING_WRONG), text
        if "Usage: /" in answer:
            assert "\n" not in answer and len(answer) < 600, (text, answer)
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == [], "no error report"


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("No such zone", "No such zone. Usage: /settings"),
        ("Try e.g. Europe/Berlin.", "Try e.g. Europe/Berlin. Usage: /settings"),
        ("Did you mean UTC?", "Did you mean UTC? Usage: /settings"),
    ],
)
def test_a_refusal_ends_its_reason_once_before_the_usage(reason: str, said: str) -> None:
    assert refused("settings", Refusal(reason)).startswith(said)
