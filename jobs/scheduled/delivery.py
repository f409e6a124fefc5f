"""Deliver the outbox to chats: marked ``sending`` before, ``sent`` only after the chat got it.

Telegram takes no idempotency key, so when its answer is lost (a timeout after the request
went out, or a crash before the answer was written) nobody knows whether the chat got the
message. Alerts are then sent again (at least once: a duplicate only then); digests and
receipts are not: they are marked ``unconfirmed`` and logged at WARNING.

The transport is behind ``AlertSender`` (the bot implements it for Telegram), so this job
knows nothing of Telegram. A chart for an alert is rendered once per map and then re-sent by
the file id the transport returns.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from liqmap.charts.map_chart import ChartLabels, render_png
from liqmap.policies.retry import RetryPolicy
from liqmap.signals.digest import DIGEST, Digest
from liqmap.signals.proximity import RECEIPT, Alert
from storage.outbox import Outgoing
from storage.stores import Stores

log = logging.getLogger(__name__)

ALERT_CHART_WIDTH = 800
DELIVERY_RETRY = RetryPolicy(attempts=None, first_delay=1.0, factor=2.0, max_delay=300.0)
"""Pauses between tries of one alert; the outbox's expiry ends them."""
ALERT_CHARTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liqmap-alert-chart")
"""Alert charts are drawn in a thread of their own, never queued behind the maps chats asked
for (``asyncio.to_thread``'s shared threads are all busy under load)."""


class ChatBlocked(Exception):
    """The chat blocked or removed the bot."""


class ChatMoved(Exception):
    """The chat has a new id (a group became a supergroup)."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class RetryLater(Exception):
    """Not delivered now (network, rate limit); try again after ``seconds``."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class AnswerLost(RetryLater):
    """The message went out but Telegram's answer did not come back: the chat may have it."""


NOT_SENT_AGAIN = frozenset({DIGEST, RECEIPT})
"""Kinds never sent twice: one that may have arrived is marked ``unconfirmed`` instead. The
others (the alerts) are sent again, since a missed alert costs more than a repeated one."""


class DeliveryRejected(Exception):
    """The transport refused this alert for good."""


class TopicGone(Exception):
    """The forum topic the message was sent to is closed or deleted (``storage.topics``'s
    ``CLOSED`` or ``DELETED``): nothing arrived; the General topic still takes it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"topic {reason}")
        self.reason = reason


class AlertSender(Protocol):
    async def send(
        self,
        chat_id: int,
        alert: Alert | Digest,
        chart: bytes | str | None,
        thread_id: int | None = None,
        topic_note: str | None = None,
    ) -> str | None:
        """Deliver ``alert`` (or a digest, never with a chart) with ``chart`` (PNG or a file
        id) into forum topic ``thread_id`` (None: the General topic), saying the chat's topic
        is ``topic_note`` (closed, deleted) if given; the chart's file id, if any."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    unconfirmed: int = 0


class Delivery:
    """One pass over the due outbox rows."""

    def __init__(
        self,
        stores: Stores,
        sender: AlertSender,
        clock: Callable[[], int],
        concurrency: int = 20,
    ) -> None:
        self.stores = stores
        self.outbox = stores.outbox
        self.chats = stores.chats
        self.sender = sender
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._resumed = False
        self._unrecorded: dict[int, int] = {}
        """Rows the chat got whose ``sent`` could not be written (a full disk), with when.
        They stay ``sending`` in the database, so nothing sends them again here; ``sent`` is
        written as soon as the database takes it (each run, and ``close``)."""
        self.sent_again = 0
        """Alerts sent again since the start though the chat may have had them (an answer
        lost, or a send cut off by a stop): each a possible duplicate."""

    async def run(self) -> DeliveryReport:
        report = DeliveryReport()
        if not self._resumed:
            await self._resume(report)
        await self._record_unrecorded()
        now = self.clock()
        by_map: dict[int | None, list[Outgoing]] = {}
        run = self.stores.run
        for row in await run(self.outbox.due, now):
            if row.expires_at is not None and row.expires_at < now:
                await run(self.outbox.expire, row.id)
                log.info("alert %s to chat %s expired unsent", row.id, row.chat_id)
                report.expired += 1
                continue
            chat = await run(self.chats.get, row.chat_id)
            if chat is None or not chat.active or not self.chats.access.allows(chat.id):
                reason = "chat not allowed" if chat and chat.active else "chat inactive"
                await run(self.outbox.fail, row.id, reason)
                report.failed += 1
                continue
            by_map.setdefault(row.snapshot_id, []).append(row)
        for snapshot_id, rows in by_map.items():
            chart = await self._chart(snapshot_id)
            if isinstance(chart, bytes):  # the first upload gives the file id for the rest
                file_id = await self._deliver(rows[0], chart, report)
                rows = rows[1:]
                if file_id is not None and snapshot_id is not None:
                    await run(self.stores.snapshots.set_alert_chart_file_id, snapshot_id, file_id)
                    chart = file_id
            await asyncio.gather(*(self._deliver(row, chart, report) for row in rows))
        return report

    async def close(self) -> None:
        """Write the ``sent`` the database would not take yet, if it takes it now."""
        await self._record_unrecorded()

    async def _resume(self, report: DeliveryReport) -> None:
        """Settle the rows a crash left ``sending``: alerts are sent again, the others are
        marked ``unconfirmed``."""
        for row in await self.stores.run(self.outbox.in_flight):
            what = f"{row.alert.kind} {row.id} to chat {row.chat_id}"
            if row.alert.kind in NOT_SENT_AGAIN:
                await self.stores.run(self.outbox.unconfirm, row.id, "cut off while sending")
                log.warning("%s was being sent when the service stopped; it may not have "
                            "arrived and is not sent again", what)  # fmt: skip
                report.unconfirmed += 1
            else:
                await self.stores.run(self.outbox.requeue, row.id)
                self.sent_again += 1
                log.warning("%s was being sent when the service stopped; sending it again "
                            "(the chat may get it twice)", what)  # fmt: skip
        self._resumed = True

    async def _deliver(
        self, row: Outgoing, chart: bytes | str | None, report: DeliveryReport
    ) -> str | None:
        run = self.stores.run
        async with self._slots:
            try:
                await run(self.outbox.begin, row.id, self.clock())
            except Exception as exc:
                log.warning("alert %s to chat %s not begun (%s); later", row.id, row.chat_id, exc)
                return None
            try:
                file_id = await self.sender.send(
                    row.chat_id, row.alert, chart, row.thread_id, row.topic_note
                )
            except TopicGone as gone:
                await self._to_general(row, gone, report)
            except ChatBlocked:
                await run(self.chats.set_active, row.chat_id, False)
                await run(self.outbox.fail, row.id, "chat blocked the bot")
                log.info("chat %s blocked the bot: marked inactive", row.chat_id)
                report.failed += 1
            except ChatMoved as moved:
                await run(self.outbox.requeue, row.id)  # pending, so the move takes it along
                await run(self.chats.migrate, row.chat_id, moved.new_chat_id)
                log.info(
                    "chat %s moved to %s; alert %s follows", row.chat_id, moved.new_chat_id, row.id
                )
                report.retried += 1
            except RetryLater as later:
                await self._later(row, later, report)
            except DeliveryRejected as refused:
                await run(self.outbox.fail, row.id, str(refused))
                log.warning("alert %s to chat %s refused: %s", row.id, row.chat_id, refused)
                report.failed += 1
            except Exception as exc:
                await run(self.outbox.fail, row.id, f"unexpected: {exc}")
                log.exception("alert %s to chat %s failed unexpectedly", row.id, row.chat_id)
                report.failed += 1
            else:
                report.sent += 1
                await self._record_sent(row.id, self.clock())
                return file_id
        return None

    async def _to_general(self, row: Outgoing, gone: TopicGone, report: DeliveryReport) -> None:
        """The row's topic is closed or deleted: it and the topic's other pending rows go to
        the General topic at the next pass; the first to find the topic gone carries the note.
        Telegram refused the message, so a digest or receipt is not doubled by this."""
        if row.thread_id is None:  # the General topic itself is closed
            await self.stores.run(self.outbox.fail, row.id, str(gone))
            log.warning("alert %s to chat %s refused: %s", row.id, row.chat_id, gone)
            report.failed += 1
            return
        topics = self.stores.topics
        first = await self.stores.run(topics.gone, row.id, row.chat_id, row.thread_id, gone.reason)
        log.info("chat %s: topic %s is %s; alert %s goes to General%s", row.chat_id,
                 row.thread_id, gone.reason, row.id, " with a note" * first)  # fmt: skip
        report.retried += 1

    @property
    def unrecorded(self) -> int:
        """Alerts Telegram took that are not yet marked sent: a restart would send them again."""
        return len(self._unrecorded)

    async def _later(self, row: Outgoing, later: RetryLater, report: DeliveryReport) -> None:
        """Try again later, unless the message may have arrived and is not sent twice."""
        if isinstance(later, AnswerLost) and row.alert.kind in NOT_SENT_AGAIN:
            await self.stores.run(self.outbox.unconfirm, row.id, str(later))
            log.warning("%s %s to chat %s may not have arrived (%s); not sent again",
                        row.alert.kind, row.id, row.chat_id, later)  # fmt: skip
            report.unconfirmed += 1
            return
        if isinstance(later, AnswerLost):
            self.sent_again += 1
        delay = max(later.seconds, DELIVERY_RETRY.delay(row.attempts))
        at = self.clock() + int(delay * 1000)
        await self.stores.run(self.outbox.retry, row.id, at, str(later))
        log.warning("alert %s to chat %s not sent (%s); retrying", row.id, row.chat_id, later)
        report.retried += 1

    async def _record_sent(self, row_id: int, sent_at: int) -> None:
        try:
            await self.stores.run(self.outbox.mark_sent, row_id, sent_at)
        except Exception:
            self._unrecorded[row_id] = sent_at
            log.exception("alert %s delivered but not marked sent; left sending", row_id)

    async def _record_unrecorded(self) -> None:
        for row_id, sent_at in list(self._unrecorded.items()):
            try:
                await self.stores.run(self.outbox.mark_sent, row_id, sent_at)
            except Exception as exc:
                log.warning("alert %s still not marked sent: %s", row_id, exc)
                return
            del self._unrecorded[row_id]

    async def _chart(self, snapshot_id: int | None) -> bytes | str | None:
        if snapshot_id is None:
            return None
        stored = await self.stores.run(self.stores.snapshots.by_id, snapshot_id)
        if stored is None:
            return None
        if stored.alert_chart_file_id:
            return stored.alert_chart_file_id
        snapshot = stored.snapshot
        labels = ChartLabels.of(snapshot)
        draw = functools.partial(
            render_png, snapshot.liq_map, snapshot.clusters, labels, ALERT_CHART_WIDTH,
            real=snapshot.real,
        )  # fmt: skip
        return await asyncio.get_running_loop().run_in_executor(ALERT_CHARTS, draw)
