"""A fake Telegram Bot API server that speaks the real wire format.

Point python-telegram-bot at it with ``base_url=fake.base_url`` (``f"{fake.url}/bot"``): every
call is ``POST {url}/bot{token}/{method}`` with form-encoded or multipart parameters, answered
with ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``.

Tests play the users (``user_sends``, ``user_clicks``, ``block``, ``migrate_group`` ...) and
read back what the bot did (``sent``, ``calls``, ``wait_for``, ``wait_for_sent``). All state
lives in the server object behind one lock, so the controls are safe from any thread and the
fake serves a bot running in another process just as well.
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
import logging
import re
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.group_limit import GroupLimit, is_message
from tests.fakes.http import FakeServer, Fault, Request

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstu"
DEFAULT_USER_ID = 424242
"""The user who acts in group chats when a control is not told which user."""

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
"""What the Bot API answers for a query id it does not know or no longer takes: the Bot API
server (tdlib/telegram-bot-api, telegram-bot-api/Client.cpp, ``fail_query_with_error``) turns
Telegram's QUERY_ID_INVALID into this text, prefixed "Bad Request: " for code 400."""
INLINE_RESULTS_LIMIT = 50
"""answerInlineQuery: "No more than 50 results per query are allowed"
(https://core.telegram.org/bots/api#answerinlinequery); the Bot API server refuses more itself
(Client.cpp ``get_inline_query_results``: "Too many inline query results specified")."""
RESULT_ID_LIMIT = 64
"""InlineQueryResult*.id: "Unique identifier for this result, 1-64 bytes"
(https://core.telegram.org/bots/api#inlinequeryresultcachedphoto)."""
NEXT_OFFSET_LIMIT = 64
"""answerInlineQuery.next_offset: "Offset length can't exceed 64 bytes"."""
INLINE_CACHE_MAX = 24 * 60 * 60
"""The Bot API server clamps ``cache_time`` to 0..86400 s, 300 when not given (Client.cpp
``process_answer_inline_query_query``: ``get_integer_arg(..., "cache_time", 300, 0, 24 * 60 *
60)``)."""
INLINE_RESULT_TYPES = frozenset(
    {"article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document", "location",
     "venue", "contact", "game", "sticker"}
)  # fmt: skip
"""The result types of https://core.telegram.org/bots/api#inlinequeryresult."""
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""InlineQueryResultsButton.start_parameter: "1-64 characters, only A-Z, a-z, 0-9, _ and - are
allowed" (https://core.telegram.org/bots/api#inlinequeryresultsbutton)."""
PHOTO_LIMIT = 10 * 1024 * 1024
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)
"""What getUpdates delivers until a client asks for other types with ``allowed_updates``."""

THREAD_NOT_FOUND = "Bad Request: message thread not found"
"""A message_thread_id that names no topic of the chat: one deleted (deleteForumTopic: "delete a
forum topic along with all its messages"), never created, or 1, the General topic, which takes
no thread id at all. The text as Telegram sends it: tdlib/telegram-bot-api#472 (a wrong thread
id: ``{"ok": false, "error_code": 400, "description": "Bad Request: message thread not
found"}``), #854 (a deleted topic, "in the groups you'll get this error: Bad Request: message
thread not found"), #798 and python-telegram-bot#4739 (``message_thread_id=1``)."""
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
"""A send into a topic closed with closeForumTopic: ``{"ok":false,"error_code":400,
"description":"Bad Request: TOPIC_CLOSED"}`` as a bot got it (rteixeirax/
qbittorrent_telegram_notification#12; the same RPC error in Rongronggg9/RSS-to-Telegram-Bot#275).
Whether an administrator bot may still post into a closed topic is not documented; this fake
refuses every bot, as those reports show."""
TOPIC_ICON_COLOR = 7322096
"""A topic's icon colour: 0x6FB9F0, blue, one of the six createForumTopic takes
(python-telegram-bot's ``constants.ForumIconColor``), as a real ``forum_topic_created`` carried
it (banteg/takopi#174)."""
WEBHOOK_PORTS = (443, 80, 88, 8443)
"""Bot API, setWebhook: "Ports currently supported for webhooks: 443, 80, 88, 8443"."""
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
"""Bot API, setWebhook: "If specified, the request will contain a header
'X-Telegram-Bot-Api-Secret-Token' with the secret token as content"."""
WEBHOOK_RETRY_S = 0.1
"""How soon the fake posts an update again after its webhook failed (Telegram: "we will
repeat the request and give up after a reasonable number of attempts"; the fake never
gives up, as Telegram keeps an update for 24 hours)."""

_LOG = logging.getLogger(__name__)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PATH = re.compile(r"/bot([^/]*)/([^/]*)")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "next_offset",
        "inline_message_id",
        "photo",
        "document",
        "action",
        "url",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "emoji",
        "message_effect_id",
        "business_connection_id",
        "secret_token",
        "ip_address",
    }
)
"""Parameters PTB sends as plain strings even when they look like numbers or JSON."""
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")
_MESSAGE_METHODS = ("send", "edit", "copy", "forward")
"""Calls that ``max_per_second`` counts: the ones that put messages into chats."""
_HELD_METHODS = ("sendMessage", "sendPhoto")
"""The calls whose answer ``hold_answers`` can hold back."""
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_ANONYMOUS_GROUP_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class ApiError(Exception):
    """An error reply of the Bot API; raised inside the fake's method handlers."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def api_error(code: int, description: str, parameters: dict | None = None) -> Fault:
    """A Telegram-shaped error reply to ``inject``, e.g. ``api_error(502, "Bad Gateway")``."""
    body = json.dumps(ApiError(code, description, parameters).body())
    return Fault(status=code, body=body, content_type="application/json")


def png_bytes(width: int = 8, height: int = 6, seed: int = 0) -> bytes:
    """A small valid RGB PNG; different seeds give different bytes."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + bytes((seed * 31 + x * 7 + y * 13) % 256 for x in range(width * 3))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# -- wire decoding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes


def _decode_value(key: str, raw: str) -> Any:
    """PTB sends non-string values JSON-encoded (``"123"``, ``"true"``, ``'{"inline_...'``)."""
    if key in _STRING_PARAMS:
        return raw
    if raw in ("true", "false", "null") or _NUMBER.fullmatch(raw) or raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name is None:
            continue
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if filename is not None:
            files[name.group(1)] = Upload(
                filename.group(1),
                headers.get("content-type", "application/octet-stream"),
                content,
            )
        else:
            fields[name.group(1)] = content.decode("utf-8")
    return fields, files


def parse_request(request: Request) -> tuple[dict[str, Any], dict[str, Upload], str]:
    """Decode a Bot API request into (params, uploaded files, encoding name)."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    ctype = request.headers.get("content-type", "")
    encoding = "query" if raw else "none"
    if request.body:
        if ctype.startswith("multipart/form-data"):
            fields, files = _parse_multipart(request.body, ctype)
            raw.update(fields)
            encoding = "multipart"
        elif ctype.startswith("application/json"):
            raw.update(json.loads(request.body))
            encoding = "json"
        else:
            raw.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
            encoding = "form"
    params = {k: _decode_value(k, v) if isinstance(v, str) else v for k, v in raw.items()}
    return params, files, encoding


# -- text with markup ----------------------------------------------------------------------------


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Plain:
    """Builds the plain text and entities (UTF-16 offsets) of a formatted message."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += _u16(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _markup_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_HTML_ATTR = re.compile(r"""([a-zA-Z_-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: a tdlib-like parser with its error messages."""
    out = _Plain()
    stack: list[tuple[str, int, dict[str, str]]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY.match(text, i)
            if match is not None:
                decoded = html.unescape(match.group(0))
                if match.group(1) in ("lt", "gt", "amp", "quot") or match.group(1)[0] == "#":
                    out.add(decoded)
                    i = match.end()
                    continue
            out.add("&")
            i += 1
            continue
        if char != "<":
            j = i
            while j < n and text[j] not in "&<":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        offset = len(text[:i].encode())
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end < 0:
                raise _markup_error(f"Unclosed end tag at byte offset {offset}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise _markup_error(f"Unexpected end tag at byte offset {offset}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise _markup_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            kind = _HTML_TAGS[tag]
            if tag == "a":
                if attrs.get("href"):
                    out.entity(kind, start, url=attrs["href"])
            elif tag == "pre" and attrs.get("language"):
                out.entity(kind, start, language=attrs["language"])
            elif tag == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] == start:
                language = attrs.get("class", "").removeprefix("language-")
                if language:
                    stack[-1][2]["language"] = language
            elif tag == "tg-emoji":
                out.entity(kind, start, custom_emoji_id=attrs["emoji-id"])
            elif tag == "blockquote" and "expandable" in attrs:
                out.entity("expandable_blockquote", start)
            else:
                out.entity(kind, start)
            i = end + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">":
            j += 1
        if j >= n:
            raise _markup_error(f"Unclosed start tag at byte offset {offset}")
        tag = text[i + 1 : j].lower()
        if tag not in _HTML_TAGS:
            raise _markup_error(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _markup_error(f"Unclosed start tag at byte offset {offset}")
            if text[j] == ">":
                break
            match = _HTML_ATTR.match(text, j)
            if match is None:
                raise _markup_error(f"Empty attribute name in the tag at byte offset {offset}")
            value = (match.group(2) or "").strip("\"'")
            attrs[match.group(1).lower()] = html.unescape(value)
            j = match.end()
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _markup_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if tag == "tg-emoji" and not attrs.get("emoji-id"):
            raise _markup_error(f'Tag "tg-emoji" must have attribute "emoji-id" at {offset}')
        stack.append((tag, out.pos, attrs))
        i = j + 1
    if stack:
        raise _markup_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A compact MarkdownV2 parser with Telegram's escaping rules and error messages."""
    out = _Plain()
    stack: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        char = text[i]
        offset = len(text[:i].encode())
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            line_start = False
            continue
        if char not in _MD2_RESERVED:
            out.add(char)
            line_start = char == "\n"
            i += 1
            continue
        if char == ">" and line_start:
            i += 1
            line_start = False
            continue
        line_start = False
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            j = i + len(fence)
            content: list[str] = []
            while j < n and not text.startswith(fence, j):
                if text[j] == "\\" and j + 1 < n and text[j + 1] in "`\\":
                    j += 1
                content.append(text[j])
                j += 1
            if j >= n:
                kind = "Pre" if fence == "```" else "Code"
                raise _markup_error(f"Can't find end of {kind} entity at byte offset {offset}")
            body = "".join(content)
            start = out.pos
            extra: dict[str, Any] = {}
            if fence == "```" and "\n" in body:
                first, _, rest = body.partition("\n")
                if first.strip() and " " not in first.strip():
                    extra["language"] = first.strip()
                    body = rest
            out.add(body)
            out.entity("pre" if fence == "```" else "code", start, **extra)
            i = j + len(fence)
            continue
        if char == "[":
            stack.append(("[", out.pos, offset))
            i += 1
            continue
        if char == "]":
            if not stack or stack[-1][0] != "[":
                raise _markup_error(
                    "Character ']' is reserved and must be escaped with the preceding '\\'"
                )
            _, start, _ = stack.pop()
            i += 1
            if i < n and text[i] == "(":
                j = i + 1
                url: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    url.append(text[j])
                    j += 1
                if j >= n:
                    raise _markup_error(f"Can't find end of a URL at byte offset {offset}")
                out.entity("text_link", start, url="".join(url))
                i = j + 1
            continue
        marker = text[i : i + 2] if text[i : i + 2] in ("__", "||") else char
        if marker not in _MD2_MARKERS:
            raise _markup_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        if stack and stack[-1][0] == marker:
            _, start, _ = stack.pop()
            out.entity(_MD2_MARKERS[marker], start)
        else:
            stack.append((marker, out.pos, offset))
        i += len(marker)
    if stack:
        marker, _, offset = stack[-1]
        kind = "TextUrl" if marker == "[" else _MD2_MARKERS[marker].capitalize()
        raise _markup_error(f"Can't find end of {kind} entity at byte offset {offset}")
    return out.result()


_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _Plain()
    kinds = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char == "[":
            match = _MD_LINK.match(text, i)
            if match is not None:
                start = out.pos
                out.add(match.group(1))
                out.entity("text_link", start, url=match.group(2))
                i = match.end()
                continue
        marker = "```" if text.startswith("```", i) else char
        if marker not in kinds:
            out.add(char)
            i += 1
            continue
        end = text.find(marker, i + len(marker))
        if end < 0:
            offset = len(text[:i].encode())
            raise _markup_error(f"Can't find end of the entity starting at byte offset {offset}")
        start = out.pos
        out.add(text[i + len(marker) : end])
        out.entity(kinds[marker], start)
        i = end + len(marker)
    return out.result()


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) of ``text`` as Telegram parses it; raises ``ApiError``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    if mode:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
    return text, []


def _command_entities(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group(0))}
        for m in _COMMAND.finditer(text)
    ]


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return 800, 600


def _is_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


# -- the server ----------------------------------------------------------------------------------


class _BotRoutes(dict):
    """Exact routes first; any other ``/bot...`` path goes to the Bot API dispatcher."""

    def __init__(self, routes: dict, dispatch: Callable[[Request], tuple[int, Any]]) -> None:
        super().__init__(routes)
        self._dispatch = dispatch

    def __missing__(self, key: str) -> Any:
        if isinstance(key, str) and key.startswith("/bot"):
            return self._dispatch
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (isinstance(key, str) and key.startswith("/bot"))

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class _Hold:
    seconds: float
    when: Callable[[dict[str, Any]], bool]
    times: int


@dataclass
class FakeTelegram(FakeServer):
    """The Bot API of one bot. See the module docstring; every control is thread-safe."""

    token: str = DEFAULT_TOKEN
    bot_id: int | None = None
    """Defaults to the number before the token's colon."""
    bot_username: str = "liqmap_test_bot"
    bot_first_name: str = "Liqmap Test Bot"
    chat_admins: dict[int, list[int]] = field(default_factory=dict)
    """chat id -> user ids: the first is the chat's "creator", the rest "administrator"."""
    max_per_second: int | None = None
    """Answer 429 (retry_after=1) to send*/edit* calls beyond this many in any 1 s window."""
    group_per_minute: int | None = 20
    """Answer 429 to a message into a group (or supergroup) beyond this many in a rolling
    minute of ``clock``, as Telegram does (``tests/fakes/group_limit.py``); None: no limit."""
    latency: float = 0.0
    """Seconds every call except getUpdates takes before it is answered."""
    check_markup: bool = True
    """Parse HTML/MarkdownV2/Markdown like Telegram and refuse malformed markup."""
    clock: Callable[[], float] = field(default=time.time)
    """Unix seconds used for message dates."""
    webhook_route: Callable[[str], str] | None = None
    """The reverse proxy in front of a bot in webhook mode: from the public URL set with
    setWebhook to the address the fake posts the updates to (a local ``http://`` one). None:
    the fake posts nowhere (it never reaches out of the machine) and reports the failure in
    getWebhookInfo's ``last_error_message``."""

    def __post_init__(self) -> None:
        if self.bot_id is None:
            prefix = self.token.split(":", 1)[0]
            self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.routes = _BotRoutes(self.routes, self._dispatch)
        self._cond = threading.Condition(threading.RLock())
        self._closing = False
        methods: dict[str, Callable[[dict, dict], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": lambda p, f: True,
            "setMyShortDescription": lambda p, f: True,
            "setChatMenuButton": lambda p, f: True,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }
        # Bot API method names are case-insensitive; calls are logged under the usual name.
        self._methods = {name.lower(): handler for name, handler in methods.items()}
        self._names = {name.lower(): name for name in [*methods, "getUpdates"]}
        # updates
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_001
        self._deliveries: dict[int, int] = defaultdict(int)
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        # webhook mode: what setWebhook set, the posts made, the last failure
        self._webhook: dict[str, Any] | None = None
        self._webhook_posts: list[dict[str, Any]] = []
        self._webhook_error: tuple[int, str] | None = None
        self._poster: threading.Thread | None = None
        # chats, users, messages
        self._chats: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._next_message_id: dict[int, int] = defaultdict(lambda: 1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._records: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[dict[str, Any]] = []
        self._members: dict[tuple[int, int], str] = {}
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._topics: dict[tuple[int, int], dict[str, Any]] = {}
        """(chat id, thread id) -> the topic's creation message and whether it is closed."""
        self._general_closed: set[int] = set()
        """Forums whose General topic is closed."""
        # files
        self._files: dict[str, bytes] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._next_file = 1
        # everything else the bot did
        self._calls: list[dict[str, Any]] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._queries: dict[str, dict[str, Any]] = {}
        self._answers: list[dict[str, Any]] = []
        self._actions: list[tuple[int, str, int | None]] = []
        self._limits: list[list[Any]] = []
        self._window: deque[float] = deque()
        self._group_limit = GroupLimit()
        self._throttled = 0
        self._next_query = 1
        self._inline_queries: dict[str, dict[str, Any]] = {}
        self._holds: list[_Hold] = []
        self._held = 0
        self._releases = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeTelegram:
        with self._cond:
            self._closing = False
        super().start(port)
        self._poster = threading.Thread(target=self._post_updates, name="fake-webhook",
                                        daemon=True)  # fmt: skip
        self._poster.start()
        return self

    def stop(self) -> None:
        """Stop serving; long polls in progress return an empty list at once."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._poster is not None:
            self._poster.join(timeout=15)
        super().stop()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    # -- identity --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to pass as PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    def path(self, method: str) -> str:
        """The request path of ``method``, for ``inject``/``count``/``seen``."""
        return f"/bot{self.token}/{method}"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # -- test controls: what users do ----------------------------------------------------------

    def user_sends(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        reply_to: int | None = None,
        anonymous: bool = False,
        thread_id: int | None = None,
    ) -> int:
        """Queue a message from a user; returns its update_id.

        ``chat_type`` defaults to "private" for positive ids, "supergroup" for -100... ids and
        "group" otherwise. In a private chat the user is the chat; in groups it defaults to
        ``DEFAULT_USER_ID``. Commands (``/x``, ``/x@bot``) get ``bot_command`` entities.
        ``anonymous``: an anonymous administrator of the group sends it, as Telegram delivers
        it (Bot API, Message.sender_chat: "Sender of the message when sent on behalf of a
        chat. For example, the supergroup itself for messages sent by its anonymous
        administrators ... the field from contains a fake sender user in non-channel chats"):
        ``from`` is GroupAnonymousBot (1087968824) whoever the admin is, ``sender_chat`` the
        group.
        Writing to a private chat that blocked the bot unblocks it first (with the
        ``my_chat_member`` update Telegram sends).
        ``thread_id``: sent in that forum topic (``create_topic``), as Telegram delivers it
        (Bot API 10.0 as python-telegram-bot 22.8 documents it, Message:
        ``message_thread_id`` "Unique identifier of a message thread or forum topic to which
        the message belongs; for supergroups and private chats only", ``is_topic_message``
        "True, if the message is sent to a topic in a forum supergroup or a private chat with
        the bot"), and, unless it replies to another message, as a reply to
        the topic's creation message (a topic is the message thread of that service message:
        a message in it carries ``reply_to_message`` with ``forum_topic_created``, as logged in
        banteg/takopi#174; "each message is a 'reply' to the topic-setting message",
        python-telegram-bot#3648). A message in the General topic carries neither field
        (tdlib/telegram-bot-api#356: the General topic does not set ``is_topic_message``).
        """
        with self._cond:
            chat = self._ensure_chat(chat_id, chat_type, title)
            topic = None if thread_id is None else self._topics.get((chat_id, thread_id))
            if thread_id is not None and topic is None:
                raise AssertionError(f"chat {chat_id} has no topic {thread_id}: create_topic")
            private = chat["type"] == "private"
            uid = user_id if user_id is not None else chat_id if private else DEFAULT_USER_ID
            user = self._ensure_user(uid, username, first_name)
            if private:
                chat.update({k: v for k, v in user.items() if k in ("first_name", "username")})
                if chat_id in self._blocked:
                    self._blocked.discard(chat_id)
                    self._queue_member_change(chat, user, "kicked", "member")
            message: dict[str, Any] = {
                "message_id": self._take_message_id(chat_id),
                "from": user,
                "chat": dict(chat),
                "date": self._now(),
                "text": text,
            }
            if anonymous:
                message["from"], message["sender_chat"] = dict(_ANONYMOUS_GROUP_BOT), dict(chat)
            entities = _command_entities(text)
            if entities:
                message["entities"] = entities
            if reply_to is not None:
                message["reply_to_message"] = self._stored_message(chat_id, reply_to)
            if topic is not None:
                message.update(message_thread_id=thread_id, is_topic_message=True)
                message.setdefault("reply_to_message", copy.deepcopy(topic["message"]))
            self._messages[(chat_id, message["message_id"])] = message
            return self._queue({"message": message})

    def create_topic(self, chat_id: int, name: str, user_id: int | None = None) -> int:
        """A member creates a forum topic: the chat becomes a forum supergroup (Chat.is_forum
        "True, if the supergroup chat is a forum (has topics enabled)") and the service message
        with ``forum_topic_created`` (ForumTopicCreated: name, icon_color) is queued in it.
        Returns the topic's thread id: the id of that service message (the topic is the
        message thread of its creation message, tdlib/telegram-bot-api#356)."""
        with self._cond:
            chat = self._ensure_chat(chat_id, "supergroup")
            chat["is_forum"] = True
            thread_id = self._take_message_id(chat_id)
            message: dict[str, Any] = {
                "message_id": thread_id,
                "from": self._ensure_user(user_id if user_id is not None else DEFAULT_USER_ID),
                "chat": dict(chat),
                "date": self._now(),
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": TOPIC_ICON_COLOR},
            }
            self._messages[(chat_id, thread_id)] = message
            self._topics[(chat_id, thread_id)] = {"message": message, "closed": False}
            self._queue({"message": message})
            return thread_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """closeForumTopic: sends into the topic fail with ``TOPIC_CLOSED`` until reopened."""
        with self._cond:
            self._topic(chat_id, thread_id)["closed"] = True

    def close_general(self, chat_id: int, closed: bool = True) -> None:
        """closeGeneralForumTopic (``closed=False``: reopenGeneralForumTopic): a send without a
        thread id into the forum then fails with ``TOPIC_CLOSED``, as a client found
        ("If request is sent to server without passing message_thread_id parameter we get the
        error 400 TOPIC_CLOSED", telegramdesktop/tdesktop#30476)."""
        with self._cond:
            if closed:
                self._general_closed.add(chat_id)
            else:
                self._general_closed.discard(chat_id)

    def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        """reopenForumTopic."""
        with self._cond:
            self._topic(chat_id, thread_id)["closed"] = False

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """deleteForumTopic: "delete a forum topic along with all its messages"; later sends
        into it fail with ``THREAD_NOT_FOUND``."""
        with self._cond:
            self._topic(chat_id, thread_id)
            del self._topics[(chat_id, thread_id)]
            for key, message in list(self._messages.items()):
                if key[0] == chat_id and message.get("message_thread_id") == thread_id:
                    del self._messages[key]
                    record = self._records.get(key)
                    if record is not None:
                        record["deleted"] = True

    def _topic(self, chat_id: int, thread_id: int) -> dict[str, Any]:
        topic = self._topics.get((chat_id, thread_id))
        if topic is None:
            raise AssertionError(f"chat {chat_id} has no topic {thread_id}")
        return topic

    def user_clicks(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        check_button: bool = True,
    ) -> int:
        """Queue a callback query for a button of a message the bot sent; returns update_id.

        With ``check_button`` the message's inline keyboard must hold a button with ``data``.
        """
        with self._cond:
            message = self._stored_message(chat_id, message_id)
            if check_button:
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                datas = [b.get("callback_data") for row in rows for b in row]
                if data not in datas:
                    raise AssertionError(
                        f"message {message_id} in chat {chat_id} has no button with callback "
                        f"data {data!r} (buttons: {datas})"
                    )
            chat = self._chats[chat_id]
            uid = (
                user_id
                if user_id is not None
                else (chat_id if chat["type"] == "private" else DEFAULT_USER_ID)
            )
            query_id = str(4_380_000_000_000_000_000 + self._next_query)
            self._next_query += 1
            self._queries[query_id] = {
                "chat_id": chat_id,
                "message_id": message_id,
                "data": data,
                "user_id": uid,
                "answered": False,
            }
            query = {
                "id": query_id,
                "from": self._ensure_user(uid),
                "message": message,
                "chat_instance": str(abs(chat_id * 7_919 + 1_000_003) % 10**19),
                "data": data,
            }
            return self._queue({"callback_query": query})

    def user_inline_query(
        self,
        user_id: int,
        query: str,
        chat_type: str | None = "sender",
        offset: str = "",
        expired: bool = False,
    ) -> str:
        """Queue an inline query (the user typed ``@bot query`` in a chat of ``chat_type``);
        returns its id, for ``inline_answer``. ``expired``: the query is too old by the time the
        bot answers, and answering it fails as Telegram's answer to a late answer does (how
        long Telegram waits for an answer is not documented; the fake never expires a query by
        itself).

        The update is shaped as the Bot API server writes it (Client.cpp ``JsonInlineQuery``:
        ``id``, ``from``, ``chat_type`` when known, ``query``, ``offset``); ``chat_type`` is
        "sender" for the private chat with the bot itself, else "private", "group",
        "supergroup" or "channel" (https://core.telegram.org/bots/api#inlinequery), None for
        a secret chat, where it is left out.
        """
        with self._cond:
            query_id = str(4_380_000_000_000_000_000 + self._next_query)
            self._next_query += 1
            self._inline_queries[query_id] = {
                "user_id": user_id,
                "query": query,
                "offset": offset,
                "answer": None,
                "stale": expired,
            }
            inline: dict[str, Any] = {
                "id": query_id,
                "from": self._ensure_user(user_id),
                "query": query,
                "offset": offset,
            }
            if chat_type is not None:
                inline["chat_type"] = chat_type
            self._queue({"inline_query": inline})
            return query_id

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        """What the bot answered to the inline query (None: nothing yet): ``results`` as sent,
        ``cache_time`` as Telegram applies it, ``is_personal``, ``next_offset``, ``button``."""
        with self._cond:
            return copy.deepcopy(self._inline_queries[query_id]["answer"])

    async def wait_for_inline_answer(
        self,
        query_id: str,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The answer to the inline query once it came; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (answer := self.inline_answer(query_id)) is None:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no answer to inline query {query_id} within {timeout}s; "
                    f"{self._calls_summary()}"
                )
            await asyncio.sleep(0.01)
        return answer

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: queue both service messages (``migrate_to_chat_id``
        in the old chat, then ``migrate_from_chat_id`` in the new one); later calls for the
        old id fail with 400 and ``parameters.migrate_to_chat_id``. Returns the first
        update_id."""
        with self._cond:
            old = self._ensure_chat(old_chat_id, "group")
            new = {"id": new_chat_id, "title": old.get("title", ""), "type": "supergroup"}
            self._chats[new_chat_id] = new
            self._migrated[old_chat_id] = new_chat_id
            for (chat, user), status in list(self._members.items()):
                if chat == old_chat_id:
                    self._members[(new_chat_id, user)] = status
            if old_chat_id in self.chat_admins:
                self.chat_admins.setdefault(new_chat_id, list(self.chat_admins[old_chat_id]))
            user = self._ensure_user(self._group_owner(old_chat_id))
            first = self._queue(
                {
                    "message": {
                        "message_id": self._take_message_id(old_chat_id),
                        "from": user,
                        "chat": dict(old),
                        "date": self._now(),
                        "migrate_to_chat_id": new_chat_id,
                    }
                }
            )
            self._queue(
                {
                    "message": {
                        "message_id": self._take_message_id(new_chat_id),
                        "from": dict(_ANONYMOUS_GROUP_BOT),
                        "sender_chat": dict(new),
                        "chat": dict(new),
                        "date": self._now(),
                        "migrate_from_chat_id": old_chat_id,
                    }
                }
            )
            return first

    def block(self, chat_id: int, notify: bool = True) -> int | None:
        """The user blocks the bot (private chat) or the bot is kicked (group): later sends
        fail with 403. With ``notify`` a ``my_chat_member`` update (new status "kicked") is
        queued and its update_id returned."""
        with self._cond:
            chat = self._ensure_chat(chat_id)
            self._blocked.add(chat_id)
            if not notify:
                return None
            uid = chat_id if chat["type"] == "private" else self._group_owner(chat_id)
            return self._queue_member_change(chat, self._ensure_user(uid), "member", "kicked")

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def add_bot_to_group(
        self,
        chat_id: int,
        user_id: int | None = None,
        title: str | None = None,
        chat_type: str | None = None,
        status: str = "member",
    ) -> int:
        """Queue the ``my_chat_member`` update (left -> ``status``) of the bot being added."""
        with self._cond:
            chat = self._ensure_chat(chat_id, chat_type, title)
            self._blocked.discard(chat_id)
            self._members[(chat_id, self.bot_id)] = status
            user = self._ensure_user(user_id if user_id is not None else DEFAULT_USER_ID)
            return self._queue_member_change(chat, user, "left", status)

    def rate_limit(self, times: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (None: any method except getUpdates)
        with 429 and ``parameters.retry_after``."""
        with self._cond:
            self._limits.append([times, retry_after, method])

    def hold_answers(
        self,
        seconds: float,
        when: Callable[[dict[str, Any]], bool] = lambda record: True,
        times: int = 1,
    ) -> None:
        """The next ``times`` messages sendMessage or sendPhoto puts into a chat for which
        ``when(record)`` is true (``record`` as ``sent`` gives it) are in the chat at once, but
        the HTTP answer waits ``seconds`` (or until ``release_answers`` or ``stop``).

        The network, not Telegram, at work: the request reached Telegram, which acted on it,
        and its answer is late or lost. The Bot API's send methods take no idempotency key
        (https://core.telegram.org/bots/api#sendmessage lists every parameter), so the bot
        cannot ask whether such a message arrived, and a retry is a second message."""
        with self._cond:
            self._holds.append(_Hold(seconds, when, times))

    def release_answers(self) -> None:
        """Answer every held call now."""
        with self._cond:
            self._releases += 1
            self._cond.notify_all()

    @property
    def held(self) -> int:
        """Answers being held back right now."""
        with self._cond:
            return self._held

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for the user (one of ``MEMBER_STATUSES``)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        with self._cond:
            self._members[(chat_id, user_id)] = status

    # -- reading what the bot did ----------------------------------------------------------------

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every Bot API call that reached the fake's API logic (not injected faults, not
        wrong-token calls), in the order the fake answered them. Keys: seq, method, params
        (decoded), files (part name -> bytes), http_method, encoding ("form", "multipart",
        "json", "query", "none"), status, ok, description, result, time, duration."""
        with self._cond:
            return [self._copy_call(c) for c in self._calls]

    def mark(self) -> int:
        """The number of calls so far: pass it as ``since`` to wait only for later calls."""
        with self._cond:
            return len(self._calls)

    def calls_since(self, since: int) -> list[dict[str, Any]]:
        """The calls with seq >= ``since`` (a ``mark``), oldest first: for reading the log
        bit by bit without copying all of it each time."""
        with self._cond:
            return [self._copy_call(c) for c in self._calls[since:]]

    def query_of(self, callback_query_id: str) -> dict[str, Any]:
        """The button press a callback query id stands for: chat_id, message_id, data,
        user_id and whether it was answered."""
        with self._cond:
            return dict(self._queries[str(callback_query_id)])

    def calls_of(self, method: str, ok: bool | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [
                self._copy_call(c)
                for c in self._calls
                if c["method"] == method and (ok is None or c["ok"] == ok)
            ]

    def call_count(self, method: str | None = None, ok: bool | None = None) -> int:
        with self._cond:
            return sum(
                1
                for c in self._calls
                if (method is None or c["method"] == method) and (ok is None or c["ok"] == ok)
            )

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """What the bot sent (to ``chat_id``, or everywhere), oldest first, as it is now."""
        with self._cond:
            return [
                self._copy_record(r)
                for r in self._sent
                if chat_id is None or r["chat_id"] == chat_id
            ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The current wire form of a message (the bot's or a user's)."""
        with self._cond:
            return self._stored_message(chat_id, message_id)

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        with self._cond:
            return copy.deepcopy(self._commands.get(self._scope_key(scope, language_code), []))

    def callback_answers(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._answers)

    def chat_actions(self, chat_id: int) -> list[str]:
        with self._cond:
            return [action for chat, action, _ in self._actions if chat == chat_id]

    def chat_action_threads(self, chat_id: int) -> list[int | None]:
        """The ``message_thread_id`` of each chat action sent to ``chat_id`` (None: General)."""
        with self._cond:
            return [thread for chat, _, thread in self._actions if chat == chat_id]

    def file_bytes(self, file_id: str) -> bytes:
        with self._cond:
            return self._files[file_id]

    def deliveries(self, update_id: int) -> int:
        """How many getUpdates answers carried the update."""
        with self._cond:
            return self._deliveries.get(update_id, 0)

    def webhook(self) -> dict[str, Any] | None:
        """What the last setWebhook set (url, secret_token, allowed_updates, ...), or None."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    def webhook_posts(self) -> list[dict[str, Any]]:
        """Each post of an update to the webhook: ``update_id``, ``url`` (where it went),
        ``secret`` (the header sent, or None) and ``status`` (the answer's, 0 if none)."""
        with self._cond:
            return copy.deepcopy(self._webhook_posts)

    @property
    def pending_updates(self) -> int:
        """Queued updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return len(self._updates)

    @property
    def throttled(self) -> int:
        """How many calls the fake answered with 429."""
        with self._cond:
            return self._throttled

    def is_blocked(self, chat_id: int) -> bool:
        with self._cond:
            return chat_id in self._blocked

    # -- waiting ---------------------------------------------------------------------------------

    async def wait_for(
        self,
        match: str | Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        ok: bool | None = None,
    ) -> dict[str, Any]:
        """The first call (seq >= ``since``) whose method is ``match`` or for which
        ``match(call)`` is true (and whose ``ok`` is ``ok``, if given). Polls without blocking
        the event loop; raises AssertionError listing the calls seen on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._find_call(match, since, ok)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(match, timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        match: str | Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
        *,
        since: int = 0,
        ok: bool | None = None,
    ) -> dict[str, Any]:
        """``wait_for`` for synchronous tests (blocks the calling thread)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._find_call(match, since, ok)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(match, timeout))
                self._cond.wait(min(remaining, 0.1))

    async def wait_for_sent(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``; return
        all of them (oldest first)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                have = sum(1 for r in self._sent if r["chat_id"] == chat_id)
            if have >= count:
                return self.sent(chat_id)
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"bot sent {have} message(s) to chat {chat_id} within {timeout}s, "
                    f"expected {count}; {self._calls_summary()}"
                )
            await asyncio.sleep(0.01)

    def _find_call(
        self, match: str | Callable[[dict[str, Any]], bool], since: int, ok: bool | None
    ) -> dict[str, Any] | None:
        with self._cond:
            for call in self._calls[since:]:
                if ok is not None and call["ok"] != ok:
                    continue
                if isinstance(match, str):
                    if call["method"] != match:
                        continue
                elif not match(call):  # the stored record itself: predicates must not mutate
                    continue
                return self._copy_call(call)
        return None

    def _timeout_report(self, match: object, timeout: float) -> str:
        name = match if isinstance(match, str) else getattr(match, "__name__", repr(match))
        return f"no bot call matching {name} within {timeout}s; {self._calls_summary()}"

    def _calls_summary(self) -> str:
        with self._cond:
            polls = sum(1 for c in self._calls if c["method"] == "getUpdates")
            lines = [
                f"#{c['seq']} {c['method']}"
                + (f" chat={c['params']['chat_id']}" if "chat_id" in c["params"] else "")
                + f" -> {c['status']}"
                + (f" {c['description']}" if c["description"] else "")
                for c in self._calls
                if c["method"] != "getUpdates"
            ]
        shown = lines[-60:]
        if len(lines) > len(shown):
            shown.insert(0, f"... {len(lines) - len(shown)} earlier calls")
        listing = "\n  ".join(shown) if shown else "(none)"
        return f"calls seen ({polls} getUpdates not listed):\n  {listing}"

    # -- serving ---------------------------------------------------------------------------------

    def _send(self, handler: Any, status: int, body: bytes, ctype: str) -> None:
        try:
            super()._send(handler, status, body, ctype)
        except OSError:
            handler.close_connection = True  # a long poll the client gave up on

    def _dispatch(self, request: Request) -> tuple[int, Any]:
        match = _PATH.fullmatch(request.path)
        if match is None:
            return 404, ApiError(404, "Not Found").body()
        token, name = match.groups()
        if token != self.token:
            _LOG.debug("fake telegram: %s with a wrong token -> 401", name)
            return 401, ApiError(401, "Unauthorized").body()
        method = self._names.get(name.lower(), name)
        started = time.monotonic()
        params: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        encoding = "none"
        result: Any = None
        try:
            params, files, encoding = parse_request(request)
            if method == "getUpdates":
                result = self._get_updates(params)
            else:
                handler = self._methods.get(method.lower())
                if handler is None:
                    raise ApiError(404, "Not Found")
                if self.latency:
                    time.sleep(self.latency)
                with self._cond:
                    self._admit(method)
                    group = self._group_of(method, params)
                    self._admit_to_group(group)
                    result = handler(params, files)
                    if group is not None:
                        self._group_limit.note(group, self.clock())
                    hold = self._hold_for(method)
                if hold is not None:
                    self._hold(*hold)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.body()
        except (ValueError, KeyError, TypeError) as exc:
            status, body = 400, ApiError(400, f"Bad Request: {exc}").body()
        self._record(request, method, params, files, encoding, status, body, started)
        return status, body

    def _record(
        self,
        request: Request,
        method: str,
        params: dict[str, Any],
        files: dict[str, Upload],
        encoding: str,
        status: int,
        body: dict[str, Any],
        started: float,
    ) -> None:
        with self._cond:
            call = {
                "seq": len(self._calls),
                "method": method,
                "params": copy.deepcopy(params),
                "files": {name: upload.content for name, upload in files.items()},
                "http_method": request.method,
                "encoding": encoding,
                "status": status,
                "ok": status == 200,
                "description": body.get("description"),
                "result": copy.deepcopy(body.get("result")),
                "time": time.time(),
                "duration": time.monotonic() - started,
            }
            self._calls.append(call)
            self._cond.notify_all()
        if method != "getUpdates":
            _LOG.debug(
                "fake telegram: %s chat=%s -> %s %s",
                method,
                params.get("chat_id"),
                status,
                body.get("description") or "",
            )

    def _admit(self, method: str) -> None:
        """Scheduled 429s first, then the per-second cap."""
        for limit in self._limits:
            _, retry_after, only = limit
            if only is None or only == method:
                limit[0] -= 1
                if limit[0] <= 0:
                    self._limits.remove(limit)
                self._throttled += 1
                raise self._too_many(retry_after)
        if self.max_per_second is not None and method.startswith(_MESSAGE_METHODS):
            now = time.monotonic()
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.max_per_second:
                self._throttled += 1
                raise self._too_many(1)
            self._window.append(now)

    def _hold_for(self, method: str) -> tuple[float, int] | None:
        """Until when (monotonic) to hold the answer to the message just sent, if a hold takes
        it, and the releases so far (a later one ends the hold)."""
        if method not in _HELD_METHODS:
            return None
        for hold in self._holds:
            if hold.when(self._copy_record(self._sent[-1])):
                hold.times -= 1
                if hold.times <= 0:
                    self._holds.remove(hold)
                self._held += 1  # counted with the message, so a test seeing one sees both
                return time.monotonic() + hold.seconds, self._releases
        return None

    def _hold(self, deadline: float, releases: int) -> None:
        with self._cond:
            self._cond.wait_for(
                lambda: self._closing or self._releases != releases
                or time.monotonic() >= deadline,
                timeout=max(0.0, deadline - time.monotonic()),
            )  # fmt: skip
            self._held -= 1

    def _group_of(self, method: str, params: dict[str, Any]) -> int | None:
        """The group a message goes to, for the per-group limit."""
        chat_id = params.get("chat_id")
        if self.group_per_minute is None or not is_message(method) or not isinstance(chat_id, int):
            return None
        chat = self._chats.get(chat_id)
        kind = chat["type"] if chat is not None else "group" if chat_id < 0 else "private"
        return chat_id if kind in ("group", "supergroup") else None

    def _admit_to_group(self, group: int | None) -> None:
        if group is None or self.group_per_minute is None:
            return
        retry_after = self._group_limit.retry_after(group, self.clock(), self.group_per_minute)
        if retry_after is not None:
            self._throttled += 1
            raise self._too_many(retry_after)

    @staticmethod
    def _too_many(retry_after: int) -> ApiError:
        return ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    # -- updates ---------------------------------------------------------------------------------

    def _queue(self, payload: dict[str, Any]) -> int:
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._updates.append({"update_id": update_id, **payload})
            self._cond.notify_all()
            return update_id

    def _queue_member_change(
        self, chat: dict[str, Any], user: dict[str, Any], old: str, new: str
    ) -> int:
        return self._queue(
            {
                "my_chat_member": {
                    "chat": dict(chat),
                    "from": user,
                    "date": self._now(),
                    "old_chat_member": self._member(self.bot_user, old),
                    "new_chat_member": self._member(self.bot_user, new),
                }
            }
        )

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, min(50.0, float(params.get("timeout") or 0)))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook is not None:
                # Bot API, getUpdates: "This method will not work if an outgoing webhook is
                # set up"; the 409 as Telegram words it (e.g. reo7sp/tgbot-cpp#158)
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while True:
                if self._closing:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                self._updates = [
                    u for u in self._updates if self._update_type(u) in self._allowed_updates
                ]
                batch = self._updates[:limit]
                if batch:
                    for update in batch:
                        self._deliveries[update["update_id"]] += 1
                    return copy.deepcopy(batch)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    @staticmethod
    def _update_type(update: dict[str, Any]) -> str:
        return next(k for k in update if k != "update_id")

    # -- Bot API methods (called with the lock held) ---------------------------------------------

    def _get_me(self, p: dict, f: dict) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, p: dict, f: dict) -> bool:
        """Bot API, setWebhook (core.telegram.org/bots/api#setwebhook): ``url`` is an "HTTPS
        URL to send updates to. Use an empty string to remove webhook integration"; ports
        443, 80, 88, 8443; ``secret_token`` "1-256 characters. Only characters A-Z, a-z, 0-9,
        _ and - are allowed"; ``max_connections`` 1-100, 40 by default; ``allowed_updates``
        "If not specified, the previous setting will be used"; ``drop_pending_updates``. The
        refusals as Telegram words them (e.g. v2board/v2board#781,
        TelegramBots/Telegram.Bot#1467)."""
        url = str(p.get("url", ""))
        if not url:
            self._delete_webhook(p, f)
            return True
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for "
                                "webhook")  # fmt: skip
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports "
                                "80, 88, 443 or 8443")  # fmt: skip
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(p.get("max_connections") or 40)
        if not 1 <= connections <= 100:
            raise ApiError(400, "Bad Request: bad webhook: max_connections must be 1-100")
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": connections,
            "allowed_updates": sorted(self._allowed_updates),
            "has_custom_certificate": "certificate" in f,
        }
        self._webhook_error = None
        self._cond.notify_all()
        return True

    def _delete_webhook(self, p: dict, f: dict) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        self._webhook_error = None
        return True

    def _get_webhook_info(self, p: dict, f: dict) -> dict[str, Any]:
        """Bot API, getWebhookInfo and WebhookInfo: ``url`` empty "if webhook is not set up",
        ``pending_update_count``, and when set ``max_connections``, ``allowed_updates`` and
        the last failure (``last_error_date``, ``last_error_message``)."""
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            info.update({k: v for k, v in self._webhook.items() if k != "secret_token"})
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _post_updates(self) -> None:
        """While a webhook is set, post the queued updates to it one at a time, in order, each
        until its answer is 2xx (as Telegram does with ``max_connections`` 1)."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or self._next_for_webhook() is not None)
                if self._closing:
                    return
                update, hook = self._next_for_webhook() or ({}, {})
                update = copy.deepcopy(update)
            target = self.webhook_route(hook["url"]) if self.webhook_route else None
            status, error = self._post(target, update, hook.get("secret_token"))
            with self._cond:
                self._webhook_posts.append({"update_id": update["update_id"], "url": target,
                                            "secret": hook.get("secret_token"),
                                            "status": status})  # fmt: skip
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates
                                     if u["update_id"] != update["update_id"]]  # fmt: skip
                    self._deliveries[update["update_id"]] += 1
                else:
                    self._webhook_error = (int(self.clock()), error)
                self._cond.notify_all()
                if not 200 <= status < 300:
                    self._cond.wait_for(lambda: self._closing, timeout=WEBHOOK_RETRY_S)

    def _next_for_webhook(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The first queued update of an allowed type, and the webhook, if one is set."""
        if self._webhook is None:
            return None
        self._updates = [u for u in self._updates if self._update_type(u) in self._allowed_updates]
        return (self._updates[0], self._webhook) if self._updates else None

    @staticmethod
    def _post(target: str | None, update: dict[str, Any], secret: str | None) -> tuple[int, str]:
        """POST ``update`` as JSON to ``target``: the answer's status and, if it failed, why."""
        if target is None:
            return 0, "Connection refused (no webhook_route in this fake)"
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(target, json.dumps(update).encode(), headers,
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, f"Wrong response from the webhook: {exc.code} {exc.reason}"
        except OSError as exc:
            return 0, f"Connection failed: {exc}"

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if not scope or scope == {"type": "default"}:
            return "default", str(language_code or "")
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, p: dict, f: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an array of at most 100 items")
        for command in commands:
            if not _BOT_COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(p.get("scope"), p.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, p: dict, f: dict) -> list[dict[str, str]]:
        key = self._scope_key(p.get("scope"), p.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, p: dict, f: dict) -> bool:
        self._commands.pop(self._scope_key(p.get("scope"), p.get("language_code")), None)
        return True

    def _send_message(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p, write=True)
        text = p.get("text")
        if text is None or str(text) == "":
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._formatted(str(text), p, "entities")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _u16(plain) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        return self._deliver(chat, p, "sendMessage", content, {"text": str(text), "plain": plain})

    def _send_photo(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p, write=True)
        sizes, data = self._resolve_photo(p.get("photo"), f.get("photo"), f)
        content: dict[str, Any] = {"photo": sizes}
        extra = {"photo": data, "file_id": sizes[-1]["file_id"]}
        extra.update(self._caption(p, content))
        return self._deliver(chat, p, "sendPhoto", content, extra)

    def _send_document(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p, write=True)
        document, data = self._resolve_document(p.get("document"), f.get("document"), f)
        content: dict[str, Any] = {"document": document}
        extra = {"document": data, "file_id": document["file_id"]}
        extra["file_name"] = document.get("file_name")
        extra.update(self._caption(p, content))
        return self._deliver(chat, p, "sendDocument", content, extra)

    def _send_chat_action(self, p: dict, f: dict) -> bool:
        chat = self._chat_for(p, write=True)
        if p.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        # sendChatAction takes message_thread_id too, and answers True even for a deleted
        # topic (tdlib/telegram-bot-api#732), so it is recorded, not checked
        self._actions.append((chat["id"], p["action"], p.get("message_thread_id")))
        return True

    def _answer_callback_query(self, p: dict, f: dict) -> bool:
        query_id = str(p.get("callback_query_id", ""))
        query = self._queries.get(query_id)
        if query is None or query["answered"]:
            raise ApiError(400, QUERY_TOO_OLD)
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query["answered"] = True
        self._answers.append(
            {
                "callback_query_id": query_id,
                "data": query["data"],
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "text": text,
                "show_alert": bool(p.get("show_alert", False)),
                "url": p.get("url"),
                "cache_time": p.get("cache_time"),
            }
        )
        return True

    def _answer_inline_query(self, p: dict, f: dict) -> bool:
        """The checks of https://core.telegram.org/bots/api#answerinlinequery, in the Bot API
        server's order (Client.cpp ``process_answer_inline_query_query``): the results are
        read first, then Telegram judges the query id. Telegram's own refusals come as its
        error codes after "Bad Request: " (the server passes upper-case codes through as they
        are), with the codes listed for messages.setInlineBotResults
        (https://core.telegram.org/method/messages.setInlineBotResults, "Possible errors")."""
        results = self._inline_results(p.get("results"))
        offset = p.get("next_offset")
        offset = "" if offset is None else str(offset)
        if len(offset.encode()) > NEXT_OFFSET_LIMIT:
            raise ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
        button = self._inline_button(p.get("button"))
        cache_time = p.get("cache_time")
        if cache_time is None or cache_time == "":
            cache_time = 300
        if not isinstance(cache_time, int) or isinstance(cache_time, bool):
            raise ApiError(400, "Bad Request: cache_time must be an integer")  # a guess
        query = self._inline_queries.get(str(p.get("inline_query_id", "")))
        if query is None or query["stale"] or query["answer"] is not None:
            raise ApiError(400, QUERY_TOO_OLD)
        query["answer"] = {
            "results": results,
            "cache_time": min(max(cache_time, 0), INLINE_CACHE_MAX),
            "is_personal": p.get("is_personal") is True,
            "next_offset": offset,
            "button": button,
        }
        return True

    def _inline_results(self, raw: Any) -> list[dict[str, Any]]:
        """The results of an answer, each checked as the Bot API checks it."""
        if raw is None or raw == "":
            return []
        if not isinstance(raw, list):
            raise ApiError(400, "Bad Request: expected an Array of inline query results")
        if len(raw) > INLINE_RESULTS_LIMIT:
            raise ApiError(400, "Bad Request: too many inline query results specified")
        seen: set[str] = set()
        checked = []
        for result in raw:
            if not isinstance(result, dict):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline query result: Inline query result must be "
                    "an object",
                )
            for name in ("type", "id"):
                if not isinstance(result.get(name), str):
                    # the detail after the colon is a guess: it comes from tdlib's JSON reader
                    raise ApiError(
                        400, f'Bad Request: can\'t parse inline query result: Field "{name}" '
                        "must be of type String",
                    )  # fmt: skip
            result_id = result["id"]
            if not 1 <= len(result_id.encode()) <= RESULT_ID_LIMIT:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if result_id in seen:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(result_id)
            checked.append(self._inline_result(copy.deepcopy(result)))
        return checked

    def _inline_result(self, result: dict[str, Any]) -> dict[str, Any]:
        kind = result["type"].lower()
        if kind not in INLINE_RESULT_TYPES:
            raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        if result.get("reply_markup") is not None:
            self._reply_markup({"reply_markup": result["reply_markup"]})
        if kind == "article":
            if not result.get("title"):
                raise ApiError(400, "Bad Request: ARTICLE_TITLE_EMPTY")
            content = result.get("input_message_content")
            text = content.get("message_text") if isinstance(content, dict) else None
            if not text:
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
            plain, _ = self._formatted(str(text), content, "entities")
            if _u16(plain) > TEXT_LIMIT:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            result["plain"] = plain
        if kind == "photo":
            url, file_id = result.get("photo_url"), result.get("photo_file_id")
            if not url and file_id not in self._photo_sets:
                # sendPhoto's answer to an unknown file id; for inline results, a guess
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            caption: dict[str, Any] = {}
            result["plain"] = self._caption(result, caption)["plain"]
        return result

    def _inline_button(self, raw: Any) -> dict[str, Any] | None:
        """The button above the results (https://core.telegram.org/bots/api#inlinequeryresultsbutton):
        a text and exactly one of ``start_parameter`` and ``web_app``."""
        if raw is None or raw == "":
            return None
        if not isinstance(raw, dict):
            raise ApiError(400, "Bad Request: can't parse inline query results button")  # guess
        if not raw.get("text"):
            raise ApiError(400, "Bad Request: SWITCH_PM_TEXT_EMPTY")
        parameter = raw.get("start_parameter")
        if (parameter is None) == (raw.get("web_app") is None):
            raise ApiError(400, "Bad Request: can't parse inline query results button")  # guess
        if parameter is not None and not _START_PARAMETER.fullmatch(str(parameter)):
            raise ApiError(400, "Bad Request: START_PARAM_INVALID")
        return copy.deepcopy(raw)

    def _edit_message_text(self, p: dict, f: dict) -> dict[str, Any]:
        record, wire = self._editable(p)
        if record["text"] is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = p.get("text")
        if text is None or str(text) == "":
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._formatted(str(text), p, "entities")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _u16(plain) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = self._reply_markup(p)
        if (
            plain == wire.get("text")
            and entities == wire.get("entities", [])
            and markup == wire.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        wire["text"] = plain
        self._set_optional(wire, "entities", entities)
        record.update(text=str(text), plain=plain, parse_mode=p.get("parse_mode"))
        return self._apply_edit(record, wire, p, "editMessageText", markup)

    def _edit_message_caption(self, p: dict, f: dict) -> dict[str, Any]:
        record, wire = self._editable(p)
        if record["method"] not in ("sendPhoto", "sendDocument"):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        markup = self._reply_markup(p)
        content: dict[str, Any] = {}
        extra = self._caption(p, content)
        if (
            content.get("caption") == wire.get("caption")
            and content.get("caption_entities") == wire.get("caption_entities")
            and markup == wire.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        for key in ("caption", "caption_entities"):
            self._set_optional(wire, key, content.get(key))
        record.update(extra)
        return self._apply_edit(record, wire, p, "editMessageCaption", markup)

    def _edit_message_media(self, p: dict, f: dict) -> dict[str, Any]:
        record, wire = self._editable(p)
        if record["method"] not in ("sendPhoto", "sendDocument"):
            raise ApiError(400, "Bad Request: there is no media in the message to edit")
        media = p.get("media")
        if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
            raise ApiError(400, "Bad Request: can't parse InputMedia: media type is invalid")
        markup = self._reply_markup(p)
        content: dict[str, Any] = {}
        extra = self._caption(media, content)
        source = media.get("media")
        upload = isinstance(source, str) and source.startswith("attach://")
        if media["type"] == "photo":
            sizes, data = self._resolve_photo(source, None, f)
            new_media = {"photo": sizes}
            extra.update(photo=data, file_id=sizes[-1]["file_id"], document=None)
        else:
            document, data = self._resolve_document(source, None, f)
            new_media = {"document": document}
            extra.update(document=data, file_id=document["file_id"], photo=None)
            extra["file_name"] = document.get("file_name")
        if (
            not upload
            and extra["file_id"] == record["file_id"]
            and content.get("caption") == wire.get("caption")
            and content.get("caption_entities") == wire.get("caption_entities")
            and markup == wire.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        for key in ("photo", "document", "caption", "caption_entities"):
            wire.pop(key, None)
        wire.update(new_media)
        wire.update(content)
        record.update(extra)
        record["method"] = "sendPhoto" if media["type"] == "photo" else "sendDocument"
        return self._apply_edit(record, wire, p, "editMessageMedia", markup)

    def _edit_message_reply_markup(self, p: dict, f: dict) -> dict[str, Any]:
        record, wire = self._editable(p)
        markup = self._reply_markup(p)
        if markup == wire.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(record, wire, p, "editMessageReplyMarkup", markup)

    def _delete_message(self, p: dict, f: dict) -> bool:
        chat = self._chat_for(p, write=True)
        key = (chat["id"], int(p.get("message_id") or 0))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        record = self._records.get(key)
        if record is not None:
            record["deleted"] = True
        return True

    def _get_chat(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p, write=False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, p: dict, f: dict) -> dict[str, Any]:
        chat = self._chat_for(p, write=False)
        user_id = int(p.get("user_id") or 0)
        if not user_id:
            raise ApiError(400, "Bad Request: user not found")
        return self._member(self._ensure_user(user_id), self._status(chat["id"], user_id))

    def _get_chat_administrators(self, p: dict, f: dict) -> list[dict[str, Any]]:
        chat = self._chat_for(p, write=False)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        users = list(self.chat_admins.get(chat["id"], []))
        users += [u for (c, u) in self._members if c == chat["id"] and u not in users]
        return [
            self._member(self._ensure_user(u), status)
            for u in users
            if (status := self._status(chat["id"], u)) in ("creator", "administrator")
        ]

    # -- helpers (lock held) ---------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def _take_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _ensure_user(
        self, user_id: int, username: str | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user
        user = self._users.setdefault(
            user_id,
            {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"},
        )
        if username:
            user["username"] = username
        if first_name:
            user["first_name"] = first_name
        return dict(user)

    def _ensure_chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_type is None:
                chat_type = (
                    "private"
                    if chat_id > 0
                    else "supergroup"
                    if chat_id <= -1_000_000_000_000
                    else "group"
                )
            if chat_type == "private":
                chat = {"id": chat_id, "first_name": f"User{chat_id}", "type": "private"}
            else:
                chat = {"id": chat_id, "title": title or f"Group {chat_id}", "type": chat_type}
            self._chats[chat_id] = chat
        elif chat_type is not None and chat["type"] != chat_type:
            chat["type"] = chat_type
            if chat_type != "private":
                chat.pop("first_name", None)
                chat.setdefault("title", title or f"Group {chat_id}")
        if title and chat["type"] != "private":
            chat["title"] = title
        return chat

    def _group_owner(self, chat_id: int) -> int:
        admins = self.chat_admins.get(chat_id)
        return admins[0] if admins else DEFAULT_USER_ID

    def _chat_for(self, p: dict, write: bool) -> dict[str, Any]:
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(raw, str):
            name = raw.removeprefix("@").lower()
            found = next(
                (c for c in self._chats.values() if str(c.get("username", "")).lower() == name),
                None,
            )
            if found is None:
                raise ApiError(400, "Bad Request: chat not found")
            chat_id = found["id"]
        else:
            chat_id = int(raw)
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        chat = self._ensure_chat(chat_id)
        if write and chat_id in self._blocked:
            if chat["type"] == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        return chat

    def _status(self, chat_id: int, user_id: int) -> str:
        if (chat_id, user_id) in self._members:
            return self._members[(chat_id, user_id)]
        if user_id == self.bot_id and chat_id in self._blocked:
            return "kicked"
        admins = self.chat_admins.get(chat_id, [])
        if user_id in admins:
            return "creator" if admins[0] == user_id else "administrator"
        return "member"

    @staticmethod
    def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": user, "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
            )
        elif status == "restricted":
            # every field of ChatMemberRestricted but the optional tag, as python-telegram-bot
            # 22.8 (Bot API 10.0) requires them: its ChatMemberRestricted.__init__
            # (telegram/_chatmember.py) raises TypeError without can_react_to_messages
            # ("versionadded:: 22.8"), so a reply without it fails as no real group does
            member.update(
                is_member=True,
                until_date=0,
                can_edit_tag=False,
                can_react_to_messages=True,
                **dict.fromkeys(
                    (
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_send_messages",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_manage_topics",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                    ),
                    False,
                ),
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _formatted(self, text: str, p: dict, entities_key: str) -> tuple[str, list[dict]]:
        explicit = p.get(entities_key)
        if explicit and not p.get("parse_mode"):
            return text, list(explicit)
        if not self.check_markup:
            return text, []
        return parse_formatted(text, p.get("parse_mode"))

    def _caption(self, p: dict, content: dict[str, Any]) -> dict[str, Any]:
        """Put the parsed caption of ``p`` into ``content``; return the record fields."""
        caption = p.get("caption")
        if caption is None or caption == "":
            return {"caption": None, "plain": None, "parse_mode": p.get("parse_mode")}
        plain, entities = self._formatted(str(caption), p, "caption_entities")
        if _u16(plain) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        return {"caption": str(caption), "plain": plain, "parse_mode": p.get("parse_mode")}

    def _reply_markup(self, p: dict) -> dict[str, Any] | None:
        """The inline keyboard of ``p`` as Telegram echoes it (other keyboards: None)."""
        markup = p.get("reply_markup")
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text must be non-empty",
                    )
                if not any(key in button for key in _BUTTON_ACTIONS):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are "
                        "unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _stored_message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        return copy.deepcopy(message)

    def _deliver(
        self,
        chat: dict[str, Any],
        p: dict,
        method: str,
        content: dict[str, Any],
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        markup = self._reply_markup(p)
        reply_to = self._reply_target(chat["id"], p)
        thread_id = self._target_thread(chat, p, reply_to)
        message: dict[str, Any] = {
            "message_id": self._take_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": dict(chat),
            "date": self._now(),
        }
        if thread_id is not None:
            topic = self._topics[(chat["id"], thread_id)]
            message.update(message_thread_id=thread_id, is_topic_message=True)
            message["reply_to_message"] = copy.deepcopy(topic["message"])
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        key = (chat["id"], message["message_id"])
        self._messages[key] = message
        record: dict[str, Any] = {
            "method": method,
            "chat_id": chat["id"],
            "message_id": message["message_id"],
            "text": None,
            "caption": None,
            "plain": None,
            "parse_mode": p.get("parse_mode"),
            "photo": None,
            "document": None,
            "file_id": None,
            "file_name": None,
            "reply_markup": copy.deepcopy(p.get("reply_markup")),
            "disable_notification": bool(p.get("disable_notification", False)),
            "reply_to_message_id": reply_to["message_id"] if reply_to else None,
            "date": message["date"],
            "params": copy.deepcopy(p),
            "edits": [],
            "deleted": False,
            "message_thread_id": thread_id,
        }
        record.update(extra)
        self._records[key] = record
        self._sent.append(record)
        return copy.deepcopy(message)

    def _reply_target(self, chat_id: int, p: dict) -> dict[str, Any] | None:
        reply = p.get("reply_parameters")
        if isinstance(reply, dict):
            target = int(reply.get("message_id") or 0)
            target_chat = reply.get("chat_id", chat_id)
            allow = bool(reply.get("allow_sending_without_reply"))
        elif p.get("reply_to_message_id"):
            target = int(p["reply_to_message_id"])
            target_chat = chat_id
            allow = bool(p.get("allow_sending_without_reply"))
        else:
            return None
        message = self._messages.get((int(target_chat), target))
        if message is None:
            if allow:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        message = copy.deepcopy(message)
        message.pop("reply_to_message", None)
        return message

    def _target_thread(
        self, chat: dict[str, Any], p: dict, reply_to: dict[str, Any] | None
    ) -> int | None:
        """The topic a message goes to: sendMessage's ``message_thread_id`` "Unique identifier
        for the target message thread (topic) of the forum; for forum supergroups only", else
        the topic of the message it replies to ("you never need to specify message_thread_id
        explicitly when replying to a message", tdlib/telegram-bot-api#447), else General.
        Raises Telegram's errors for a topic closed (``TOPIC_CLOSED``) or not there
        (``THREAD_NOT_FOUND``: deleted, never created, the General topic's 1, or any thread
        id in a chat that is no forum: the last is a guess, undocumented)."""
        raw = p.get("message_thread_id")
        if raw is None or raw == "":
            if reply_to is None or not reply_to.get("is_topic_message"):
                if chat["id"] in self._general_closed:
                    raise ApiError(400, TOPIC_CLOSED)
                return None
            raw = reply_to["message_thread_id"]
        thread_id = int(raw)
        topic = self._topics.get((chat["id"], thread_id))
        if topic is None:
            raise ApiError(400, THREAD_NOT_FOUND)
        if topic["closed"]:
            raise ApiError(400, TOPIC_CLOSED)
        return thread_id

    def _editable(self, p: dict) -> tuple[dict[str, Any], dict[str, Any]]:
        # editMessage* and answerCallbackQuery take no message_thread_id (their parameter
        # lists in the Bot API): an edited message stays in its topic; one in a deleted topic
        # is gone with it ("message to edit not found")
        if p.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat_for(p, write=True)
        key = (chat["id"], int(p.get("message_id") or 0))
        wire = self._messages.get(key)
        if wire is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        record = self._records.get(key)
        if record is None:
            raise ApiError(400, "Bad Request: message can't be edited")
        return record, wire

    def _apply_edit(
        self,
        record: dict[str, Any],
        wire: dict[str, Any],
        p: dict,
        method: str,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        self._set_optional(wire, "reply_markup", markup)
        wire["edit_date"] = self._now()
        record["reply_markup"] = copy.deepcopy(p.get("reply_markup"))
        record["edits"].append(
            {"method": method, "params": copy.deepcopy(p), "date": wire["edit_date"]}
        )
        return copy.deepcopy(wire)

    @staticmethod
    def _set_optional(target: dict[str, Any], key: str, value: Any) -> None:
        if value:
            target[key] = value
        else:
            target.pop(key, None)

    def _new_file_ids(self) -> tuple[str, str]:
        n = self._next_file
        self._next_file += 1
        return f"AgACAgFake{n:08d}x{self.bot_id}", f"AQADFake{n:08d}"

    def _upload_of(
        self, source: Any, direct: Upload | None, files: dict[str, Upload]
    ) -> Upload | None:
        if direct is not None:
            return direct
        if isinstance(source, str) and source.startswith("attach://"):
            upload = files.get(source.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return upload
        return None

    def _resolve_photo(
        self, source: Any, direct: Upload | None, files: dict[str, Upload]
    ) -> tuple[list[dict[str, Any]], bytes | None]:
        upload = self._upload_of(source, direct, files)
        if upload is not None:
            data = upload.content
            if not data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(data) > PHOTO_LIMIT:
                raise ApiError(400, "Bad Request: file is too big")
            if not _is_image(data):
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            return self._store_photo(data), data
        if isinstance(source, str) and source in self._photo_sets:
            sizes = self._photo_sets[source]
            return copy.deepcopy(sizes), self._files.get(sizes[-1]["file_id"])
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            return self._store_photo(None), None
        if source is None or source == "":
            raise ApiError(400, "Bad Request: there is no photo in the request")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store_photo(self, data: bytes | None) -> list[dict[str, Any]]:
        width, height = _image_size(data) if data else (800, 600)
        scale = min(1.0, 2560 / max(width, height))
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        sides = [s for s in (90, 320, 800, 1280) if s < max(width, height)]
        sizes = []
        for side in [*sides, max(width, height)]:
            factor = side / max(width, height)
            file_id, unique_id = self._new_file_ids()
            size = {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": max(1, round(width * factor)),
                "height": max(1, round(height * factor)),
                "file_size": max(1, round(len(data or b"") * factor * factor)),
            }
            sizes.append(size)
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
            if data is not None:
                self._files[size["file_id"]] = data
        return copy.deepcopy(sizes)

    def _resolve_document(
        self, source: Any, direct: Upload | None, files: dict[str, Upload]
    ) -> tuple[dict[str, Any], bytes | None]:
        upload = self._upload_of(source, direct, files)
        if upload is not None:
            if not upload.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            file_id, unique_id = self._new_file_ids()
            document = {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "file_name": upload.filename,
                "mime_type": upload.content_type,
                "file_size": len(upload.content),
            }
            self._documents[file_id] = document
            self._files[file_id] = upload.content
            return dict(document), upload.content
        if isinstance(source, str) and source in self._documents:
            return dict(self._documents[source]), self._files.get(source)
        if source is None or source == "":
            raise ApiError(400, "Bad Request: there is no document in the request")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    @staticmethod
    def _copy_call(call: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(call)

    @staticmethod
    def _copy_record(record: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(record)
