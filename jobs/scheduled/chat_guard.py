"""One chat's bad stored row must not stop a job's pass over the others.

Every job that loops over chats runs each chat's step inside ``ChatGuard.step``: a step that
a bad value breaks (``ROW_ERRORS``) is skipped and logged, with its traceback, once, not
every round, until the chat's step works again. The database or the network failing is no
one chat's fault and still fails the round. A stored time zone tzdata does not ship is no
error (UTC stands in, see ``liqmap.signals.time_zones``) but is said once too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from storage.chats import Chat

log = logging.getLogger(__name__)

ROW_ERRORS = (ArithmeticError, AttributeError, LookupError, TypeError, ValueError)
"""What a bad stored value raises in a chat's step (a zone that will not load is a
``LookupError``)."""


class ChatGuard:
    """What the jobs have already logged about each chat, shared by the jobs of a process."""

    def __init__(self) -> None:
        self._failing: dict[tuple[str, int], set[str]] = {}
        self._unknown_zones: set[tuple[int, str]] = set()

    @contextlib.contextmanager
    def step(self, job_log: logging.Logger, chat_id: int) -> Iterator[None]:
        """Run one chat's step of a job; a bad value ends the step, not the job, and is
        logged to ``job_log`` the first time the chat's step fails so."""
        key = (job_log.name, chat_id)
        try:
            yield
        except ROW_ERRORS as exc:
            kinds = self._failing.setdefault(key, set())
            if type(exc).__qualname__ not in kinds:
                kinds.add(type(exc).__qualname__)
                job_log.exception("chat %s skipped until its row is fixed: %s", chat_id, exc)
        else:
            self._failing.pop(key, None)

    def zone(self, chat: Chat) -> None:
        """Say once that a chat's stored time zone is not one tzdata ships."""
        told = (chat.id, chat.settings.tz)
        if not chat.settings.zone_known and told not in self._unknown_zones:
            self._unknown_zones.add(told)
            log.warning(
                "chat %s: time zone %r is not one tzdata ships; UTC is used until the chat "
                "sets another", chat.id, chat.settings.tz,
            )  # fmt: skip
