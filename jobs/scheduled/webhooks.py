"""Deliver alerts and receipts to chats' webhooks, in a lane of its own beside Telegram's.

Each pass hands the outbox rows queued since the last pass to the chats' webhooks (a
delivery row per webhook, in one transaction: ``WebhookStore.hand_over``), then posts the due
deliveries, each marked ``sending`` before and ``sent`` after a 2xx, as the Telegram outbox
does. A 5xx, a timeout or a connection error is tried again with ``DELIVERY_RETRY``'s growing
pauses until the alert's time runs out; a 429 waits at least what the receiver asked; any
other 4xx, or an address the rules refuse, fails the delivery at once. A webhook whose
deliveries failed ``PAUSE_AFTER`` times in a row, or that answered 404 or 410 (a deleted
Discord webhook), is paused and its chat told once.

Exactly once, as far as the receiver lets us know: a delivery whose answer was lost may have
arrived. A JSON delivery is then sent again with the same ``X-Liqmap-Delivery`` id, so a
receiver that keeps the ids it saw gets each once; a Discord message carries no id, so there
alerts are sent again (a duplicate only then) and receipts are not (``unconfirmed``), as in
Telegram. The job runs on its own schedule with its own slots and its own chart thread, and
each post ends within ``POST_TIMEOUT_S``: a slow webhook never holds a Telegram message.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Protocol

from jobs.scheduled.delivery import ALERT_CHART_WIDTH, DELIVERY_RETRY, NOT_SENT_AGAIN
from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.policies.webhook_targets import DISCORD, masked
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import Alert
from liqmap.webhooks.posting import Answer, WebhookPoster
from liqmap.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from storage.stores import Stores
from storage.webhooks import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

GONE = (404, 410)
"""Answers meaning the webhook no longer exists (Discord: the webhook was deleted)."""
WEBHOOK_CHARTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liqmap-webhook-chart")
"""Charts for webhooks are drawn here, never in the Telegram alerts' chart thread."""
KEPT_CHARTS = 16
NOTICE_RETRY_MS = 60_000
"""A pause notice Telegram did not take is tried again this much later."""


class PauseNotice(Protocol):
    async def __call__(self, chat_id: int, number: int, why: str) -> None:
        """Tell the chat its ``number``-th webhook was paused and why; raise if not told."""


@dataclass
class WebhookReport:
    handed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    paused: int = 0


class WebhookDeliveries:
    """One pass: hand new outbox rows to the webhooks, post what is due, tell of pauses."""

    def __init__(
        self,
        stores: Stores,
        poster: WebhookPoster,
        text_of: Callable[[Alert | Digest], str],
        notice: PauseNotice,
        clock: Callable[[], int],
        concurrency: int = 10,
        wall_seconds: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.store = stores.webhooks
        self.poster = poster
        self.text_of = text_of
        self.notice = notice
        self.clock = clock
        self.wall_seconds = wall_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._resumed = False
        self._charts: OrderedDict[int, bytes | None] = OrderedDict()
        self._notice_after: dict[int, int] = {}
        """Webhooks whose pause notice failed, with when to try it again."""

    async def run(self) -> WebhookReport:
        report = WebhookReport()
        run = self.stores.run
        if not self._resumed:
            await self._resume()
        report.handed = await run(self.store.hand_over, self.clock())
        by_hook: dict[int, list[WebhookDelivery]] = {}
        now = self.clock()
        for row in await run(self.store.due, now):
            if row.expires_at is not None and row.expires_at < now:
                paused = await run(self.store.expire, row, now)
                log.info("webhook delivery %s expired unsent", row.id)
                report.failed += 1
                report.paused += paused is not None
                continue
            by_hook.setdefault(row.webhook.id, []).append(row)
        await asyncio.gather(*(self._in_turn(rows, report) for rows in by_hook.values()))
        await self._tell()
        return report

    async def _resume(self) -> None:
        """Deliveries a crash left ``sending``: sent again, but a Discord receipt, which is
        marked ``unconfirmed`` (it may have arrived, and carries no id to dedupe by)."""
        for row in await self.stores.run(self.store.in_flight):
            if row.webhook.kind == DISCORD and row.alert.kind in NOT_SENT_AGAIN:
                await self.stores.run(self.store.unconfirm, row.id, "cut off while sending")
                log.warning("webhook delivery %s was being sent at a stop; not sent again", row.id)
            else:
                await self.stores.run(self.store.requeue, row.id)
                log.warning("webhook delivery %s was being sent at a stop; sending again", row.id)
        self._resumed = True

    async def _in_turn(self, rows: list[WebhookDelivery], report: WebhookReport) -> None:
        """One webhook's deliveries in order, one at a time; the rest wait for the next pass
        once one is to be tried again or the webhook was paused."""
        async with self._slots:
            for row in rows:
                if not await self._deliver(row, report):
                    return

    async def _deliver(self, row: WebhookDelivery, report: WebhookReport) -> bool:
        """Post one delivery and record what became of it; whether to go on with the next."""
        await self.stores.run(self.store.begin, row.id, self.clock())
        try:
            answer = await self._post(row)
        except Exception as exc:  # a bug of ours: logged, not retried
            log.exception("webhook delivery %s failed unexpectedly", row.id)
            answer = Answer(None, f"unexpected: {type(exc).__name__}", refused=True)
        return await self._settle(row, answer, report)

    async def _settle(self, row: WebhookDelivery, answer: Answer, report: WebhookReport) -> bool:
        run, now, where = self.stores.run, self.clock(), masked(row.webhook.url)
        if answer.ok:
            await run(self.store.sent, row, now)
            report.sent += 1
            return True
        status = answer.status
        retry = not answer.refused and (status is None or status >= 500 or status == 429)
        if (
            retry
            and answer.maybe_delivered
            and row.webhook.kind == DISCORD
            and (row.alert.kind in NOT_SENT_AGAIN)
        ):
            await run(self.store.unconfirm, row.id, answer.detail)
            log.warning("webhook delivery %s to %s may not have arrived (%s); not sent again",
                        row.id, where, answer.detail)  # fmt: skip
            return True
        if retry:
            delay = max(answer.retry_after or 0.0, DELIVERY_RETRY.delay(row.attempts))
            await run(self.store.retry, row.id, now + int(delay * 1000), answer.detail)
            log.warning("webhook delivery %s to %s not sent (%s); retrying in %.0f s",
                        row.id, where, answer.detail, delay)  # fmt: skip
            report.retried += 1
            return False
        paused = await run(self.store.failed, row, answer.detail, now, status in GONE)
        log.warning("webhook delivery %s to %s failed: %s", row.id, where, answer.detail)
        report.failed += 1
        if paused is not None:
            log.warning("webhook %s of chat %s paused: %s",
                        where, paused.chat_id, paused.paused_why)  # fmt: skip
            report.paused += 1
        return paused is None

    async def _post(self, row: WebhookDelivery) -> Answer:
        hook = row.webhook
        text = self.text_of(row.alert)
        if hook.kind == DISCORD:
            chart = await self._chart(row.snapshot_id)
            return await self.poster.post_discord(hook.url, text, chart, row.alert.silent)
        alert = row.alert
        instrument = getattr(alert, "instrument", None)
        fields = {"id": row.id, "kind": alert.kind, "instrument": instrument, "text": text,
                  "alert": asdict(alert)}  # fmt: skip
        body = json.dumps(fields, separators=(",", ":")).encode()
        timestamp = int(self.wall_seconds())
        headers = {DELIVERY_HEADER: str(row.id), TIMESTAMP_HEADER: str(timestamp)}
        if hook.secret is not None:
            headers[SIGNATURE_HEADER] = signature(hook.secret, timestamp, body)
        return await self.poster.post_json(hook.url, body, headers)

    async def _tell(self) -> None:
        """Tell each chat once of a webhook paused; one not told now is told next pass."""
        for hook in await self.stores.run(self.store.untold):
            if self._notice_after.get(hook.id, 0) > self.clock():
                continue
            number = await self._number(hook)
            try:
                await self.notice(hook.chat_id, number, hook.paused_why or "")
            except Exception as exc:
                self._notice_after[hook.id] = self.clock() + NOTICE_RETRY_MS
                log.warning("chat %s not told of its paused webhook yet: %s", hook.chat_id, exc)
                continue
            self._notice_after.pop(hook.id, None)
            await self.stores.run(self.store.told, hook.id, self.clock())

    async def _number(self, hook: Webhook) -> int:
        hooks = await self.stores.run(self.store.of_chat, hook.chat_id)
        return next((n for n, h in enumerate(hooks, 1) if h.id == hook.id), 0)

    async def _chart(self, snapshot_id: int | None) -> bytes | None:
        if snapshot_id is None:
            return None
        if snapshot_id in self._charts:
            return self._charts[snapshot_id]
        stored = await self.stores.run(self.stores.snapshots.by_id, snapshot_id)
        png = None
        if stored is not None:
            snapshot = stored.snapshot
            draw = functools.partial(
                render_png, snapshot.liq_map, snapshot.clusters, ChartLabels.of(snapshot),
                ALERT_CHART_WIDTH, real=snapshot.real,
            )  # fmt: skip
            png = await asyncio.get_running_loop().run_in_executor(WEBHOOK_CHARTS, draw)
        self._charts[snapshot_id] = png
        while len(self._charts) > KEPT_CHARTS:
            self._charts.popitem(last=False)
        return png
