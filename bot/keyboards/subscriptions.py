"""Inline buttons that manage subscriptions (under /list and under every alert), and what
their callback data means."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.common import fitting

PREFIX = "sub"
PATTERN = rf"^{PREFIX}\|"
"""What the ``CallbackQueryHandler`` of these buttons matches."""
LIST, VIEW, DISTANCE, MUTE, UNMUTE, DELETE, ALERT_MUTE, OPEN_MAP, REAL_ALERTS = "lvdmuxaor"
OPS = frozenset({LIST, VIEW, DISTANCE, MUTE, UNMUTE, DELETE, ALERT_MUTE, OPEN_MAP, REAL_ALERTS})
CHANGES = frozenset({DISTANCE, MUTE, UNMUTE, DELETE, ALERT_MUTE, REAL_ALERTS})
"""Presses that change a subscription: in groups for administrators only."""
DISTANCES = ("0.5", "1", "2")
MUTE_HOURS = ("1", "8", "24")
ON_OFF = ("on", "off")
ALERT_MUTE_HOURS = 1


@dataclass(frozen=True)
class Manage:
    """A press: what to do (``op``), with which argument, to which of the chat's
    subscriptions (an instrument key; empty for the list itself)."""

    op: str
    arg: str
    instrument: str


def list_keyboard(instruments: list[str]) -> InlineKeyboardMarkup:
    """One button per subscription, opening its controls."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"⚙️ {key}", callback_data=_data(VIEW, "", key))]
         for key in instruments]
    )  # fmt: skip


def subscription_keyboard(
    instrument: str, distance_pct: float, muted: bool, real: bool | None = None
) -> InlineKeyboardMarkup:
    """Distance choices, mute (or unmute), real-cluster alerts on or off (where the venue's
    positions are public: ``real`` not None), delete and back to the list."""
    distances = [
        InlineKeyboardButton(
            f"• {d}% •" if float(d) == distance_pct else f"{d}%",
            callback_data=_data(DISTANCE, d, instrument),
        )
        for d in DISTANCES
    ]
    if muted:
        mutes = [InlineKeyboardButton("🔔 Unmute", callback_data=_data(UNMUTE, "", instrument))]
    else:
        mutes = [
            InlineKeyboardButton(f"🔕 {h}h", callback_data=_data(MUTE, h, instrument))
            for h in MUTE_HOURS
        ]
    last = [
        InlineKeyboardButton("🗑 Delete", callback_data=_data(DELETE, "", instrument)),
        InlineKeyboardButton("« All subscriptions", callback_data=_data(LIST, "", "")),
    ]
    rows = [distances, mutes]
    if real is not None:
        turn = "off" if real else "on"
        label = f"🐋 Real clusters: {'on' if real else 'off'} (turn {turn})"
        rows.append([InlineKeyboardButton(label, callback_data=_data(REAL_ALERTS, turn,
                                                                     instrument))])  # fmt: skip
    return InlineKeyboardMarkup([*rows, last])


def alert_keyboard(instrument: str) -> InlineKeyboardMarkup:
    """Under every alert: mute this subscription for an hour, or open the map."""
    return InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(f"🔕 Mute {ALERT_MUTE_HOURS}h",
                                 callback_data=_data(ALERT_MUTE, "", instrument)),
            InlineKeyboardButton("🗺 Open map", callback_data=_data(OPEN_MAP, "", instrument)),
        ]]
    )  # fmt: skip


def parse_manage(data: str | None) -> Manage | None:
    """The press a callback carries, or None for data these buttons never carry."""
    parts = (data or "").split("|", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    _, op, arg, instrument = parts
    valid = {DISTANCE: DISTANCES, MUTE: MUTE_HOURS, REAL_ALERTS: ON_OFF}.get(op, ("",))
    if op not in OPS or arg not in valid or (op != LIST) != bool(instrument):
        return None
    return Manage(op, arg, instrument)


def _data(op: str, arg: str, instrument: str) -> str:
    return fitting(f"{PREFIX}|{op}|{arg}|{instrument}")
