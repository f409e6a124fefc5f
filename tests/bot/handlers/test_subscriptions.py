"""``/subscribe`` and the map's Subscribe button on a subscription that exists: they keep
what was set (the alert distance, building alerts) unless told otherwise, and say so."""

from __future__ import annotations

from bot.deps import BotDeps
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ANN, GROUP, GROUP_OWNER, MEMBER, press, say, words

BTC = "okx:BTC-USDT-SWAP"


def setup_of(core: BotDeps, chat_id: int) -> tuple[float | None, bool]:
    """The subscription's own distance (None: the chat's) and whether building alerts are on."""
    sub = core.stores.chats.subscription(chat_id, BTC)
    assert sub is not None
    return sub.distance_pct, chat_id in core.stores.building.watches(BTC)


async def test_subscribing_again_keeps_the_settings_and_says_what_they_are(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (new,) = await say(tg, ANN, "/subscribe BTC 0.8 building")
    assert words(new).startswith("🔔 Subscribed to BTC-USDT-SWAP on okx")
    assert setup_of(core, ANN) == (0.8, True)
    (again,) = await say(tg, ANN, "/subscribe BTC")
    assert words(again).startswith(
        "Already subscribed to BTC-USDT-SWAP on okx: alerts within 0.8%, building alerts on."
    )
    assert setup_of(core, ANN) == (0.8, True)
    (same,) = await say(tg, ANN, "/subscribe btc-usdt-swap 0.8% building")
    assert words(same).startswith("Already subscribed"), "nothing to change"


async def test_subscribing_again_changes_only_what_is_given_and_says_exactly_that(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, ANN, "/subscribe BTC building")
    (distance,) = await say(tg, ANN, "/subscribe BTC 1.5")
    assert words(distance) == (
        "Updated BTC-USDT-SWAP on okx: alerts within 1% (the chat's default) → 1.5%; "
        "building alerts on (unchanged)."
    )
    assert setup_of(core, ANN) == (1.5, True)
    (off,) = await say(tg, ANN, "/subscribe BTC building off")
    assert words(off) == (
        "Updated BTC-USDT-SWAP on okx: alerts within 1.5% (unchanged); building alerts on → off."
    )
    assert setup_of(core, ANN) == (1.5, False)
    (on,) = await say(tg, ANN, "/subscribe BTC 0.5 building")
    assert words(on).startswith(
        "Updated BTC-USDT-SWAP on okx: alerts within 1.5% → 0.5%; building alerts off → on.\n📈"
    )
    assert setup_of(core, ANN) == (0.5, True)


async def test_the_map_button_keeps_the_settings_of_a_subscription(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, GROUP, "/subscribe BTC 0.8 building", user_id=GROUP_OWNER)
    (photo,) = await say(tg, GROUP, "/map BTC 1d", user_id=MEMBER)
    refused = await press(tg, GROUP, photo["message_id"], f"s|1d|{BTC}", user_id=MEMBER)
    assert refused["params"]["text"] == "Only group administrators can do this here."
    answer = await press(tg, GROUP, photo["message_id"], f"s|1d|{BTC}", user_id=GROUP_OWNER)
    assert answer["params"]["text"] == (
        "Already subscribed to BTC-USDT-SWAP: alerts within 0.8%, building alerts on."
    )
    assert setup_of(core, GROUP) == (0.8, True)


async def test_a_restricted_member_gets_the_answers_a_member_gets(
    tg: FakeTelegram, core: BotDeps
) -> None:
    """Telegram answers getChatMember for a restricted member with ChatMemberRestricted, which
    python-telegram-bot must parse to tell that it is no administrator."""
    tg.set_member_status(GROUP, MEMBER, "restricted")
    for command in ("/subscribe BTC", "/settings distance 2", "/unsubscribe all"):
        (refused,) = await say(tg, GROUP, command, user_id=MEMBER)
        assert words(refused) == (
            "Only group administrators can change subscriptions and settings here."
        ), command
    (listing,) = await say(tg, GROUP, "/list", user_id=MEMBER)
    assert words(listing).startswith("No subscriptions yet.")
    assert core.stores.chats.subscriptions(GROUP) == []
    assert tg.sent(ADMIN) == [], "no error report"
