"""Subscribing, unsubscribing, and /list with the buttons under it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import tzinfo
from html import escape

from bot.arguments import Setup
from bot.standings import Standing
from bot.texts.common import TEXT_LIMIT, USAGE
from bot.texts.html import clip_html
from bot.texts.topics import topic_label
from liqmap.engine.clusters import LONG
from liqmap.formats import local_time
from liqmap.market.instruments import Instrument
from liqmap.market.venues import POSITIONS_PUBLIC
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


def already_subscribed(
    label: str, exchange: str, setup: Setup, default_pct: float, public: bool = False
) -> str:
    """``/subscribe`` again, asking nothing new: nothing changes, and it says what is set
    (real-cluster alerts where the venue's positions are ``public``)."""
    real = f", real-cluster alerts {_on(setup.real)}" if public else ""
    options = " [building [off]] [real [off]]" if public else " [building [off]]"
    return (
        f"Already subscribed to <b>{escape(label)}</b> on {escape(exchange)}: alerts within "
        f"{_distance(setup, default_pct)}, building alerts {_on(setup.building)}{real}. To "
        f"change them: /subscribe {escape(label)} DISTANCE%{options}, or /list."
    )


def updated(
    label: str, exchange: str, before: Setup, after: Setup, default_pct: float,
    public: bool = False,
) -> str:  # fmt: skip
    """Exactly what ``/subscribe`` changed of an existing subscription, and what it kept."""
    distance = _change(_distance(before, default_pct), _distance(after, default_pct))
    building = _change(_on(before.building), _on(after.building))
    real = f"; real-cluster alerts {_change(_on(before.real), _on(after.real))}" if public else ""
    return (
        f"Updated <b>{escape(label)}</b> on {escape(exchange)}: alerts within {distance}; "
        f"building alerts {building}{real}."
    )


def real_on(key: str) -> str:
    return (
        f"🐋 Also when price comes near a cluster of real positions' liquidation prices, as "
        f"the scanner read them (<code>/subscribe {escape(key)} real off</code> stops that)."
    )


def real_switched(key: str, on: bool) -> str:
    return f"Real-cluster alerts for {key} {'on' if on else 'off'}."


def real_refused_key(key: str) -> str:
    """The button's answer where the venue hides positions (a forged press)."""
    return f"Real-cluster alerts need public positions; {key} has none."


def real_refused(inst: Instrument) -> str:
    """Real-cluster alerts asked for on a venue that hides its positions: one line."""
    public = " and ".join(POSITIONS_PUBLIC)
    where = "a sum of exchanges" if inst.is_aggregate else inst.exchange
    return (
        f"Real-cluster alerts need public positions, and only {public} publishes them, not "
        f"{where}: e.g. /subscribe {public}:{inst.base} real"
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
    real: Collection[str] = frozenset(),
    topics: dict[int, Topic] | None = None,
) -> str:
    """/list: each subscription, closest to an alert first; ``real``: those that also alert
    on real clusters; in a forum (``topics`` given) with the topic its alerts go to."""
    if not standings:
        return "No subscriptions yet. " + escape(USAGE["subscribe"])
    lines = ["<b>Subscriptions</b>, closest to an alert first (tap one to change it)"]
    lines += [
        f"• {standing_text(s, settings, now, s.subscription.instrument in real, topics)}"
        for s in standings
    ]
    return clip_html("\n".join(lines), TEXT_LIMIT)


def subscription_detail(
    standing: Standing,
    settings: ChatSettings,
    now: int,
    real: bool = False,
    topics: dict[int, Topic] | None = None,
) -> str:
    text = standing_text(standing, settings, now, real, topics)
    return clip_html(f"{text}\n\nAlert distance, mute or delete:", TEXT_LIMIT)


def standing_text(
    standing: Standing,
    settings: ChatSettings,
    now: int,
    real: bool = False,
    topics: dict[int, Topic] | None = None,
) -> str:
    """``okx:BTC-USDT-SWAP — within 1% · in topic “BTC” · nearest LONG cluster 0.80% below
    (0.8× the distance) · 🐋 real clusters too · 🔕 until …`` (the topic only in a forum:
    ``topics`` given)."""
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
    if real:
        parts.append("🐋 real clusters too")
    if sub.muted_until is not None and sub.muted(now):
        parts.append(f"🔕 muted until {local_time(sub.muted_until, settings.zone)}")
    return " · ".join(parts)


def distance_changed(key: str, distance_pct: float) -> str:
    return f"Alerts for {key} now within {distance_pct:g}%."


def muted(key: str, until: int, zone: tzinfo) -> str:
    return f"Muted {key} until {local_time(until, zone)}."


def unmuted(key: str) -> str:
    return f"Alerts for {key} are on again."
