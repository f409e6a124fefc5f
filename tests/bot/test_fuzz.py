"""Thousands of hostile messages and forged button presses against the real bot.

Seeded (``random.Random(SEED)``): the same strings every run, and a failure names the string.
Every message is answered exactly once, or deliberately ignored (a group message not
addressed to the bot, a command for another bot); every press gets exactly one answer, "this
button no longer works" unless the pressed message really carries that button; everything the
bot wrote parses as Telegram HTML and carries only the tags it writes itself, never one a user
typed; no error reaches the admins; and the bot still answers afterwards.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlite_utils import Database
from telegram.ext import AIORateLimiter

import bot.app
from liqmap.config import Settings
from liqmap.policies.group_budget import GroupBudget
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import (
    ADMIN,
    ADMIN_GROUP,
    BOT,
    GROUP_OWNER,
    idle,
    say,
    serving,
    wait_until,
    words,
)
from tests.support.size import sized

pytestmark = pytest.mark.slow

SEED = 20261125
MESSAGES = sized(600, 2400)
PRESSES = sized(240, 900)
"""At CI size the first quarter of the messages full size draws, and 8 presses per presser
instead of 30: every kind of message and press still comes, in groups and private chats."""
PRIVATE = range(50_001, 50_061)
GROUPS = range(-60_001, -60_013, -1)
PRESSERS = range(70_001, 70_031)
STALE = "This button no longer works; send /map again."
KNOWN = {"start", "help", "map", "clusters", "subscribe", "unsubscribe", "list", "settings",
         "status"}  # fmt: skip
COMMANDS = ["/map", "/clusters", "/subscribe", "/unsubscribe", "/list", "/settings", "/start",
            "/help", "/status", "/frobnicate", "/MAP", "/Map", "/map_", "/m", "/" + "a" * 70,
            "/", "//map", "/ map"]  # fmt: skip
ADDRESSES = ["", "", "", "", f"@{BOT}", f"@{BOT.upper()}", "@other_bot", "@x", "@",
             f"@{BOT}x", f"@{BOT}-x"]  # fmt: skip
ATOMS = [
    # symbols, windows, settings
    "BTC", "btc", "ETH", "SOL", "BTC-USDT-SWAP", "BTC/USDT:USDT", "BTC-USD-SWAP", "okx:BTC",
    "okx:", ":", "::", "kraken:BTC", "binance:ETH", "BTCC", "BTC-USDT-250523", "1d", "7d",
    "30d", "7D", "1w", "all", "ALL", "distance", "strength", "cooldown", "quiet", "colour",
    # numbers
    "1e309", "-1e309", "-0", "0", "0.0", "NaN", "nan", "inf", "-inf", "Infinity", "%", "0.8%",
    "1%%", "%0.8", "1e-400", "0x10", "1_000", "٣", "²", "½", "1,5", "9" * 40, "-", ".", "",
    "00:00-00:00", "23:00-07:00", "25:61-99:99", "23:00-", "-07:00", "off", "23:00–07:00",
    # markup a user might try: tags carry the marker zq, typed entities the marker qx
    "<b>zq</b>", "</b>zq", "<zq>", "<script>zq()</script>", '<a href="http://zq.example">zq</a>',
    "<i>zq", "<code>zq", "<pre>zq</pre>", "<b><i>zq</b></i>", "<tg-spoiler>zq", "&lt;qx&gt;",
    "&amp;qx", "&#60;qx", "&", "&&", "&;", "&#;", "<", ">", "<<zq>>", "*zq*", "_zq_",
    "[zq](http://x)", "`zq`", "||zq||", "\\", "```zq",
    # unicode: emoji, RTL and invisible marks, combining, control characters
    "🚀", "👨‍👩‍👧‍👦", "🏳️‍🌈", "\u200f", "\u202e", "\u2066BTC\u2069", "\u200b", "\ufeff", "e\u0301",
    "\x00", "\x07", "\x1b[31m", "\r", "\t", "\x7f", "\u0085", "\u2028", "\u3000", "\ufffd",
    "ÿþ", "Ã©", "'; DROP TABLE chats; --", "%s%n{0}{}", "None", "null", "[]", "{}",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\u3000", "\u00a0"]
ALLOWED_TAGS = {"<b>", "</b>", "<i>", "</i>", "<code>", "</code>", "<pre>", "</pre>"}
"""The tags ``bot.texts`` writes; any other one came from a user."""
_ENTITY = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")
"""A bot command as Telegram marks it (``bot_command`` entity), here at the message's start."""
_TAG = re.compile(r"<[^<>]*>")


# -- what to send ----------------------------------------------------------------------------


def unicode_soup(rng: random.Random, length: int) -> str:
    """Any characters but surrogates: ASCII, Latin, RTL scripts, CJK, emoji, private use."""
    ranges = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x24F), (0x590, 0x6FF), (0x4E00, 0x9FFF),
              (0x1F300, 0x1FAFF), (0xE000, 0xF8FF), (0x10000, 0x10FFFF),
              (0x2000, 0x206F)]  # fmt: skip
    chars = []
    for _ in range(length):
        low, high = rng.choice(ranges)
        code = rng.randint(low, high)
        chars.append(chr(code if not 0xD800 <= code <= 0xDFFF else 0xFFFD))
    return "".join(chars)


def hostile_message(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:  # a command with odd arguments
        args = [rng.choice(ATOMS) if rng.random() < 0.8 else unicode_soup(rng, rng.randint(1, 8))
                for _ in range(rng.randint(0, 4))]  # fmt: skip
        head = rng.choice(COMMANDS) + rng.choice(ADDRESSES)
        text = head + "".join(rng.choice(SEPARATORS) + arg for arg in args)
    elif roll < 0.7:  # very long: 5,000 characters and more
        unit = rng.choice([*ATOMS[:60], "A", "<b>zq"])
        text = rng.choice(COMMANDS) + " " + unit * rng.randint(1000, 2500)
        text = text[: rng.randint(5000, 12000)]
    elif roll < 0.85:  # anything
        text = unicode_soup(rng, rng.randint(1, 60))
    else:  # markup and numbers as plain text
        text = " ".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 6)))
    if rng.random() < 0.05:
        text = rng.choice([" ", "\n", "x"]) + text  # not a command any more
    return text if text.strip("\x00") else "x"


def forged_data(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:  # the shape of ours, with anything in it
        action = rng.choice(["w", "r", "s", "x", "", "W", "w "])
        window = rng.choice(["1d", "7d", "30d", "", "7D", "1w", "7d "])
        key = rng.choice(["okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP", "okx:X", "okx:SOL-USDT-SWAP",
                          "binance:BTCUSDT", "okx:", "",
                          unicode_soup(rng, rng.randint(1, 20))])  # fmt: skip
        return f"{action}|{window}|{key}"
    if roll < 0.6:
        return rng.choice(["w|7d|okx:" + "A" * 55, "w|7d|okx:" + "A" * 56, "s|1d|" + "é" * 40,
                           "w|7d|okx:BTC-USDT-SWAP|x", "|||", "w|7d", "", " ", "\x00",
                           "w|7d|okx:BTC-USDT-SWAP\n"])  # fmt: skip
    if roll < 0.8:
        return unicode_soup(rng, rng.randint(1, 80))
    return rng.choice(["ÿþ\x00\x01", "Ã©Ã", "\ufffd" * 30, "%s{}", "<b>zq</b>", "&lt;qx"])


def expected(text: str, private: bool) -> bool:
    """Whether the bot answers ``text``: every message in a private chat, in groups commands
    (ours, or unknown ones addressed to it by name), never a command for another bot."""
    entity = _ENTITY.match(text)
    if entity is None:
        return private
    name, _, address = entity.group(0)[1:].partition("@")
    if name.lower() in KNOWN and address.lower() in ("", BOT.lower()):
        return True
    _, at, typed = text.split()[0].partition("@")
    if at and typed.lower() != BOT.lower():
        return False
    return private or bool(at)


# -- what the bot did --------------------------------------------------------------------------


class Tally:
    """Messages and photos per chat and answers to presses, read from the fake as they come;
    whoever waits on them is woken when something new came, not on a timer."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.mark = tg.mark()
        self.replies: Counter[int] = Counter()
        self.answers: dict[int, list[str]] = defaultdict(list)
        self.maps: dict[int, list[int]] = defaultdict(list)
        self._news = asyncio.Condition()

    def update(self) -> bool:
        """Read the calls since the last update; whether there were any."""
        calls = self.tg.calls_since(self.mark)
        if calls:
            self.mark = calls[-1]["seq"] + 1
        for call in calls:
            if not call["ok"]:
                continue
            method, params, result = call["method"], call["params"], call["result"]
            if method in ("sendMessage", "sendPhoto"):
                self.replies[params["chat_id"]] += 1
                if "reply_markup" in result:
                    self.maps[params["chat_id"]].append(result["message_id"])
            elif method == "answerCallbackQuery":
                query = self.tg.query_of(params["callback_query_id"])
                self.answers[query["chat_id"]].append(params.get("text") or "")
        return bool(calls)

    async def run(self) -> None:
        while True:
            if self.update():
                async with self._news:
                    self._news.notify_all()
            await asyncio.sleep(0.005)

    async def until(self, condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
        """Wait until ``condition()`` holds, checked whenever the bot made new calls."""
        try:
            async with asyncio.timeout(within), self._news:
                await self._news.wait_for(condition)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


async def converse(tally: Tally, tg: FakeTelegram, chat: int, texts: list[str], **who: Any) -> int:
    """Send ``texts`` one by one, waiting for each answer the bot owes; how many it owes."""
    owed = tally.replies[chat]
    private = chat > 0
    for text in texts:
        tg.user_sends(chat, text, **who)
        if expected(text, private):
            owed += 1
            await tally.until(lambda o=owed: tally.replies[chat] >= o, f"an answer to {text!r}")
    return owed


async def press_all(tally: Tally, tg: FakeTelegram, chat: int, rng: random.Random) -> list[str]:
    """A map, then forged and real presses on it and on other messages; the stale ones."""
    wrong: list[str] = []
    await converse(tally, tg, chat, ["/help", "/map BTC 1d"])
    (photo,) = tally.maps[chat]
    others = list(range(1, photo))  # the user's messages and the bot's text answer
    for _ in range(PRESSES // len(PRESSERS)):
        target = photo if rng.random() < 0.7 else rng.choice(others)
        markup = tg.message(chat, target).get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        buttons = [b["callback_data"] for row in rows for b in row if "callback_data" in b]
        data = rng.choice(buttons) if buttons and rng.random() < 0.15 else forged_data(rng)
        answered = len(tally.answers[chat])
        tg.user_clicks(chat, target, data, check_button=False)
        await tally.until(lambda a=answered: len(tally.answers[chat]) > a, f"press {data!r}")
        answer = tally.answers[chat][answered]
        if data not in buttons and answer != STALE:
            wrong.append(f"{data!r} on message {target}: {answer!r}")
        if data in buttons and answer.startswith("Sorry"):
            wrong.append(f"real button {data!r}: {answer!r}")
    return wrong


# -- the test ----------------------------------------------------------------------------------


def unlimited(groups: GroupBudget, clock: Callable[[], int], max_retries: int) -> AIORateLimiter:
    """Telegram's flood limits are not what is fuzzed here (tests/bot/test_load.py keeps them,
    tests/bot/test_group_chatter.py those of a group): without them the answers come as fast
    as the bot makes them."""
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)


async def test_hostile_messages_and_forged_presses_get_safe_answers_or_are_ignored(
    tg: FakeTelegram, settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.app, "FairRateLimiter", unlimited)
    rng = random.Random(SEED)
    private: dict[int, list[str]] = {chat: [] for chat in PRIVATE}
    groups: dict[int, list[str]] = {chat: [] for chat in GROUPS}
    for _ in range(MESSAGES):
        text = hostile_message(rng)
        pool = groups if rng.random() < 0.2 else private
        pool[rng.choice(list(pool))].append(text)
    owed_to_groups = sum(expected(t, False) for texts in groups.values() for t in texts)
    presses = {chat: random.Random(f"{SEED}:{chat}") for chat in PRESSERS}

    tg.group_per_minute = None
    roomy = replace(settings, maps_per_minute_total=10_000)  # the pressers' maps come at once
    async with serving(roomy, db) as service:
        service.core.group_budget = GroupBudget(per_minute=MESSAGES, answer_share=MESSAGES,
                                                repeat_ms=0)  # fmt: skip
        tally = Tally(tg)
        reading = asyncio.create_task(tally.run())
        try:
            owed = await asyncio.gather(
                *(converse(tally, tg, chat, texts) for chat, texts in private.items()),
                *(converse(tally, tg, chat, texts, user_id=GROUP_OWNER + i)
                  for i, (chat, texts) in enumerate(groups.items())),
            )  # fmt: skip
            wrong = await asyncio.gather(
                *(press_all(tally, tg, chat, rng) for chat, rng in presses.items())
            )
            # quiet: every update fetched and handled, so nothing more is on its way
            await wait_until(
                lambda: idle(tg, service.application), within=60, what="the bot to finish"
            )
            tally.update()
        finally:
            reading.cancel()
        for chat, count in zip([*private, *groups], owed, strict=True):
            assert tally.replies[chat] == count, f"chat {chat}: {tally.replies[chat]} of {count}"
        assert [w for chat_wrong in wrong for w in chat_wrong] == []
        (help_,) = await say(tg, 1, "/help")
        assert "Commands" in words(help_), "the bot still answers"

    refused = {m: tg.calls_of(m, ok=False) for m in ("sendMessage", "sendPhoto",
               "answerCallbackQuery", "editMessageMedia")}  # fmt: skip
    refused["editMessageMedia"] = [
        c for c in refused["editMessageMedia"] if "not modified" not in c["description"]
    ]
    assert all(calls == [] for calls in refused.values()), refused
    assert tg.sent(ADMIN) == [] and tg.sent(ADMIN_GROUP) == [], "no error reached the admins"
    echoed = []
    for call in tg.calls:
        params = call["params"]
        media = params.get("media") if isinstance(params.get("media"), dict) else {}
        for raw in (params.get("text"), params.get("caption"), media.get("caption")):
            if not isinstance(raw, str):
                continue
            tags = set(_TAG.findall(raw)) - ALLOWED_TAGS
            if tags or re.search(r"<[^<>]*zq|<[^<>]*>zq|&lt;qx", raw):
                echoed.append((call["method"], raw[:200]))
    assert echoed == [], "user markup came back as markup"
    total = MESSAGES + len(PRESSERS) * (PRESSES // len(PRESSERS) + 1)
    print(
        f"\nfuzz: {MESSAGES} messages ({sum(owed) - owed_to_groups} answers owed in private "
        f"chats, {owed_to_groups} in groups, the rest ignored as not addressed to the bot) and "
        f"{PRESSES} presses; {total} updates, {len(tg.calls)} bot calls checked"
    )
