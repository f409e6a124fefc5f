"""Time zones, the digest's timing and text, and deep links: the pure parts."""

from __future__ import annotations

import shutil
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from bot.deep_links import MapLink, map_parameter, parse_map_parameter, share_url
from bot.texts.alerts import digest_text
from bot.texts.settings import settings_text
from liqmap.signals.chat_settings import ChatSettings, QuietHours, SettingError, change_setting
from liqmap.signals.digest import Digest, Level, Watched, due_day
from liqmap.signals.proximity import SWEPT, Alert, in_quiet_hours
from liqmap.signals.time_zones import NOT_PLACES, load_zone, zone_names

BASE = ChatSettings()


def ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("utc", "UTC"),
     (" America/New_York ", "America/New_York")],
)  # fmt: skip
def test_tz_takes_iana_names_in_any_case(typed: str, zone: str) -> None:
    assert change_setting(BASE, "tz", typed).tz == zone


def test_a_misspelt_zone_gets_close_matches() -> None:
    with pytest.raises(SettingError, match="Did you mean Europe/Berlin"):
        change_setting(BASE, "tz", "europe/berln")
    with pytest.raises(SettingError, match=r"unknown time zone 'Mars/Olympus'\. Try e\.g\."):
        change_setting(BASE, "tz", "Mars/Olympus")


@pytest.mark.parametrize("name", ["localtime", "Factory", "factory", "posixrules", "zone.tab"])
def test_tz_refuses_what_is_no_place(name: str) -> None:
    with pytest.raises(SettingError, match=rf"unknown time zone '{name}'"):
        change_setting(BASE, "tz", name)


def test_the_zones_are_tzdatas_list_but_for_what_is_no_place() -> None:
    listed = set(resources.files("tzdata").joinpath("zones").read_text().split())
    assert zone_names() == listed - NOT_PLACES
    assert {"UTC", "Etc/UTC", "Europe/Kyiv", "Europe/Kiev", "America/New_York"} <= zone_names()


@pytest.fixture
def host_zones(tmp_path: Path) -> Iterator[Path]:
    """A host zone directory of our making, the only one zoneinfo searches meanwhile."""
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    caches = (zoneinfo.ZoneInfo.clear_cache, load_zone.cache_clear)
    for clear in caches:
        clear()
    yield tmp_path
    zoneinfo.reset_tzpath()
    for clear in caches:
        clear()


def test_zones_come_from_tzdata_never_the_hosts_files(host_zones: Path) -> None:
    tokyo = resources.files("tzdata").joinpath("zoneinfo", "Asia", "Tokyo")
    for name in ("Europe/Berlin", "Mars/Olympus"):  # the host's Berlin is Tokyo's, and Mars
        (host_zones / name).parent.mkdir(exist_ok=True)
        with tokyo.open("rb") as src, (host_zones / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    assert "Mars/Olympus" in zoneinfo.available_timezones()
    with pytest.raises(SettingError, match="unknown time zone 'Mars/Olympus'"):
        change_setting(BASE, "tz", "Mars/Olympus")
    berlin = change_setting(BASE, "tz", "Europe/Berlin")
    assert datetime.fromtimestamp(ms(2026, 11, 25, 12) / 1000, berlin.zone).hour == 13
    assert berlin.zone is berlin.zone, "loaded once"


def test_a_stored_zone_tzdata_lacks_counts_as_utc() -> None:
    mars = ChatSettings(quiet=QuietHours(12 * 60, 13 * 60), tz="Mars/Olympus", digest_at=12 * 60)
    assert not mars.zone_known and mars.zone.key == "UTC"
    assert in_quiet_hours(mars, ms(2026, 11, 25, 12, 30))
    assert due_day(mars, ms(2026, 11, 25, 12)) == "2026-11-25"
    assert "tz: Mars/Olympus is not a time zone the bot knows, so UTC is used" in settings_text(
        mars
    )
    made = ms(2026, 11, 25, 12)
    assert "Daily digest</b> · 2026-11-25 12:00 UTC" in digest_text(
        Digest(made, "localtime", (), (), 0, False)
    ), "a digest queued before the rule"


def test_quiet_hours_are_the_chats_local_hours() -> None:
    tokyo = ChatSettings(quiet=QuietHours(22 * 60, 7 * 60), tz="Asia/Tokyo")
    assert not in_quiet_hours(tokyo, ms(2026, 11, 25, 12))  # 21:00 in Tokyo
    assert in_quiet_hours(tokyo, ms(2026, 11, 25, 13))  # 22:00 in Tokyo
    assert in_quiet_hours(tokyo, ms(2026, 11, 25, 21, 59))  # 06:59 in Tokyo
    assert not in_quiet_hours(ChatSettings(quiet=tokyo.quiet), ms(2026, 11, 25, 13))


def test_settings_show_the_zone() -> None:
    text = settings_text(ChatSettings(quiet=QuietHours(23 * 60, 7 * 60), tz="Europe/Berlin"))
    assert "quiet: 23:00-07:00 Europe/Berlin" in text and "tz: Europe/Berlin" in text
    assert "digest: off" in text


def test_the_digest_is_due_at_its_local_time_that_day_only() -> None:
    berlin = ChatSettings(tz="Europe/Berlin", digest_at=8 * 60)
    assert due_day(BASE, ms(2026, 11, 25, 12)) is None, "off"
    assert due_day(berlin, ms(2026, 11, 25, 6, 59)) is None  # 07:59 CET
    assert due_day(berlin, ms(2026, 11, 25, 7)) == "2026-11-25"
    assert due_day(berlin, ms(2026, 11, 25, 8, 59)) == "2026-11-25"
    assert due_day(berlin, ms(2026, 11, 25, 12)) is None, "too late: turned on after its time"


def test_the_digest_keeps_its_wall_clock_time_across_dst() -> None:
    new_york = ChatSettings(tz="America/New_York", digest_at=8 * 60)
    assert due_day(new_york, ms(2026, 3, 7, 13)) == "2026-03-07"  # 08:00 EST
    assert due_day(new_york, ms(2026, 3, 8, 11, 59)) is None  # 07:59 EDT
    assert due_day(new_york, ms(2026, 3, 8, 12)) == "2026-03-08"  # 08:00 EDT
    skipped = ChatSettings(tz="America/New_York", digest_at=2 * 60 + 30)  # no 02:30 that night
    assert due_day(skipped, ms(2026, 3, 8, 7)) == "2026-03-08"  # 03:00 EDT


@pytest.mark.parametrize(
    ("key", "parameter"),
    [("okx:BTC-USDT-SWAP", "map_okx_BTC-USDT-SWAP_7d"), ("all:BTC", "map_all_BTC_7d"),
     ("binance:BTCUSD_PERP", "map_binance_BTCUSD_PERP_7d"), ("BTC", "map_BTC_7d")],
)  # fmt: skip
def test_map_deep_links_round_trip(key: str, parameter: str) -> None:
    assert map_parameter(key, "7d") == parameter
    assert parse_map_parameter(parameter) == MapLink(key, "7d")


def test_deep_links_refuse_what_they_cannot_carry() -> None:
    for bad in ("", "hello", "map_BTC", "map_BTC_2w", "map__7d", "map_BT C_7d", "map_" + "X" * 61):
        assert parse_map_parameter(bad) is None, bad
    assert map_parameter("okx:" + "X" * 60, "7d") is None
    assert share_url("liqmap_bot", "okx:" + "X" * 60, "7d") is None
    assert (
        share_url("liqmap_bot", "all:ETH", "1d") == "https://t.me/liqmap_bot?start=map_all_ETH_1d"
    )


def test_the_digest_text_tells_local_times_clusters_and_the_day() -> None:
    made = ms(2026, 11, 25, 7)
    level = Level("long", 95_000.0, 95_500.0, 12e6, -1.5)
    watched = Watched("BTC-USDT-SWAP", "okx", 97_000.0, made - 60_000, (level,))
    swept = Alert(SWEPT, "okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "long", 96_000.0,
                  96_200.0, 5e6, 3.0, 95_900.0, 96_100.0, 0.0, False, "7d")  # fmt: skip
    text = digest_text(Digest(made, "Europe/Berlin", (watched,), (swept,), 1, False))
    assert "Daily digest</b> · 2026-11-25 08:00 CET" in text
    assert "data to 2026-11-25 07:59 CET" in text
    assert "🟢 Longs <b>95,000–95,500</b> · $12.0M · 1.5% below" in text
    assert "1 alert sent" in text
    assert "BTC-USDT-SWAP LONG <b>96,000–96,200</b> · $5.0M swept" in text
    empty = digest_text(Digest(made, "UTC", (), (), 0, False))
    assert "No maps yet" in empty and "0 alerts sent" in empty and "Nothing swept." in empty
