"""A group's minute: answers keep to their share, repeats and chatter past it are dropped and
counted, alerts keep the rest."""

from __future__ import annotations

from liqmap.policies.group_budget import GroupBudget, Verdict

A, B = -4001, -4002


def test_the_same_command_is_answered_once_per_ten_seconds() -> None:
    budget = GroupBudget()
    assert budget.ask(A, "/help", 0) is Verdict.ANSWER
    assert [budget.ask(A, "/help", t) for t in (1, 5_000, 9_999)] == [Verdict.REPEAT] * 3
    assert budget.ask(A, "/map btc", 9_999) is Verdict.ANSWER, "another command"
    assert budget.ask(B, "/help", 9_999) is Verdict.ANSWER, "another group"
    assert budget.ask(A, "/help", 10_000) is Verdict.ANSWER
    assert budget.verdicts == {Verdict.ANSWER: 4, Verdict.REPEAT: 3}


def test_past_the_answer_share_one_notice_then_drops_until_the_minute_frees() -> None:
    budget = GroupBudget(per_minute=20, answer_share=14)
    verdicts = [budget.ask(A, f"/help {n}", n) for n in range(40)]
    assert verdicts == [Verdict.ANSWER] * 13 + [Verdict.SLOW_DOWN] + [Verdict.DROP] * 26
    assert budget.verdicts[Verdict.DROP] == 26
    assert budget.ask(A, "/help again", 59_999) is Verdict.DROP
    assert budget.ask(A, "/help again", 60_000) is Verdict.ANSWER, "the first answer's minute"
    assert budget.ask(B, "/help", 0) is Verdict.ANSWER, "another group has its own minute"


def test_alerts_keep_the_rest_of_the_minute_however_members_chatter() -> None:
    budget = GroupBudget(per_minute=20, answer_share=14)
    for n in range(40):
        budget.ask(A, f"/help {n}", 1_000)
    assert [budget.alert_wait_ms(A, 2_000) for _ in range(6)] == [0] * 6
    assert budget.alert_wait_ms(A, 2_000) == 59_000, "20 in the minute: until the first leaves"
    assert budget.alert_wait_ms(A, 61_000) == 0


def test_alerts_may_use_what_answers_left_and_answers_keep_the_last_for_the_notice() -> None:
    budget = GroupBudget(per_minute=20, answer_share=14)
    assert all(budget.alert_wait_ms(A, 0) == 0 for _ in range(18))
    assert budget.ask(A, "/help", 0) is Verdict.ANSWER
    assert budget.ask(A, "/start", 0) is Verdict.SLOW_DOWN, "one left: the notice, no answer"
    assert budget.ask(A, "/list", 0) is Verdict.DROP
    assert budget.alert_wait_ms(A, 0) == 60_000


def test_groups_gone_quiet_are_forgotten() -> None:
    budget = GroupBudget()
    for chat in range(-100, 0):
        budget.ask(chat, "/help", 0)
    assert budget.groups == 100
    budget.alert_wait_ms(A, 30_000)
    assert budget.groups == 101, "a new one; the others asked within the minute"
    budget.ask(-5000, "/help", 60_000)
    assert budget.groups == 2, "A (its alert) and the new one; the rest went quiet"
