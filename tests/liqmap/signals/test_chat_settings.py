"""Chat settings: parsing what users type, with clear errors for anything else."""

from __future__ import annotations

import pytest

from liqmap.signals.chat_settings import ChatSettings, QuietHours, SettingError, change_setting

BASE = ChatSettings()


def test_defaults() -> None:
    assert (BASE.alert_distance_pct, BASE.min_strength, BASE.cooldown_minutes) == (1.0, 2.0, 30)
    assert BASE.quiet is None


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("distance", "0.8", "alert_distance_pct", 0.8),
        ("DISTANCE", "2.5%", "alert_distance_pct", 2.5),
        ("strength", "3", "min_strength", 3.0),
        ("strength", "0", "min_strength", 0.0),
        ("cooldown", "45", "cooldown_minutes", 45),
        ("cooldown", "10m", "cooldown_minutes", 10),
        ("quiet", "23:00-07:00", "quiet", QuietHours(23 * 60, 7 * 60)),
        ("quiet", "1:30-2:45", "quiet", QuietHours(90, 165)),
        ("quiet", "off", "quiet", None),
    ],
)
def test_changes(name: str, value: str, field: str, expected: object) -> None:
    assert getattr(change_setting(BASE, name, value), field) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("distance", "-1", "distance must be between 0.05% and 20%"),
        ("distance", "1e9", "distance must be between"),
        ("distance", "abc", "distance must be a number, got 'abc'"),
        ("distance", "nan", "distance must be a number"),
        ("distance", "9" * 500, "distance must be a number, got '999999999999…'"),
        ("strength", "-3", "strength must be between 0 and 100"),
        ("cooldown", "2.5", "cooldown must be whole minutes"),
        ("cooldown", "99999", "cooldown must be whole minutes from 0 to 1440"),
        ("quiet", "25:00-07:00", "quiet hours look like 23:00-07:00"),
        ("quiet", "7", "quiet hours look like"),
        ("quiet", "07:00-07:00", "differ"),
        ("colour", "red", "unknown setting; use one of: distance, strength, cooldown, quiet"),
    ],
)
def test_bad_values_say_what_would_work(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        change_setting(BASE, name, value)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 120


def test_quiet_hours_across_midnight() -> None:
    night = QuietHours(23 * 60, 7 * 60)
    assert night.contains(23 * 60) and night.contains(0) and night.contains(6 * 60 + 59)
    assert not night.contains(7 * 60) and not night.contains(12 * 60)
    day = QuietHours(9 * 60, 17 * 60)
    assert day.contains(9 * 60) and not day.contains(17 * 60) and not day.contains(3 * 60)
    assert str(night) == "23:00-07:00"
