"""A group's minute of messages shared out: members' chatter never takes the alerts' share.

Telegram takes about 20 messages a minute into one group (Bots FAQ, "My bot is hitting limits,
how do I avoid this?"); past that it answers 429. Answers to commands may use at most
``answer_share`` of them, the slow-down notice included; alerts use the rest and whatever the
answers left. The same command asked again within ``repeat_ms`` of its answer gets no second
answer; past the share one notice goes out and the rest are dropped, each counted. Pure: the
caller passes the time.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum

MINUTE_MS = 60_000
GROUP_PER_MINUTE = 20
"""Telegram Bots FAQ: "no more than 20 messages per minute to the same group"."""
ANSWER_SHARE = 14
REPEAT_MS = 10_000


class Verdict(Enum):
    ANSWER = "answer"
    REPEAT = "repeat"
    """The same command again within ``repeat_ms`` of its answer: not answered again."""
    SLOW_DOWN = "slow down"
    """The group's answer share is used up: this one gets the notice, once a minute."""
    DROP = "drop"
    """Past the share, notice given: not answered."""


@dataclass
class _Group:
    sent: deque[tuple[int, bool]] = field(default_factory=deque)
    """(when, is an alert) of the messages of the last minute, oldest first."""
    answered: dict[str, int] = field(default_factory=dict)
    """command -> when it was last answered, within ``repeat_ms``."""
    noticed_at: int | None = None

    def forget(self, now_ms: int, repeat_ms: int) -> None:
        while self.sent and self.sent[0][0] <= now_ms - MINUTE_MS:
            self.sent.popleft()
        self.answered = {c: t for c, t in self.answered.items() if now_ms - t < repeat_ms}

    def quiet(self, now_ms: int, repeat_ms: int) -> bool:
        """Nothing left to remember."""
        self.forget(now_ms, repeat_ms)
        noticed = self.noticed_at is not None and now_ms - self.noticed_at < MINUTE_MS
        return not (self.sent or self.answered or noticed)

    @property
    def answers(self) -> int:
        return sum(1 for _, alert in self.sent if not alert)


@dataclass
class GroupBudget:
    """Each group's last minute of messages, answers and alerts apart."""

    per_minute: int = GROUP_PER_MINUTE
    answer_share: int = ANSWER_SHARE
    repeat_ms: int = REPEAT_MS
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    """How many commands got each verdict, since start."""
    _groups: dict[int, _Group] = field(default_factory=dict)

    def ask(self, chat_id: int, command: str, now_ms: int) -> Verdict:
        """May the group's ``command`` (normalised by the caller) be answered now? An answer
        or notice is counted as one message at once."""
        group = self._group(chat_id, now_ms)
        verdict = self._verdict(group, command, now_ms)
        if verdict is Verdict.ANSWER:
            group.answered[command] = now_ms
        if verdict is Verdict.SLOW_DOWN:
            group.noticed_at = now_ms
        if verdict in (Verdict.ANSWER, Verdict.SLOW_DOWN):
            group.sent.append((now_ms, False))
        self.verdicts[verdict] += 1
        return verdict

    def alert_wait_ms(self, chat_id: int, now_ms: int) -> int:
        """How long an alert to the group must wait (0: it may go now, and is counted)."""
        group = self._group(chat_id, now_ms)
        if len(group.sent) >= self.per_minute:
            return group.sent[0][0] + MINUTE_MS - now_ms
        group.sent.append((now_ms, True))
        return 0

    def _verdict(self, group: _Group, command: str, now_ms: int) -> Verdict:
        if command in group.answered:
            return Verdict.REPEAT
        answers, free = group.answers, self.per_minute - len(group.sent)
        noticed = group.noticed_at is not None and now_ms - group.noticed_at < MINUTE_MS
        kept = 0 if noticed else 1  # a message kept for the notice until it went out
        if answers < self.answer_share - kept and free > kept:
            return Verdict.ANSWER
        if not noticed and answers < self.answer_share and free > 0:
            return Verdict.SLOW_DOWN
        return Verdict.DROP

    @property
    def groups(self) -> int:
        """Groups remembered: those with a message, an answer or a notice in the last minute
        (and any asked since the last new one)."""
        return len(self._groups)

    def _group(self, chat_id: int, now_ms: int) -> _Group:
        if chat_id not in self._groups:  # a new one: forget the groups gone quiet
            for quiet in [c for c, g in self._groups.items() if g.quiet(now_ms, self.repeat_ms)]:
                del self._groups[quiet]
        group = self._groups.setdefault(chat_id, _Group())
        group.forget(now_ms, self.repeat_ms)
        return group
