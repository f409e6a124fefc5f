"""A chat's alert preferences, and how ``/settings NAME VALUE`` changes them."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from liqmap.errors import LiqmapError
from liqmap.signals.time_zones import is_zone, zone_names, zone_or_utc

MIN_DISTANCE_PCT, MAX_DISTANCE_PCT = 0.05, 20.0
MAX_STRENGTH = 100.0
MAX_COOLDOWN_MINUTES = 24 * 60
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class SettingError(LiqmapError):
    """A setting name or value a chat cannot use; the message says what would work."""


@dataclass(frozen=True)
class QuietHours:
    """A daily span in the chat's local minutes after midnight, possibly across midnight."""

    start: int
    end: int

    def contains(self, minute_of_day: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute_of_day < self.end
        return minute_of_day >= self.start or minute_of_day < self.end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class ChatSettings:
    """What a chat wants from alerts."""

    alert_distance_pct: float = 1.0
    """Alert when price comes within this percent of a cluster (subscriptions may override)."""
    min_strength: float = 2.0
    """Only clusters at least this many times denser than their side's average."""
    cooldown_minutes: int = 30
    """At most one alert per instrument in this many minutes."""
    quiet: QuietHours | None = None
    """Alerts in these hours arrive silently."""
    tz: str = "UTC"
    """The chat's IANA time zone: quiet hours, the digest and the times shown are local.
    A stored name tzdata does not ship counts as UTC (``zone``)."""
    digest_at: int | None = None
    """The daily digest's local minute after midnight; None when off."""

    @property
    def zone(self) -> ZoneInfo:
        """The zone of ``tz``, UTC when tzdata ships no such zone."""
        return zone_or_utc(self.tz)

    @property
    def zone_known(self) -> bool:
        """Whether ``tz`` is a zone tzdata ships (else UTC stands in)."""
        return is_zone(self.tz)


SETTING_NAMES = ("distance", "strength", "cooldown", "quiet", "tz")


def change_setting(settings: ChatSettings, name: str, value: str) -> ChatSettings:
    """``settings`` with one setting changed from a user's text; clear errors otherwise."""
    name = name.strip().lower()
    value = value.strip()
    if name == "distance":
        return replace(settings, alert_distance_pct=parse_distance(value))
    if name == "strength":
        strength = _number(value, "strength")
        if not 0 <= strength <= MAX_STRENGTH:
            raise SettingError(f"strength must be between 0 and {MAX_STRENGTH:g}, e.g. 2")
        return replace(settings, min_strength=strength)
    if name == "cooldown":
        minutes = _number(value.removesuffix("m").removesuffix("min"), "cooldown")
        if not (0 <= minutes <= MAX_COOLDOWN_MINUTES and float(minutes).is_integer()):
            raise SettingError(
                f"cooldown must be whole minutes from 0 to {MAX_COOLDOWN_MINUTES}, e.g. 30"
            )
        return replace(settings, cooldown_minutes=int(minutes))
    if name == "quiet":
        return replace(settings, quiet=parse_quiet(value))
    if name == "tz":
        return replace(settings, tz=parse_zone(value))
    raise SettingError(f"unknown setting; use one of: {', '.join(SETTING_NAMES)}")


def parse_distance(text: str) -> float:
    """A distance in percent such as ``0.8`` or ``0.8%``."""
    distance = _number(text.removesuffix("%"), "distance")
    if not MIN_DISTANCE_PCT <= distance <= MAX_DISTANCE_PCT:
        raise SettingError(
            f"distance must be between {MIN_DISTANCE_PCT:g}% and {MAX_DISTANCE_PCT:g}%, e.g. 0.8"
        )
    return distance


def parse_quiet(text: str) -> QuietHours | None:
    """``23:00-07:00`` (the chat's local time) or ``off``."""
    if text.lower() in ("off", "none", "no"):
        return None
    start, dash, end = text.partition("-")
    first, last = _CLOCK.match(start.strip()), _CLOCK.match(end.strip())
    if not (dash and first and last):
        raise SettingError("quiet hours look like 23:00-07:00 (local time), or off")
    start_minute = int(first[1]) * 60 + int(first[2])
    end_minute = int(last[1]) * 60 + int(last[2])
    if start_minute == end_minute:
        raise SettingError("quiet hours need a start and an end that differ")
    return QuietHours(start_minute, end_minute)


def parse_clock(text: str) -> int:
    """``08:00`` as minutes after midnight."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise SettingError("a time of day looks like 08:00")
    return int(match[1]) * 60 + int(match[2])


def parse_zone(text: str) -> str:
    """An IANA time zone name such as ``Europe/Berlin`` (any case) that tzdata ships, or close
    matches."""
    names = {name.lower(): name for name in zone_names()}
    wanted = text.strip().lower()[:64]
    if wanted in names:
        return names[wanted]
    close = [names[c] for c in difflib.get_close_matches(wanted, names, 3, 0.7)]
    hint = f"Did you mean {' or '.join(close)}?" if close else "Try e.g. Europe/Berlin."
    raise SettingError(f"unknown time zone {text[:64]!r}. {hint}")


def _number(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or len(text) > 12:
        shown = text if len(text) <= 12 else text[:12] + "…"
        raise SettingError(f"{name} must be a number, got {shown!r}")
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
