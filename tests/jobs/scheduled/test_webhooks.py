"""Alerts and receipts posted to a chat's webhooks: a local HTTPS receiver on 127.0.0.1 (the
tests allow private addresses for it, as ``LIQMAP_WEBHOOKS_PRIVATE=allow`` would) checks the
signature, the Discord form with its chart, retries, pauses and delivery across a restart;
with private addresses not allowed, nothing reaches it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.texts.webhooks import webhook_text
from jobs.scheduled.delivery import Delivery
from jobs.scheduled.webhooks import WebhookDeliveries, WebhookReport
from liqmap.engine.model import LiquidationMap
from liqmap.engine.snapshot import MapSnapshot
from liqmap.policies.webhook_targets import DISCORD, JSON, NOT_ALLOWED, PRIVATE
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import RECEIPT, Alert
from liqmap.signals.receipts import Receipt
from liqmap.webhooks.posting import WebhookPoster, system_lookup
from liqmap.webhooks.signing import new_secret
from storage.outbox import enqueue
from storage.stores import Stores
from storage.webhooks import PAUSE_AFTER, Webhook
from tests.fakes.clock import Clock
from tests.fakes.webhook_receiver import Scripted, WebhookReceiver
from tests.support.alert_world import ANN, BOB, World

pytestmark = pytest.mark.fixed_clock

CHAT = ANN
TTL_MS = 15 * 60_000
BTC = "okx:BTC-USDT-SWAP"


def approach(price: float = 100.0) -> Alert:
    return Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 99.0, 99.5, 1e7, 3.0, price,
                 None, 0.5, False, "7d")  # fmt: skip


def receipt() -> Alert:
    recorded = Receipt(6e6, 7e6, 0.2, 1.0, ("okx",), ("okx",))
    return Alert(RECEIPT, BTC, "BTC-USDT-SWAP", "okx", "long", 99.0, 99.5, 1e7, 3.0, 98.5, 99.6,
                 -1.0, False, "7d", receipt=recorded)  # fmt: skip


class Notices:
    """The chat's side of a pause: what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[int, int, str]] = []

    async def __call__(self, chat_id: int, number: int, why: str) -> None:
        self.told.append((chat_id, number, why))


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


def job(
    stores: Stores, receiver: WebhookReceiver, clock: Clock, notices: Notices,
    private: bool = True, lookup=system_lookup,
) -> WebhookDeliveries:  # fmt: skip
    poster = WebhookPoster(private, lookup, receiver.client_ssl, timeout_s=2.0)
    return WebhookDeliveries(stores, poster, webhook_text, notices, clock,
                             wall_seconds=lambda: clock() / 1000)  # fmt: skip


def hook(stores: Stores, clock: Clock, url: str, kind: str = JSON) -> Webhook:
    stores.chats.seen(CHAT, "private", None)
    secret = new_secret() if kind == JSON else None
    return stores.webhooks.add(CHAT, url, kind, secret, clock())


def queue(stores: Stores, clock: Clock, *alerts: Alert, snapshot_id: int | None = None) -> None:
    with stores.db.atomic():
        for alert in alerts:
            enqueue(stores.db, CHAT, BTC, alert, snapshot_id, clock(), TTL_MS)


def states(stores: Stores) -> list[str]:
    rows = stores.db.execute("SELECT state FROM webhook_deliveries ORDER BY id").fetchall()
    return [row[0] for row in rows]


async def test_a_json_webhook_is_signed_and_the_receiver_verifies_it(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    secret = hook(stores, clock, receiver.url()).secret
    assert secret is not None
    queue(stores, clock, approach())
    report = await job(stores, receiver, clock, Notices()).run()
    assert (report.handed, report.sent) == (1, 1)
    (got,) = receiver.received
    stamp, signed = got.headers["X-Liqmap-Timestamp"], got.headers["X-Liqmap-Signature"]
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + got.body, hashlib.sha256)
    assert hmac.compare_digest(signed, "sha256=" + mac.hexdigest())
    forged = hmac.new(b"another secret", stamp.encode() + b"." + got.body, hashlib.sha256)
    assert signed != "sha256=" + forged.hexdigest()
    assert int(stamp) == clock() // 1000
    assert got.headers["User-Agent"].startswith("liqmap-bot/")
    body = json.loads(got.body)
    assert body["kind"] == "approach" and body["instrument"] == BTC
    assert body["id"] == int(got.headers["X-Liqmap-Delivery"])
    assert "BTC-USDT-SWAP" in body["text"] and "<b>" not in body["text"]
    assert body["alert"]["low"] == 99.0
    assert states(stores) == ["sent"]


async def test_digests_stay_in_telegram_and_alerts_before_the_webhook_are_not_sent(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    stores.chats.seen(CHAT, "private", None)
    queue(stores, clock, approach())
    clock.advance(1000)
    hook(stores, clock, receiver.url())
    assert await stores.run(stores.webhooks.hand_over, clock()) == 0
    clock.advance(1000)
    queue(stores, clock, receipt())
    report = await job(stores, receiver, clock, Notices()).run()
    assert (report.handed, report.sent) == (1, 1)
    assert json.loads(receiver.received[0].body)["kind"] == RECEIPT


async def test_a_5xx_is_tried_again_and_delivered_once(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(503))
    deliveries = job(stores, receiver, clock, Notices())
    first = await deliveries.run()
    assert (first.sent, first.retried) == (0, 1)
    assert (await deliveries.run()).sent == 0, "not due before its pause"
    assert len(receiver.received) == 1
    clock.advance(1_000)
    assert (await deliveries.run()).sent == 1
    assert (await deliveries.run()).sent == 0
    assert len(receiver.received) == 2 and states(stores) == ["sent"]
    ids = {r.headers["X-Liqmap-Delivery"] for r in receiver.received}
    assert len(ids) == 1, "the same delivery id each time, for the receiver to dedupe"


async def test_a_4xx_is_not_tried_again(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(400, {"error": "bad"}))
    deliveries = job(stores, receiver, clock, Notices())
    assert (await deliveries.run()).failed == 1
    clock.advance(600_000)
    await deliveries.run()
    assert len(receiver.received) == 1 and states(stores) == ["failed"]


async def test_a_429_waits_what_the_receiver_asked(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url("/api/webhooks/1/t"), DISCORD)
    queue(stores, clock, approach())
    receiver.answer(Scripted(429, {"message": "slow", "retry_after": 7.5, "global": False}))
    deliveries = job(stores, receiver, clock, Notices())
    assert (await deliveries.run()).retried == 1
    clock.advance(7_000)
    await deliveries.run()
    assert len(receiver.received) == 1, "not before retry_after"
    clock.advance(600)
    assert (await deliveries.run()).sent == 1
    assert states(stores) == ["sent"]


async def test_repeated_failures_pause_the_webhook_and_the_chat_is_told_once(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, *(approach(100 + k) for k in range(PAUSE_AFTER)))
    receiver.answer(*(Scripted(422) for _ in range(PAUSE_AFTER)))
    notices = Notices()
    deliveries = job(stores, receiver, clock, notices)
    report = await deliveries.run()
    assert (report.failed, report.paused) == (PAUSE_AFTER, 1)
    ((chat, number, why),) = notices.told
    assert (chat, number) == (CHAT, 1) and "HTTP 422" in why
    (paused,) = stores.webhooks.of_chat(CHAT)
    assert paused.paused
    clock.advance(1_000)
    queue(stores, clock, approach(120))
    again = await deliveries.run()
    assert (again.handed, again.sent) == (0, 0), "a paused webhook gets nothing new"
    assert len(notices.told) == 1 and len(receiver.received) == PAUSE_AFTER


async def test_a_success_ends_the_run_of_failures(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, *(approach(100 + k) for k in range(PAUSE_AFTER)))
    receiver.answer(*(Scripted(400) for _ in range(PAUSE_AFTER - 2)), Scripted(200))
    await job(stores, receiver, clock, Notices()).run()
    (still,) = stores.webhooks.of_chat(CHAT)
    assert not still.paused


async def test_a_deleted_discord_webhook_is_paused_at_once(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url("/api/webhooks/1/t"), DISCORD)
    queue(stores, clock, approach(), approach(101))
    receiver.answer(Scripted(404, {"message": "Unknown Webhook", "code": 10015}))
    notices = Notices()
    report = await job(stores, receiver, clock, notices).run()
    assert report.paused == 1 and len(receiver.received) == 1
    assert sorted(states(stores)) == ["failed", "failed"]
    assert notices.told == [(CHAT, 1, "HTTP 404")]


async def test_a_pause_notice_that_fails_is_given_on_a_later_pass(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(410))
    told: list[int] = []

    async def flaky(chat_id: int, number: int, why: str) -> None:
        told.append(chat_id)
        if len(told) == 1:
            raise OSError("telegram unreachable")

    poster = WebhookPoster(True, system_lookup, receiver.client_ssl, timeout_s=2.0)
    deliveries = WebhookDeliveries(stores, poster, webhook_text, flaky, clock)
    await deliveries.run()
    await deliveries.run()
    assert told == [CHAT], "not tried again at once"
    clock.advance(60_000)
    await deliveries.run()
    await deliveries.run()
    assert told == [CHAT, CHAT], "told once, after the failed try"


async def test_discord_gets_the_form_with_the_chart_attached(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    edges = np.linspace(90.0, 110.0, 201)
    long_by_band = np.zeros((5, 200))
    long_by_band[1, 80:90] = 1e6
    liq_map = LiquidationMap(100.0, 0, edges, long_by_band, np.zeros((5, 200)))
    stored = stores.snapshots.save(BTC, MapSnapshot("BTC-USDT-SWAP", "okx", "7d", "5m",
                                                    liq_map, []), clock())  # fmt: skip
    hook(stores, clock, receiver.url("/api/webhooks/123/token"), DISCORD)
    queue(stores, clock, approach(), snapshot_id=stored.id)
    assert (await job(stores, receiver, clock, Notices()).run()).sent == 1
    (got,) = receiver.received
    assert got.path == "/api/webhooks/123/token" and got.query == {"wait": "true"}
    payload = json.loads(got.fields["payload_json"])
    assert "BTC-USDT-SWAP" in payload["content"] and len(payload["content"]) <= 2000
    assert payload["attachments"] == [{"id": 0, "filename": "chart.png"}]
    assert payload["allowed_mentions"] == {"parse": []}
    filename, content_type, png = got.files["files[0]"]
    assert (filename, content_type) == ("chart.png", "image/png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "flags" not in payload


async def test_an_alert_in_quiet_hours_reaches_discord_without_a_notification(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url("/api/webhooks/1/t"), DISCORD)
    queue(stores, clock, replace(approach(), silent=True))
    assert (await job(stores, receiver, clock, Notices()).run()).sent == 1
    payload = json.loads(receiver.received[0].fields["payload_json"])
    assert payload["flags"] == 1 << 12, "SUPPRESS_NOTIFICATIONS"
    assert "attachments" not in payload and receiver.received[0].files == {}, "no map, no chart"


async def test_a_restart_between_attempts_delivers_once(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(500))
    await job(stores, receiver, clock, Notices()).run()
    clock.advance(2_000)
    restarted = job(stores, receiver, clock, Notices())
    assert (await restarted.run()).sent == 1
    await restarted.run()
    assert [r.headers["X-Liqmap-Delivery"] for r in receiver.received] == ["1", "1"]
    assert states(stores) == ["sent"]


async def test_a_crash_while_sending_sends_again_with_the_same_id(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(200, delay_s=3))
    first = asyncio.create_task(job(stores, receiver, clock, Notices()).run())
    assert receiver.arrived is not None
    await asyncio.wait_for(receiver.arrived.wait(), 20)
    first.cancel()  # the process dies while waiting for the answer
    await asyncio.gather(first, return_exceptions=True)
    assert states(stores) == ["sending"]
    assert (await job(stores, receiver, clock, Notices()).run()).sent == 1
    ids = [r.headers["X-Liqmap-Delivery"] for r in receiver.received]
    assert ids == ["1", "1"], "sent again; a receiver keeping ids sees it once"
    assert states(stores) == ["sent"]


async def test_a_discord_receipt_cut_off_while_sending_is_not_sent_again(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url("/api/webhooks/1/t"), DISCORD)
    queue(stores, clock, receipt())
    await stores.run(stores.webhooks.hand_over, clock())
    (due,) = await stores.run(stores.webhooks.due, clock())
    await stores.run(stores.webhooks.begin, due.id, clock())
    await job(stores, receiver, clock, Notices()).run()
    assert receiver.received == [] and states(stores) == ["unconfirmed"]


async def test_a_name_resolving_to_loopback_is_refused_at_send_time(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    looked_up: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    hook(stores, clock, f"https://hooks.example.org:{receiver.port}/in")
    queue(stores, clock, approach())
    report = await job(stores, receiver, clock, Notices(), private=False, lookup=rebinding).run()
    assert report.failed == 1 and looked_up == ["hooks.example.org"]
    assert receiver.received == []
    error = stores.db.execute("SELECT error FROM webhook_deliveries").fetchone()[0]
    assert error == PRIVATE


async def test_a_host_the_operator_no_longer_allows_is_refused_at_send_time(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach(), approach(101))
    poster = WebhookPoster(True, system_lookup, receiver.client_ssl, allowed=("*.example.org",))
    deliveries = WebhookDeliveries(stores, poster, webhook_text, Notices(), clock)
    assert (await deliveries.run()).failed == 2
    assert receiver.received == []
    errors = stores.db.execute("SELECT DISTINCT error FROM webhook_deliveries").fetchall()
    assert errors == [(NOT_ALLOWED,)]
    allowed = WebhookPoster(True, system_lookup, receiver.client_ssl, allowed=("127.0.0.1",))
    queue(stores, clock, approach(102))
    assert (
        await WebhookDeliveries(stores, allowed, webhook_text, Notices(), clock).run()
    ).sent == 1


async def test_a_name_service_failing_at_send_time_is_tried_again(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    answers: list[list[str] | OSError] = [OSError("temporary failure"), ["127.0.0.1"]]

    async def flaky(host: str, port: int) -> list[str]:
        answer = answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer

    hook(stores, clock, f"https://localhost:{receiver.port}/in")
    queue(stores, clock, approach())
    deliveries = job(stores, receiver, clock, Notices(), lookup=flaky)
    assert (await deliveries.run()).retried == 1
    clock.advance(1_000)
    assert (await deliveries.run()).sent == 1
    assert len(receiver.received) == 1


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_without_the_allowance(
    stores: Stores, clock: Clock, receiver: WebhookReceiver, host: str
) -> None:
    hook(stores, clock, f"https://{host}:{receiver.port}/in")
    queue(stores, clock, approach())
    report = await job(stores, receiver, clock, Notices(), private=False).run()
    assert report.failed == 1 and receiver.received == []


class Telegram:
    """The Telegram side of delivery: what reached each chat."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(
        self, chat_id: int, alert: Alert | Digest, chart: bytes | str | None, *topic: object
    ) -> None:
        self.sent.append(chat_id)


async def test_telegram_does_not_wait_for_a_slow_webhook(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    hook(stores, clock, receiver.url())
    queue(stores, clock, approach())
    receiver.answer(Scripted(200, delay_s=1.5))
    slow = asyncio.create_task(job(stores, receiver, clock, Notices()).run())
    assert receiver.arrived is not None
    await asyncio.wait_for(receiver.arrived.wait(), 20)
    telegram = Telegram()
    report = await Delivery(stores, telegram, clock).run()
    assert report.sent == 1 and telegram.sent == [CHAT]
    assert not slow.done(), "the webhook's answer is still on its way"
    assert (await slow).sent == 1


def readme_verifier() -> Callable[[str, dict[str, str], bytes, set[str]], bool]:
    """The receiver's check as the README gives it."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme[readme.index("## Webhooks: alerts beyond Telegram") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n\n**Delivery.**")]
    space: dict[str, object] = {}
    exec(code, space)  # our own README's snippet
    return space["verified"]  # type: ignore[return-value]


async def test_the_readme_snippet_verifies_a_delivery_once(
    stores: Stores, clock: Clock, receiver: WebhookReceiver
) -> None:
    secret = hook(stores, clock, receiver.url()).secret
    assert secret is not None
    queue(stores, clock, approach())
    wall = time.time()
    poster = WebhookPoster(True, system_lookup, receiver.client_ssl, timeout_s=2.0)
    deliveries = WebhookDeliveries(
        stores, poster, webhook_text, Notices(), clock, wall_seconds=lambda: wall
    )
    await deliveries.run()
    (got,) = receiver.received
    verified, seen = readme_verifier(), set[str]()
    assert not verified("another secret", got.headers, got.body, seen)
    assert not verified(secret, got.headers, got.body + b" ", seen)
    assert verified(secret, got.headers, got.body, seen)
    assert not verified(secret, got.headers, got.body, seen), "a second copy is spotted"
    late = got.headers | {"X-Liqmap-Timestamp": str(int(wall) - 3600)}
    assert not verified(secret, late, got.body, set())


async def test_an_alert_goes_to_telegram_and_to_the_chats_discord_webhook_with_its_chart(
    world: World, receiver: WebhookReceiver
) -> None:
    world.subscribe(ANN)
    world.subscribe(BOB)
    stores = world.jobs.stores
    stores.webhooks.add(ANN, receiver.url("/api/webhooks/9/tok"), DISCORD, None, world.clock())
    poster = WebhookPoster(True, system_lookup, receiver.client_ssl, timeout_s=5.0)
    world.jobs.webhooks = WebhookDeliveries(stores, poster, webhook_text, Notices(), world.clock)
    assert await world.jobs.refresh() == 1
    world.price(world.target().high * 1.006)
    assert await world.jobs.watch() == 2
    assert (await world.jobs.deliver()).sent == 2
    report = await world.jobs.post_webhooks()
    assert report is not None and (report.handed, report.sent) == (1, 1), "BOB has none"
    (got,) = receiver.received
    (telegram,) = world.tg.sent(ANN)
    content = json.loads(got.fields["payload_json"])["content"]
    assert content == telegram["plain"], "the same words as the Telegram caption"
    assert got.files["files[0]"][2].startswith(b"\x89PNG")
    assert (await world.jobs.post_webhooks()) == WebhookReport()
