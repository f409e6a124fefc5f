"""The commands' argument parsers, pure: what they read, and what they refuse."""

from __future__ import annotations

from bot.arguments import Follow, Refusal, Setup, Unfollow, follow_request, unfollow


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
