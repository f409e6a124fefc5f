"""What a group is told when it became a supergroup the bot already knew."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def merged_on_migration(dropped: Sequence[str], cap: int) -> str:
    names = ", ".join(f"<b>{escape(name)}</b>" for name in dropped)
    return (
        "This group became a supergroup: it keeps the group's settings and subscriptions. "
        f"A chat follows at most {cap} symbols, so these, subscribed here before the move, "
        f"were dropped: {names}. /list shows what it follows."
    )
