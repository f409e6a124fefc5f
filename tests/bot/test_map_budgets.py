"""The map budgets against the real bot: the service-wide budget, who a map is charged to
(anonymous administrators by their group), and budgets that outlive a restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.keyboards.maps import SHOW, press_data
from liqmap.config import Settings
from storage.database import open_database
from tests.fakes.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ADMIN_GROUP,
    ANN,
    BOB,
    CAROL,
    GROUP,
    MEMBER,
    press,
    running,
    say,
    words,
)

pytestmark = pytest.mark.slow

OTHER_GROUP = -4002
BUSY = "The bot is busy making maps for everyone; try again in"
OWN = "That is a lot of new maps at once; try again in"


async def test_past_the_service_budget_a_chat_is_told_when_and_a_new_chat_is_served(
    tg: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    clock = Clock()
    db = open_database(tmp_path / "liqmap.db")
    async with running(replace(settings, maps_per_minute_total=4), db, clock):  # reserve 1
        for symbol in ("BTC", "ETH", "SOL"):
            (photo,) = await say(tg, ANN, f"/map {symbol} 1d")
            assert photo["method"] == "sendPhoto"
        (busy,) = await say(tg, ANN, "/map BTC-USD-SWAP 1d")
        assert words(busy) == f"{BUSY} 15 s."
        (stored,) = await say(tg, ANN, "/map BTC 1d")
        assert stored["method"] == "sendPhoto", "a map made moments ago costs nothing"
        (innocent,) = await say(tg, BOB, "/map ETH 7d")
        assert innocent["method"] == "sendPhoto", "a chat with no map this minute: the reserve"
        (empty,) = await say(tg, CAROL, "/map SOL 7d")
        assert words(empty) == f"{BUSY} 15 s."
        clock.advance(15_000)
        (served,) = await say(tg, CAROL, "/map SOL 7d")
        assert served["method"] == "sendPhoto", "served when told"
        (again,) = await say(tg, ANN, "/map BTC-USD-SWAP 1d")
        assert words(again) == f"{BUSY} 30 s.", (
            "the flooding chat waits for two: one above the reserve"
        )
    db.close()


async def test_a_restart_within_the_minute_keeps_the_budgets(
    tg: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    clock = Clock()
    path = tmp_path / "liqmap.db"
    tight = replace(settings, maps_per_minute=2, maps_per_minute_total=3)  # no reserve
    db = open_database(path)
    async with running(tight, db, clock):
        await say(tg, ANN, "/map BTC 1d")
        await say(tg, ANN, "/map ETH 1d")
        await say(tg, BOB, "/map SOL 1d")
    db.close()
    clock.advance(5_000)
    db = open_database(path)
    async with running(tight, db, clock):
        (own,) = await say(tg, ANN, "/map BTC 7d")
        assert words(own).startswith(f"{OWN} 25 s."), "the chat's own count survived"
        (busy,) = await say(tg, CAROL, "/map ETH 7d")
        assert words(busy) == f"{BUSY} 15 s.", "and the service's"
        clock.advance(15_000)
        (served,) = await say(tg, CAROL, "/map ETH 7d")
        assert served["method"] == "sendPhoto"
    db.close()


# -- who is charged: anonymous administrators speak for their group ------------------------------


async def test_anonymous_admins_of_two_groups_do_not_share_a_budget(
    tg: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    """All anonymous admins send as GroupAnonymousBot (1087968824): charged by that user,
    one group's admin used up every other group's."""
    db = open_database(tmp_path / "liqmap.db")
    async with running(replace(settings, maps_per_minute=1), db):
        (first,) = await say(tg, GROUP, "/map BTC 1d", anonymous=True)
        assert first["method"] == "sendPhoto"
        (other,) = await say(tg, OTHER_GROUP, "/map ETH 1d", anonymous=True)
        assert other["method"] == "sendPhoto", "another group's anonymous admin has its own"
        (again,) = await say(tg, GROUP, "/map SOL 1d", anonymous=True)
        assert words(again).startswith(f"{OWN} 60 s."), "the group's own budget is spent"
        button = press_data(SHOW, "okx:ETH-USDT-SWAP", "7d")
        pressed = await press(tg, OTHER_GROUP, other["message_id"], button, user_id=MEMBER)
        assert pressed["params"]["text"].startswith(OWN), "a button costs the same group's"
    db.close()


async def test_an_anonymous_admin_changes_its_group_and_reads_its_status(
    tg: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    db = open_database(tmp_path / "liqmap.db")
    async with running(settings, db) as core:
        (done,) = await say(tg, GROUP, "/subscribe BTC", anonymous=True)
        assert "Subscribed to BTC-USDT-SWAP" in words(done)
        (member,) = await say(tg, GROUP, "/subscribe ETH", user_id=MEMBER)
        assert words(member).startswith("Only group administrators")
        assert [s.instrument for s in core.stores.chats.subscriptions(GROUP)] == [
            "okx:BTC-USDT-SWAP"
        ]
        (status,) = await say(tg, ADMIN_GROUP, "/status", anonymous=True)
        assert "liqmap status" in words(status)
    db.close()
