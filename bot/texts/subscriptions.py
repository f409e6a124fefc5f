"""Subscribing, unsubscribing, and /list with the buttons under it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from bot.arguments import Setup
from bot.standings import Standing
from bot.texts.common import TEXT_LIMIT, USAGE
from bot.texts.html import clip_html
from bot.texts.topics import topic_label
from liqmap.engine.clusters import LONG
from liqmap.formats import local_time
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.growing_clusters import NEAR_PCT
from storage.topics import Topic

STALE_LIST_BUTTON = "This button no longer works; send /list again."
NOT_FOLLOWED = "This chat does not follow that symbol any more; send /list again."


def subscribed_button(label: str, distance_pct: float) -> str:
    return f"Subscribed to {label}: alerts within {distance_pct:g}%."


def already_subscribed_button(label: str, distance_pct: float, building: bool) -> str:
    return (
        f"Already subscribed to {label}: alerts within {distance_pct:g}%, "
        f"building alerts {_on(building)}."
    )


def subscribed(label: str, exchange: str, within: float, strength: float) -> str:
    return (
        f"🔔 Subscribed to <b>{escape(label)}</b> on {escape(exchange)}: I will alert when price "
        f"comes within {within:g}% of a cluster at least {strength:g}× denser than average. "
        "/list shows all; /settings changes the defaults."
    )


def already_subscribed(label: str, exchange: str, setup: Setup, default_pct: float) -> str:
    """``/subscribe`` again, asking nothing new: nothing changes, and it says what is set."""
    return (
        f"Already subscribed to <b>{escape(label)}</b> on {escape(exchange)}: alerts within "
        f"{_distance(setup, default_pct)}, building alerts {_on(setup.building)}. To change "
        f"them: /subscribe {escape(label)} DISTANCE% [building [off]], or /list."
    )


def updated(label: str, exchange: str, before: Setup, after: Setup, default_pct: float) -> str:
    """Exactly what ``/subscribe`` changed of an existing subscription, and what it kept."""
    distance = _change(_distance(before, default_pct), _distance(after, default_pct))
    building = _change(_on(before.building), _on(after.building))
    return (
        f"Updated <b>{escape(label)}</b> on {escape(exchange)}: alerts within {distance}; "
        f"building alerts {building}."
    )


def building_on(label: str) -> str:
    return (
        f"📈 Also when a cluster within {NEAR_PCT:g}% of price builds fast around "
        f"{escape(label)} (<code>/subscribe {escape(label)} building off</code> stops that)."
    )


def _distance(setup: Setup, default_pct: float) -> str:
    if setup.distance_pct is None:
        return f"{default_pct:g}% (the chat's default)"
    return f"{setup.distance_pct:g}%"


def _on(building: bool) -> str:
    return "on" if building else "off"


def _change(before: str, after: str) -> str:
    return f"{after} (unchanged)" if before == after else f"{before} → {after}"


def stopped_all(count: int) -> str:
    return f"Stopped all alerts ({count} subscription{'s' * (count != 1)})."


def stopped(key: str) -> str:
    return f"Stopped alerts for {escape(key)}."


def not_subscribed(key: str) -> str:
    return f"This chat is not subscribed to {escape(key)}. /list"


def subscription_list(
    standings: Sequence[Standing],
    settings: ChatSettings,
    now: int,
    topics: dict[int, Topic] | None = None,
) -> str:
    """/list: each subscription, closest to an alert first; in a forum (``topics`` given)
    with the topic its alerts go to."""
    if not standings:
        return "No subscriptions yet. " + escape(USAGE["subscribe"])
    lines = ["<b>Subscriptions</b>, closest to an alert first (tap one to change it)"]
    lines += [f"• {standing_text(s, settings, now, topics)}" for s in standings]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def subscription_detail(
    standing: Standing, settings: ChatSettings, now: int, topics: dict[int, Topic] | None = None
) -> str:
    return clip_html(
        f"{standing_text(standing, settings, now, topics)}\n\nAlert distance, mute or delete:",
        TEXT_LIMIT,
    )


def standing_text(
    standing: Standing, settings: ChatSettings, now: int, topics: dict[int, Topic] | None = None
) -> str:
    """``okx:BTC-USDT-SWAP — within 1% · in topic “BTC” · nearest LONG cluster 0.80% below
    (0.8× the distance) · 🔕 until …`` (the topic only in a forum: ``topics`` given)."""
    sub = standing.subscription
    own = "" if sub.distance_pct is None else " (own)"
    parts = [f"{escape(sub.instrument)} — within {standing.distance_pct:g}%{own}"]
    if topics is not None:
        parts.append(topic_label(sub.thread_id, topics))
    cluster = standing.nearest
    if not standing.has_map:
        parts.append("no map yet")
    elif cluster is None:
        parts.append(f"no cluster ≥{settings.min_strength:g}× average density")
    else:
        where = "below" if cluster.side == LONG else "above"
        parts.append(
            f"nearest {cluster.side.upper()} cluster {abs(cluster.distance_pct):.2f}% {where} "
            f"({standing.closeness:.1f}× the distance)"
        )
    if sub.muted_until is not None and sub.muted(now):
        parts.append(f"🔕 muted until {local_time(sub.muted_until, settings.zone)}")
    return " · ".join(parts)


def distance_changed(key: str, distance_pct: float) -> str:
    return f"Alerts for {key} now within {distance_pct:g}%."


def muted(key: str, until: int, zone: tzinfo) -> str:
    return f"Muted {key} until {local_time(until, zone)}."


def unmuted(key: str) -> str:
    return f"Alerts for {key} are on again."
