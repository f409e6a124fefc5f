"""``/webhook add|list|remove``: off until the operator names hosts, for chat administrators,
each bad URL refused in one line, the JSON secret shown once, tokens never listed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlite_utils import Database
from telegram.ext import ExtBot

from bot.deps import BotDeps
from bot.texts.webhooks import webhook_text
from bot.webhook_notice import TelegramPauseNotice
from jobs.scheduled.webhooks import WebhookDeliveries
from liqmap.config import Settings
from liqmap.signals.proximity import Alert
from liqmap.webhooks.posting import WebhookPoster
from storage.outbox import enqueue
from storage.webhooks import MAX_WEBHOOKS
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webhook_receiver import Scripted, WebhookReceiver
from tests.support.bot_harness import (
    ADMIN,
    ANN,
    BOB,
    GROUP,
    GROUP_OWNER,
    MEMBER,
    running,
    say,
    words,
)

TOKEN = "Zq3-kR9vXbT2nLw8yHc5dJ0fA7sE4gU1iO6pM"
DISCORD_URL = f"https://discord.com/api/webhooks/123456/{TOKEN}"
ANSWERS = {
    "discord.com": ["162.159.135.232"],
    "hooks.example.org": ["93.184.215.14"],
    "rebound.example.org": ["93.184.215.14", "127.0.0.1"],
}
"""A stub name service: no test reaches the internet."""
ALERT = Alert("approach", "okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "long", 99.0, 99.5, 1e7,
              3.0, 100.0, None, 0.5, False, "7d")  # fmt: skip


async def stub_lookup(host: str, port: int) -> list[str]:
    if host in ANSWERS:
        return ANSWERS[host]
    if host.startswith("h") and host.endswith(".example.org"):
        return ["93.184.215.14"]
    raise OSError(f"no such host {host}")


@pytest.fixture
async def hooks(settings: Settings, db: Database) -> AsyncIterator[BotDeps]:
    allowed = replace(settings, webhooks_allowed=("discord.com", "*.example.org", "127.0.0.1"))
    async with running(allowed, db) as core:
        core.webhook_poster = WebhookPoster(lookup=stub_lookup)
        yield core


async def test_webhooks_are_off_unless_the_operator_names_hosts(
    tg: FakeTelegram, core: BotDeps
) -> None:
    for command in ("/webhook", "/webhook list", f"/webhook add {DISCORD_URL}"):
        (answer,) = await say(tg, ANN, command)
        assert words(answer) == (
            "Webhook refused: the operator has not enabled webhooks (LIQMAP_WEBHOOKS_ALLOWED)."
        )
    assert core.stores.webhooks.of_chat(ANN) == []


async def test_a_json_webhook_shows_its_secret_once(tg: FakeTelegram, hooks: BotDeps) -> None:
    (added,) = await say(tg, ANN, "/webhook add https://hooks.example.org/in?key=abc json")
    (stored,) = hooks.stores.webhooks.of_chat(ANN)
    assert stored.kind == "json" and stored.url == "https://hooks.example.org/in?key=abc"
    assert stored.secret is not None and re.fullmatch(r"[0-9a-f]{64}", stored.secret)
    text = words(added)
    assert stored.secret in text and "shown this once" in text
    assert text.startswith("Webhook 1 added (json): https://hooks.example.org/in?…")
    (listing,) = await say(tg, ANN, "/webhook list")
    assert stored.secret not in words(listing) and "key=abc" not in words(listing)
    assert "1. json https://hooks.example.org/in?…" in words(listing)


async def test_a_discord_webhook_is_known_by_its_url_and_its_token_never_shown(
    tg: FakeTelegram, hooks: BotDeps
) -> None:
    (added,) = await say(tg, ANN, f"/webhook add {DISCORD_URL}")
    (stored,) = hooks.stores.webhooks.of_chat(ANN)
    assert (stored.kind, stored.secret, stored.url) == ("discord", None, DISCORD_URL)
    assert TOKEN not in words(added) and "secret" not in words(added).lower()
    (listing,) = await say(tg, ANN, "/webhook")
    assert TOKEN not in words(listing)
    assert "1. discord https://discord.com/api/webhooks/123456/…" in words(listing)


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/webhook add http://hooks.example.org/in", "only https:// webhook URLs are accepted"),
        ("/webhook add https://other.net/in", "that host is not among the webhook hosts"),
        ("/webhook add https://127.0.0.1/in", "that address is private, loopback"),
        ("/webhook add https://[::ffff:127.0.0.1]/in", "that address is private, loopback"),
        ("/webhook add https://rebound.example.org/in", "that address is private, loopback"),
        ("/webhook add https://gone.example.org/in", "that host name does not resolve"),
        ("/webhook add not-a-url", "that is not a webhook URL"),
        ("/webhook add https://user:pw@hooks.example.org/", "that is not a webhook URL"),
    ],
)
async def test_bad_urls_get_one_line_saying_why(
    tg: FakeTelegram, hooks: BotDeps, command: str, answer: str
) -> None:
    (refused,) = await say(tg, ANN, command)
    assert words(refused).startswith(f"Webhook refused: {answer}")
    assert "\n" not in words(refused)
    assert hooks.stores.webhooks.of_chat(ANN) == []


async def test_other_refusals_and_removal(tg: FakeTelegram, hooks: BotDeps) -> None:
    (kind,) = await say(tg, ANN, "/webhook add https://hooks.example.org/in xml")
    assert words(kind) == "unknown webhook kind: use discord or json."
    (usage,) = await say(tg, ANN, "/webhook delete 1")
    assert words(usage).startswith("Usage: /webhook add URL [discord|json] | list | remove N")
    for n in range(MAX_WEBHOOKS):
        await say(tg, ANN, f"/webhook add https://h{n}.example.org/in")
    (too_many,) = await say(tg, ANN, "/webhook add https://h9.example.org/in")
    assert words(too_many).startswith(f"This chat has {MAX_WEBHOOKS} webhooks already")
    (missing,) = await say(tg, ANN, "/webhook remove 7")
    assert words(missing) == "no such webhook: /webhook list shows their numbers."
    (gone,) = await say(tg, ANN, "/webhook remove 2")
    assert words(gone) == "Webhook 2 removed: https://h1.example.org/in"
    assert [h.url for h in hooks.stores.webhooks.of_chat(ANN)] == [
        "https://h0.example.org/in", "https://h2.example.org/in",
    ]  # fmt: skip
    assert hooks.stores.webhooks.of_chat(BOB) == [], "each chat its own"


async def test_only_group_administrators_change_a_groups_webhooks(
    tg: FakeTelegram, hooks: BotDeps
) -> None:
    for command in ("/webhook add https://hooks.example.org/in", "/webhook remove 1"):
        (refused,) = await say(tg, GROUP, command, user_id=MEMBER)
        assert words(refused) == "Only group administrators can change this chat's webhooks."
    assert hooks.stores.webhooks.of_chat(GROUP) == []
    (added,) = await say(
        tg, GROUP, "/webhook add https://hooks.example.org/in", user_id=GROUP_OWNER
    )
    assert words(added).startswith("Webhook 1 added (json)")
    (listing,) = await say(tg, GROUP, "/webhook list", user_id=MEMBER)
    assert "1. json https://hooks.example.org/in" in words(listing)


async def test_a_webhook_added_by_command_is_posted_to_and_its_pause_told_in_the_chat(
    tg: FakeTelegram, settings: Settings, db: Database
) -> None:
    allowed = replace(settings, webhooks_allowed=("127.0.0.1",), webhooks_private=True)
    async with WebhookReceiver() as receiver, running(allowed, db) as core:
        poster = WebhookPoster(True, ssl_context=receiver.client_ssl, timeout_s=5.0)
        core.webhook_poster = poster
        (added,) = await say(tg, ANN, f"/webhook add {receiver.url('/in')}")
        assert words(added).startswith("Webhook 1 added (json)")
        with db.atomic():
            enqueue(db, ANN, "okx:BTC-USDT-SWAP", ALERT, None, core.clock(), 900_000)
        receiver.answer(Scripted(410))
        async with ExtBot(tg.token, base_url=tg.base_url) as bot:
            deliveries = WebhookDeliveries(
                core.stores, poster, webhook_text, TelegramPauseNotice(bot), core.clock
            )
            assert (await deliveries.run()).paused == 1
            sent = await tg.wait_for_sent(ANN, 2, timeout=20)
        notice = sent[1]
        assert words(notice).startswith("⏸ Webhook 1 paused after repeated failures: HTTP 410.")
        (listing,) = await say(tg, ANN, "/webhook list")
        assert "— ⏸ paused: HTTP 410" in words(listing)
        assert len(receiver.received) == 1


HOSTILE = [
    "/webhook add", "/webhook add https://hooks.example.org/in json extra", "/webhook ADD",
    "/webhook remove", "/webhook remove -1", "/webhook remove 1e3", "/webhook remove ٣",
    "/webhook remove 99999999999999999999", "/webhook list all", "/webhook <b>zq</b>",
    "/webhook add <script>zq()</script>", "/webhook add https://<b>zq</b>.example.org/",
    "/webhook add https://hooks.example.org/<b>zq</b> discord",
    "/webhook add https://hooks.example.org/in <i>json</i>",
    "/webhook add https://ex\u200bample.org/", "/webhook add https://[::1", "/webhook add https://:443/",
    "/webhook add https://hooks.example.org:0/", "/webhook add javascript:alert(1)",
    "/webhook add https://xn--zz.example.org/", "/webhook add https://" + "a" * 3000,
    "/webhook add https://hooks.example.org/\x00", "/webhook add file:///etc/passwd",
    "/webhook add https://169.254.169.254/latest/meta-data", "/webhook add https://0x7f.1/",
    "/webhook add https://2130706433/", "/webhook add ＨＴＴＰＳ://hooks.example.org/",
]  # fmt: skip


async def test_hostile_arguments_get_one_short_answer_each_and_change_nothing(
    tg: FakeTelegram, hooks: BotDeps
) -> None:
    for command in HOSTILE:
        (answer,) = await say(tg, BOB, command)
        text = words(answer)
        assert text and len(text) < 400 and "zq" not in text.replace("zq()", ""), command
    assert hooks.stores.webhooks.of_chat(BOB) == []
    assert tg.sent(ADMIN) == [], "no error report"
