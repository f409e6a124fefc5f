"""Who may use the service and who may run its admin commands: one rule for every path.

Commands, buttons, alerts and their delivery all ask ``Access``; a chat taken off the
allowlist is refused everywhere and its subscriptions pause until it is allowed again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    """``LIQMAP_ALLOWED_CHATS`` (empty: everyone) and ``LIQMAP_ADMIN_CHATS``."""

    allowed_chats: frozenset[int] = frozenset()
    admin_chats: frozenset[int] = frozenset()

    def allows(self, chat_id: int) -> bool:
        return not self.allowed_chats or chat_id in self.allowed_chats

    def is_admin_chat(self, chat_id: int) -> bool:
        return chat_id in self.admin_chats
