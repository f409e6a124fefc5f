"""A chat's alert settings and the time of its daily digest."""

from __future__ import annotations

from html import escape

from bot.texts.common import USAGE
from liqmap.signals.chat_settings import (
    MAX_COOLDOWN_MINUTES,
    MAX_DISTANCE_PCT,
    MIN_DISTANCE_PCT,
    ChatSettings,
)


def saved(settings: ChatSettings) -> str:
    return "Saved.\n\n" + settings_text(settings)


def settings_text(settings: ChatSettings) -> str:
    zone = escape(settings.zone.key)
    quiet = f"{settings.quiet} {zone}" if settings.quiet else "off"
    digest = f"{clock_text(settings.digest_at)} {zone}" if settings.digest_at is not None else "off"
    return "\n".join(
        [
            "<b>Alert settings of this chat</b>",
            f"distance: {settings.alert_distance_pct:g}% (alert when price is this close "
            f"to a cluster; {MIN_DISTANCE_PCT:g}–{MAX_DISTANCE_PCT:g})",
            f"strength: {settings.min_strength:g}× "
            "(only clusters at least this many times denser than average)",
            f"cooldown: {settings.cooldown_minutes} min "
            f"(at most one alert per symbol in this time; 0–{MAX_COOLDOWN_MINUTES})",
            f"quiet: {quiet} (alerts then arrive silently)",
            _zone_line(settings),
            f"digest: {digest} (/digest on 08:00 | off)",
            "",
            escape(USAGE["settings"]),
        ]
    )


def _zone_line(settings: ChatSettings) -> str:
    if not settings.zone_known:
        return (
            f"tz: {escape(settings.tz)} is not a time zone the bot knows, so UTC is used; "
            "set yours, e.g. /settings tz Europe/Berlin"
        )
    return f"tz: {escape(settings.tz)} (quiet hours, the digest and times shown)"


def clock_text(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def digest_saved(settings: ChatSettings) -> str:
    if settings.digest_at is None:
        return "Daily digest off."
    return (
        f"Daily digest at {clock_text(settings.digest_at)} {escape(settings.zone.key)}: each "
        "subscription's nearest clusters, what was swept and the alerts of the last 24 h. "
        "Change the zone with /settings tz Europe/Berlin."
    )
