"""The commands' argument parsers, pure: what they read, and what they refuse."""

from __future__ import annotations

from bot.arguments import Refusal, Unfollow, unfollow


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
