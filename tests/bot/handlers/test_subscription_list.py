"""/list and the buttons that manage alerts in Telegram: distance, mute, delete, open map."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from liqmap.market.timeframes import HOUR_MS
from liqmap.signals.proximity import ALERT_WINDOW
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ANN,
    BOB,
    BOT,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    Service,
    press,
    running,
    say,
    serving,
    words,
)

pytestmark = pytest.mark.fixed_clock
BTC, ETH, SOL = "okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP", "okx:SOL-USDT-SWAP"
STALE = "This button no longer works; send /list again."
ADMINS_ONLY = "Only group administrators can do this here."


def buttons(message: dict) -> list[list[tuple[str, str]]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


def datas(message: dict) -> list[str]:
    return [data for row in buttons(message) for _, data in row]


async def edited(tg: FakeTelegram, chat: int, message_id: int, data: str, **who: int) -> dict:
    """Press a button the message carries; wait for the bot to redraw the message; the message."""
    mark = tg.mark()
    tg.user_clicks(chat, message_id, data, **who)
    await tg.wait_for("editMessageText", since=mark)
    return tg.message(chat, message_id)


async def no_wait(seconds: float) -> None:
    """The refresh job spreads its maps over the interval; not in a test."""


def closeness(service: Service, key: str, distance: float) -> float:
    clusters = service.core.stores.snapshots.latest(key, ALERT_WINDOW).snapshot.clusters
    return min(abs(c.distance_pct) for c in clusters if c.strength >= 2.0) / distance


async def test_list_is_sorted_by_closeness_with_a_button_each(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with serving(settings, db, clock) as service:
        for command in ("/subscribe BTC 0.5", "/subscribe ETH 2", "/subscribe SOL"):
            await say(tg, ANN, command)
        service.jobs.sleep = no_wait
        assert await service.jobs.refresh() == 3
        await say(tg, ANN, "/subscribe BTC-USD-SWAP")  # no map yet
        (listing,) = await say(tg, ANN, "/list")
        distances = {BTC: 0.5, ETH: 2.0, SOL: 1.0}
        mapped = sorted(distances, key=lambda key: closeness(service, key, distances[key]))
        expected = [*mapped, "okx:BTC-USD-SWAP"]
        assert datas(listing) == [f"sub|v||{key}" for key in expected]
        lines = words(listing).splitlines()[1:]
        assert [line.split(" — ")[0] for line in lines] == [f"• {key}" for key in expected]
        assert lines[-1] == "• okx:BTC-USD-SWAP — within 1% · no map yet"
        assert "nearest" in lines[0] and "× the distance)" in lines[0]


async def test_distance_mute_unmute_and_delete_from_the_list(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock) as core:
        await say(tg, ANN, "/subscribe BTC")
        await say(tg, ANN, "/subscribe ETH 0.8")
        (listing,) = await say(tg, ANN, "/list")
        message_id = listing["message_id"]
        detail = await edited(tg, ANN, message_id, f"sub|v||{BTC}")
        assert detail["text"].startswith(f"{BTC} — within 1% · no map yet")
        assert buttons(detail)[0] == [
            ("0.5%", f"sub|d|0.5|{BTC}"), ("• 1% •", f"sub|d|1|{BTC}"), ("2%", f"sub|d|2|{BTC}")
        ]  # fmt: skip
        detail = await edited(tg, ANN, message_id, f"sub|d|0.5|{BTC}")
        assert core.stores.chats.subscription(ANN, BTC).distance_pct == 0.5
        assert "within 0.5% (own)" in detail["text"]

        detail = await edited(tg, ANN, message_id, f"sub|m|8|{BTC}")
        until = clock() + 8 * HOUR_MS
        assert core.stores.chats.subscription(ANN, BTC).muted_until == until
        assert "🔕 muted until 2026-11-25 20:00 UTC" in detail["text"]
        assert buttons(detail)[1] == [("🔔 Unmute", f"sub|u||{BTC}")]
        detail = await edited(tg, ANN, message_id, f"sub|u||{BTC}")
        assert core.stores.chats.subscription(ANN, BTC).muted_until is None
        assert "muted" not in detail["text"]

        listing = await edited(tg, ANN, message_id, f"sub|x||{BTC}")
        assert [s.instrument for s in core.stores.chats.subscriptions(ANN)] == [ETH]
        assert datas(listing) == [f"sub|v||{ETH}"], "back to the list, without BTC"


async def test_in_groups_only_admins_press_what_changes_things(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, GROUP, f"/subscribe@{BOT} BTC", user_id=GROUP_OWNER)
    (listing,) = await say(tg, GROUP, f"/list@{BOT}", user_id=MEMBER)
    message_id = listing["message_id"]
    await edited(tg, GROUP, message_id, f"sub|v||{BTC}", user_id=MEMBER)  # looking is fine
    chats = core.stores.chats
    for data in (f"sub|d|2|{BTC}", f"sub|m|1|{BTC}", f"sub|x||{BTC}"):
        refused = await press(tg, GROUP, message_id, data, user_id=MEMBER)
        assert refused["params"]["text"] == ADMINS_ONLY
        assert refused["params"]["show_alert"] is True
    sub = chats.subscription(GROUP, BTC)
    assert (sub.distance_pct, sub.muted_until) == (None, None)
    await edited(tg, GROUP, message_id, f"sub|d|2|{BTC}", user_id=GROUP_OWNER)
    assert chats.subscription(GROUP, BTC).distance_pct == 2.0


async def test_forged_presses_do_nothing(tg: FakeTelegram, core: BotDeps) -> None:
    chats = core.stores.chats
    await say(tg, ANN, "/subscribe BTC")
    await say(tg, BOB, "/subscribe SOL")
    (help_,) = await say(tg, ANN, "/help")
    (listing,) = await say(tg, ANN, "/list")
    forged = [
        (help_["message_id"], f"sub|x||{BTC}"),  # not a button of that message
        (listing["message_id"], f"sub|x||{BTC}"),  # the list carries only "open" buttons
        (listing["message_id"], f"sub|x||{SOL}"),  # another chat's subscription
    ]
    for message_id, data in forged:
        answer = await press(tg, ANN, message_id, data)
        assert answer["params"].get("text") == STALE, data
    for data in (f"sub|m|999|{BTC}", "sub|m|1", ""):  # none of ours: as under a map
        answer = await press(tg, ANN, listing["message_id"], data)
        assert answer["params"].get("text") == "This button no longer works; send /map again."
    assert [s.instrument for s in chats.subscriptions(ANN)] == [BTC]
    assert chats.subscription(ANN, BTC).muted_until is None
    assert [s.instrument for s in chats.subscriptions(BOB)] == [SOL]
    # a real button whose subscription went away changes nothing either
    message_id = listing["message_id"]
    await edited(tg, ANN, message_id, f"sub|v||{BTC}")
    await say(tg, ANN, "/unsubscribe BTC")
    answer = await press(tg, ANN, message_id, f"sub|m|1|{BTC}")
    assert (
        answer["params"]["text"]
        == "This chat does not follow that symbol any more; send /list again."
    )
    assert chats.subscriptions(ANN) == []


async def test_alerts_carry_mute_and_open_map_buttons(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    async with serving(settings, db, clock) as service:
        await say(tg, ANN, "/subscribe BTC")
        await say(tg, GROUP, f"/subscribe@{BOT} BTC", user_id=GROUP_OWNER)
        await service.jobs.refresh()
        stored = service.core.stores.snapshots.latest(BTC, ALERT_WINDOW)
        target = min((c for c in stored.snapshot.clusters if c.side == "long"
                      and c.strength >= 2), key=lambda c: abs(c.distance_pct))  # fmt: skip
        okx.tape("BTC-USDT-SWAP").set_price(target.high * 1.004)
        assert await service.jobs.watch() == 2
        assert (await service.jobs.deliver()).sent == 2
        (alert,) = [m for m in tg.sent(ANN) if m["method"] == "sendPhoto"]
        assert buttons(alert) == [
            [("🔕 Mute 1h", f"sub|a||{BTC}"), ("🗺 Open map", f"sub|o||{BTC}")]
        ]

        chats = service.core.stores.chats
        (group_alert,) = [m for m in tg.sent(GROUP) if m["method"] == "sendPhoto"]
        refused = await press(tg, GROUP, group_alert["message_id"], f"sub|a||{BTC}",
                              user_id=MEMBER)  # fmt: skip
        assert refused["params"]["text"] == ADMINS_ONLY
        assert chats.subscription(GROUP, BTC).muted_until is None

        await say(tg, ANN, "/settings tz Europe/Berlin")
        answer = await press(tg, ANN, alert["message_id"], f"sub|a||{BTC}")
        assert answer["params"]["text"] == f"Muted {BTC} until 2026-11-25 14:00 CET.", "local"
        assert chats.subscription(ANN, BTC).muted_until == clock() + HOUR_MS
        assert tg.message(ANN, alert["message_id"])["reply_markup"] == alert["reply_markup"]

        before = len(tg.sent(ANN))
        answer = await press(tg, ANN, alert["message_id"], f"sub|o||{BTC}")
        assert answer["params"]["text"] == "Loading 7d…"
        (photo,) = (await tg.wait_for_sent(ANN, before + 1))[before:]
        assert photo["method"] == "sendPhoto" and "BTC-USDT-SWAP" in words(photo)
        assert f"r|7d|{BTC}" in datas(photo), "the map's own buttons"


async def test_mutes_survive_a_restart(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock):
        await say(tg, ANN, "/subscribe BTC")
        (listing,) = await say(tg, ANN, "/list")
        await edited(tg, ANN, listing["message_id"], f"sub|v||{BTC}")
        await edited(tg, ANN, listing["message_id"], f"sub|m|24|{BTC}")
    async with running(settings, db, clock) as core:
        assert core.stores.chats.subscription(ANN, BTC).muted_until == clock() + 24 * HOUR_MS
        (listing,) = await say(tg, ANN, "/list")
        assert "🔕 muted until 2026-11-26 12:00 UTC" in words(listing)
