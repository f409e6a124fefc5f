"""Many chats talking to the bot at once, each command matched to the answer it got.

Every chat sends its commands at scheduled moments, one at a time: the next only once the
previous one was answered (a message or photo to the chat, or the answer to its button press),
so each answer belongs to exactly one command and an answer time is exact. Alerts (photos
without buttons) are told apart from answers. Used by ``tests/bot/test_load.py`` (small, fast
exchange) and ``benchmarks/load.py`` (full scale, ``liqmap run`` at OKX's request pace).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram import FakeTelegram

SYMBOLS = ("BTC", "BTC", "BTC", "ETH", "ETH", "SOL", "btc-usdt-swap", "BTC-USD-SWAP", "eth")
WINDOWS = ("", "", "", "", " 1d", " 7d", " 30d")
SETTINGS = ("", " distance 0.8", " cooldown 10", " quiet 23:00-07:00", " strength 3", " quiet off")
BAD_INPUT = (
    "/map BTCC",
    "/map DOGE 7d",
    "/clusters XRP",
    "/map BTC ETH",
    "/map 7d 1d",
    "/subscribe BTC lots",
    "/subscribe BTC 1e309",
    "/subscribe BTC NaN",
    "/subscribe",
    "/settings cooldown -5",
    "/settings colour red",
    "/settings distance",
    "/unsubscribe",
    "/map <script>alert(1)</script>",
    "/subscribe <b>BTC</b> 1",
    "/clusters &amp; <i>",
    "/map 🚀",
    "hello <b>there</b> & co",
    "/frobnicate now",
    "/map kraken:BTC",
    "/map " + "A" * 5000,
    "/clusters " + "<b>" * 1000,
    "x" * 4096,
)
"""Unknown symbols, malformed arguments, HTML, huge messages: each gets a short answer."""
KINDS = (
    ("map", 22),
    ("clusters", 8),
    ("subscribe", 8),
    ("unsubscribe", 5),
    ("list", 7),
    ("settings", 7),
    ("help", 3),
    ("press", 20),
    ("bad", 20),
)
REFUSALS = (
    "That is a lot of new maps at once",
    "The bot is busy making maps for everyone",
    "This chat already follows",
    "The bot already watches",
)
"""How the fair-use rule answers: the map budgets (the chat's or user's, the service's), then
the subscription limits."""
SOMETHING_WRONG = "Sorry, something went wrong"
UNAVAILABLE = "is unavailable right now"
NOT_MODIFIED = "message is not modified"
"""A window button pressed on the window shown: Telegram refuses the edit, the bot lets it be."""


@dataclass
class Command:
    """One thing a chat did: a message, or a press of a button on a map it received."""

    chat: int
    kind: str
    text: str
    """The message, or the callback data of the press."""
    message_id: int | None = None
    """The message whose button was pressed."""
    sent_at: float = 0.0
    answered_at: float | None = None
    method: str = ""
    answer: str = ""

    @property
    def took(self) -> float:
        assert self.answered_at is not None
        return self.answered_at - self.sent_at

    @property
    def outcome(self) -> str:
        """``answered``, ``refused`` (fair use), ``error`` (the bot failed) or ``dropped``."""
        if self.answered_at is None:
            return "dropped"
        if self.answer.startswith(REFUSALS):
            return "refused"
        if self.answer.startswith(SOMETHING_WRONG):
            return "error"
        return "answered"


@dataclass
class Alert:
    chat: int
    at: float
    text: str


@dataclass
class ChatLoad:
    """``commands`` commands from ``chats`` spread over ``seconds``, driven by ``step``."""

    tg: FakeTelegram
    chats: Iterable[int]
    commands: int
    seconds: float
    seed: int = 1
    sent: list[Command] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    stray: list[dict[str, Any]] = field(default_factory=list)
    """Answers to a chat with no command waiting: an answer too many."""
    failed: list[dict[str, Any]] = field(default_factory=list)
    """Calls the fake Telegram refused (bad HTML, bad ids ...)."""
    elsewhere: list[dict[str, Any]] = field(default_factory=list)
    """Messages to chats outside the load: the admins' error reports, other tests' chats."""
    edits: int = 0
    started: float | None = None

    def __post_init__(self) -> None:
        self.chats = list(self.chats)
        count = len(self.chats)
        self._due: dict[int, deque[float]] = {}
        self._rng: dict[int, random.Random] = {}
        schedule = random.Random(self.seed)
        for index, chat in enumerate(self.chats):
            many = self.commands // count + (index < self.commands % count)
            self._due[chat] = deque(sorted(schedule.uniform(0, self.seconds) for _ in range(many)))
            self._rng[chat] = random.Random(f"{self.seed}:{chat}")
        self._waiting: dict[int, Command] = {}
        self._maps: dict[int, list[int]] = {chat: [] for chat in self.chats}
        self._mark = self.tg.mark()

    # -- driving ------------------------------------------------------------------------

    def begin(self) -> None:
        self._mark = self.tg.mark()
        self.started = time.time()

    def step(self) -> None:
        """Read what the bot did since the last step; send every command now due."""
        if self.started is None:
            self.begin()
        self.collect()
        now = time.time()
        for chat, due in self._due.items():
            if due and chat not in self._waiting and self.started + due[0] <= now:
                due.popleft()
                self._send(chat)

    @property
    def finished(self) -> bool:
        return not self._waiting and not any(self._due.values())

    @property
    def waiting(self) -> list[Command]:
        return list(self._waiting.values())

    async def run(self, within: float, poll: float = 0.005) -> None:
        """Step until every command was sent and answered (AssertionError after ``within``)."""
        deadline = time.monotonic() + within
        while not self.finished:
            assert time.monotonic() < deadline, f"unanswered after {within} s: {self.waiting}"
            self.step()
            await asyncio.sleep(poll)
        self.collect()

    def collect(self) -> None:
        calls = self.tg.calls_since(self._mark)
        if calls:
            self._mark = calls[-1]["seq"] + 1
        for call in calls:
            self._match(call)

    # -- figures ------------------------------------------------------------------------

    def outcomes(self) -> Counter[str]:
        return Counter(command.outcome for command in self.sent)

    def answer_times(self) -> list[float]:
        return sorted(c.took for c in self.sent if c.answered_at is not None)

    def unexpected_failures(self) -> list[dict[str, Any]]:
        return [c for c in self.failed if NOT_MODIFIED not in (c["description"] or "")]

    # -- inside ------------------------------------------------------------------------

    def _send(self, chat: int) -> None:
        command = self._next(chat)
        command.sent_at = time.time()
        self._waiting[chat] = command
        self.sent.append(command)
        if command.kind == "press":
            assert command.message_id is not None
            self.tg.user_clicks(chat, command.message_id, command.text, check_button=False)
        else:
            self.tg.user_sends(chat, command.text)

    def _next(self, chat: int) -> Command:
        rng = self._rng[chat]
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        if kind == "press" and not self._maps[chat]:
            kind = "map"
        symbol = rng.choice(SYMBOLS)
        if kind == "press":
            maps = self._maps[chat]
            message_id = maps[-1] if rng.random() < 0.7 else rng.choice(maps)
            markup = self.tg.message(chat, message_id).get("reply_markup") or {}
            rows = markup.get("inline_keyboard", [])
            buttons = [b["callback_data"] for row in rows for b in row if "callback_data" in b]
            windows = [data for data in buttons if data.startswith("w|")]
            others = [data for data in buttons if not data.startswith("w|")]
            data = rng.choice(windows if windows and rng.random() < 0.6 else others or windows)
            return Command(chat, kind, data, message_id)
        text = {
            "map": f"/map {symbol}{rng.choice(WINDOWS)}",
            "clusters": f"/clusters {symbol}{rng.choice(WINDOWS)}",
            "subscribe": f"/subscribe {symbol}" + rng.choice(("", "", " 0.8", " 1.5%")),
            "unsubscribe": f"/unsubscribe {rng.choice((symbol, symbol, 'all'))}",
            "list": "/list",
            "settings": f"/settings{rng.choice(SETTINGS)}",
            "help": rng.choice(("/help", "/start")),
            "bad": rng.choice(BAD_INPUT),
        }[kind]
        return Command(chat, kind, text)

    def _match(self, call: dict[str, Any]) -> None:
        method = call["method"]
        if method not in ("sendMessage", "sendPhoto", "answerCallbackQuery", "editMessageMedia"):
            return
        if not call["ok"]:
            self.failed.append(call)
            return
        params, result = call["params"], call["result"]
        if method == "editMessageMedia":
            self.edits += 1
            return
        if method == "answerCallbackQuery":
            query = self.tg.query_of(params["callback_query_id"])
            command = self._waiting.get(query["chat_id"])
            if command is None or command.kind != "press" or command.text != query["data"]:
                self.stray.append(call)
                return
            self._answered(command, call, params.get("text") or "")
            return
        chat = params.get("chat_id")
        if chat not in self._maps:
            self.elsewhere.append(call)
            return
        if method == "sendPhoto" and _is_alert(result):
            self.alerts.append(Alert(chat, call["time"], result.get("caption") or ""))
            return
        command = self._waiting.get(chat)
        if command is None or command.kind == "press":
            self.stray.append(call)
            return
        self._answered(command, call, result.get("text") or result.get("caption") or "")
        if method == "sendPhoto":
            self._maps[chat].append(result["message_id"])

    def _answered(self, command: Command, call: dict[str, Any], answer: str) -> None:
        command.answered_at = call["time"]
        command.method = call["method"]
        command.answer = answer
        del self._waiting[command.chat]


def _is_alert(message: dict[str, Any]) -> bool:
    """Alerts carry a Mute button; maps carry window buttons."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(b.get("callback_data", "").startswith("sub|a|") for row in rows for b in row)


def percentile(values: list[float], share: float) -> float:
    """The value ``share`` of the way up the sorted ``values`` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


class LoopLag:
    """How late a coroutine that sleeps ``every`` seconds wakes up: the event loop's stalls."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.lateness: list[float] = []
        self.stalls: list[tuple[float, float]] = []
        """(wall-clock time it ended, seconds late) of every tick over 50 ms late."""

    @property
    def worst(self) -> float:
        return max(self.lateness, default=0.0)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.every)
            late = max(0.0, loop.time() - before - self.every)
            self.lateness.append(late)
            if late > 0.05:
                self.stalls.append((time.time(), late))
