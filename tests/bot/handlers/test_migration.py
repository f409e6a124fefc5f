"""A group becoming a supergroup the bot already knew: one chat, within the cap, the
group's settings kept, and the supergroup told what did not fit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import BOT, GROUP, GROUP_OWNER, running, say, wait_until, words

SUPER = -1_000_000_004_001
BTC, ETH, SOL = "okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP", "okx:SOL-USDT-SWAP"


@pytest.fixture
async def capped(settings: Settings, db: Database) -> AsyncIterator[BotDeps]:
    async with running(replace(settings, max_subscriptions=2), db) as core:
        yield core


async def test_a_known_supergroup_merges_within_the_cap_and_hears_what_was_dropped(
    tg: FakeTelegram, capped: BotDeps
) -> None:
    owner = {"user_id": GROUP_OWNER}
    tg.chat_admins[SUPER] = [GROUP_OWNER]
    await say(tg, GROUP, f"/subscribe@{BOT} BTC 0.5 building", **owner)
    await say(tg, GROUP, f"/settings@{BOT} tz Europe/Berlin", **owner)
    await say(tg, GROUP, f"/digest@{BOT} on 08:00", **owner)
    # commands in the supergroup were processed before the migration message
    await say(tg, SUPER, f"/subscribe@{BOT} ETH", **owner)
    await say(tg, SUPER, f"/subscribe@{BOT} SOL", **owner)
    await say(tg, SUPER, f"/settings@{BOT} cooldown 5", **owner)
    before = len(tg.sent(SUPER))

    tg.migrate_group(GROUP, SUPER)

    (told,) = (await tg.wait_for_sent(SUPER, before + 1, timeout=20))[before:]
    assert "follows at most 2 symbols" in words(told)
    assert f"were dropped: {SOL}." in words(told)
    assert "settings made here before the move were replaced by the group's" in words(told)
    chats = capped.stores.chats
    await wait_until(lambda: chats.get(GROUP) is None, what="the old group gone")
    subs = chats.subscriptions(SUPER)
    assert [(s.instrument, s.distance_pct) for s in subs] == [(BTC, 0.5), (ETH, None)]
    assert capped.stores.building.watching(SUPER, BTC)
    chat = chats.get(SUPER)
    assert chat is not None and chat.kind == "supergroup"
    assert (chat.settings.tz, chat.settings.digest_at) == ("Europe/Berlin", 8 * 60)
    assert chat.settings.cooldown_minutes == 30, "the group's, not the 5 set here"
