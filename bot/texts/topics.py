"""Forum topics: the note when a topic is gone, and how /list names a topic."""

from __future__ import annotations

from html import escape

from storage.topics import CLOSED, Topic

GENERAL = "General topic"


def topic_gone_note(reason: str) -> str:
    """The one note the chat gets with the first alert that fell back to the General topic."""
    how = "closed" if reason == CLOSED else "gone"
    return (
        f"⚠️ The topic this subscription was made in is {how}; alerts now go here. "
        "/subscribe again in a topic to move them."
    )


def topic_label(thread_id: int | None, topics: dict[int, Topic]) -> str:
    """``in topic “BTC signals”``, ``in topic #12``, ``in the General topic``; with what
    happened to a topic that is gone."""
    if thread_id is None:
        return f"in the {GENERAL}"
    topic = topics.get(thread_id)
    name = f"“{escape(topic.name)}”" if topic is not None and topic.name else f"#{thread_id}"
    if topic is not None and topic.gone:
        how = "closed" if topic.gone == CLOSED else "deleted"
        return f"topic {name} {how}: alerts go to the {GENERAL}"
    return f"in topic {name}"


def moved_to(label: str, thread_id: int | None) -> str:
    """``/subscribe`` again from another topic: the subscription's alerts follow."""
    where = "this topic" if thread_id is not None else f"the {GENERAL}"
    return f"Alerts for <b>{escape(label)}</b> now go to {where}."
