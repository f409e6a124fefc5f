"""Time zones, ``/digest`` and map deep links as users meet them."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from liqmap.config import Settings
from tests.fakes.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, BOB, BOT, running, say, words

pytestmark = pytest.mark.fixed_clock


async def test_tz_setting_close_matches_and_local_captions(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock) as core:
        (utc,) = await say(tg, BOB, "/map BTC")
        assert "Data to 2026-11-25 12:00 UTC" in words(utc)
        (wrong,) = await say(tg, ANN, "/settings tz europe/berln")
        assert "Did you mean Europe/Berlin" in words(wrong)
        (saved,) = await say(tg, ANN, "/settings tz europe/berlin")
        assert "tz: Europe/Berlin" in words(saved)
        (quiet,) = await say(tg, ANN, "/settings quiet 23:00-07:00")
        assert "quiet: 23:00-07:00 Europe/Berlin" in words(quiet)
        assert core.stores.chats.get(ANN).settings.tz == "Europe/Berlin"
        (photo,) = await say(tg, ANN, "/map BTC")
        assert "Data to 2026-11-25 13:00 CET" in words(photo)
        (heat,) = await say(tg, ANN, "/heatmap BTC 1d")
        assert "Data to 2026-11-25 13:00 CET" in words(heat)


async def test_tz_takes_only_zones_tzdata_ships_and_shows_a_stored_stranger_as_utc(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock) as core:
        for name in ("localtime", "Factory", "posixrules"):
            (refused,) = await say(tg, ANN, f"/settings tz {name}")
            assert words(refused).startswith(f"unknown time zone '{name}'. Try e.g. Europe/")
            assert "\n" not in words(refused), "one line: why, then the usage"
        assert core.stores.chats.get(ANN).settings.tz == "UTC"
        (saved,) = await say(tg, ANN, "/settings tz Asia/Tokyo")
        assert "tz: Asia/Tokyo" in words(saved)
        await say(tg, ANN, "/digest on 08:00")
        db.execute("UPDATE chats SET tz = 'localtime' WHERE id = ?", [ANN])  # saved before
        (shown,) = await say(tg, ANN, "/settings")
        assert "digest: 08:00 UTC" in words(shown)
        assert "tz: localtime is not a time zone the bot knows, so UTC is used" in words(shown)
        (photo,) = await say(tg, ANN, "/map BTC")
        assert "Data to 2026-11-25 12:00 UTC" in words(photo)


async def test_digest_on_and_off(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock) as core:
        (on,) = await say(tg, ANN, "/digest on 08:00")
        assert words(on).startswith("Daily digest at 08:00 UTC")
        assert core.stores.chats.get(ANN).settings.digest_at == 8 * 60
        (shown,) = await say(tg, ANN, "/settings")
        assert "digest: 08:00 UTC" in words(shown)
        (bad,) = await say(tg, ANN, "/digest on 25:00")
        assert "a time of day looks like 08:00" in words(bad)
        (usage,) = await say(tg, ANN, "/digest sometimes")
        assert words(usage).startswith("Usage: /digest on HH:MM | off")
        (off,) = await say(tg, ANN, "/digest off")
        assert words(off) == "Daily digest off."
        assert core.stores.chats.get(ANN).settings.digest_at is None


async def test_a_deep_link_opens_its_map_and_a_bad_one_the_intro(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    async with running(settings, db, clock):
        (photo,) = await say(tg, ANN, "/start map_BTC_7d")
        assert photo["method"] == "sendPhoto"
        assert words(photo).startswith("BTC-USDT-SWAP · okx · 7d map")
        share = photo["reply_markup"]["inline_keyboard"][-1][-1]
        assert share == {
            "text": "🔗 Share",
            "url": f"https://t.me/{BOT}?start=map_okx_BTC-USDT-SWAP_7d",
        }
        (again,) = await say(tg, BOB, "/start map_okx_BTC-USDT-SWAP_1d")
        assert words(again).startswith("BTC-USDT-SWAP · okx · 1d map")
        for bad in ("/start map_BTC_2w", "/start hello", "/start"):
            (intro,) = await say(tg, ANN, bad)
            assert "liquidation maps" in words(intro) and "/map BTC" in words(intro), bad
