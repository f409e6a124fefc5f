"""What a group is told when it became a supergroup the bot already knew."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def merged_on_migration(dropped: Sequence[str], settings_replaced: bool, cap: int) -> str:
    lines = ["This group became a supergroup: it keeps the group's settings and subscriptions."]
    if settings_replaced:
        lines.append("The settings made here before the move were replaced by the group's.")
    if dropped:
        names = ", ".join(f"<b>{escape(name)}</b>" for name in dropped)
        lines.append(
            f"A chat follows at most {cap} symbols, so these, subscribed here before the move, "
            f"were dropped: {names}."
        )
    lines.append("/list shows what it follows; /settings its settings.")
    return " ".join(lines)
