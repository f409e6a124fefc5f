"""Telegram HTML cut to Telegram's limits: ``clip_html`` counts what Telegram counts
(visible UTF-16 units, after entities are parsed) and never cuts inside a tag or an entity."""

from __future__ import annotations

import re
from html import unescape

_TOKENS = re.compile(r"<[^<>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")


def visible_length(text: str) -> int:
    """What Telegram counts of HTML text: visible UTF-16 units, an entity as one."""
    return sum(_units(token) for token in _TOKENS.findall(text))


def clip_html(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` visible units with "…", open tags closed; never inside a tag
    or an entity, never between the two halves of an emoji."""
    if visible_length(text) <= limit:
        return text
    out: list[str] = []
    open_tags: list[str] = []
    room = limit - 1
    for token in _TOKENS.findall(text):
        if _is_tag(token):
            name = _TAG_NAME.match(token)
            if name is not None and token.startswith("</"):
                if name.group(1) in open_tags:
                    open_tags.remove(name.group(1))
            elif name is not None:
                open_tags.append(name.group(1))
            out.append(token)
            continue
        size = _units(token)
        if size <= room:
            out.append(token)
            room -= size
            continue
        if not token.startswith("&"):
            out.append(_first_units(token, room))
        break
    return "".join(out) + "…" + "".join(f"</{name}>" for name in reversed(open_tags))


def plain(text: str, limit: int) -> str:
    """HTML ``text`` as the plain text a pop-up shows, cut to ``limit`` UTF-16 units."""
    shown = unescape("".join(t for t in _TOKENS.findall(text) if not _is_tag(t)))
    size = len(shown.encode("utf-16-le")) // 2
    return shown if size <= limit else _first_units(shown, limit - 1) + "…"


def _is_tag(token: str) -> bool:
    return token.startswith("<") and token.endswith(">") and len(token) > 1


def _units(token: str) -> int:
    if _is_tag(token):
        return 0
    if token.startswith("&") and token.endswith(";") and len(token) > 2:
        return 1
    return len(token.encode("utf-16-le")) // 2


def _first_units(text: str, room: int) -> str:
    """The longest start of ``text`` within ``room`` UTF-16 units."""
    taken, used = [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > room:
            break
        taken.append(char)
        used += size
    return "".join(taken)
