"""Put the alert jobs on APScheduler, in the running event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.scheduled.alert_jobs import AlertJobs

log = logging.getLogger(__name__)

DELIVER_SECONDS = 1.0
"""Pending alerts are retried this often; new ones are delivered at once."""
SETTLE_SECONDS = 30.0
"""Swept clusters are checked this often for receipts that are due."""
DIGEST_SECONDS = 60.0
"""Chats are checked this often for a daily digest whose local time has come."""
PRUNE_SECONDS = 24 * 3600.0
"""The database is pruned once a day, the first time a minute after start."""


def start_jobs(
    jobs: AlertJobs, refresh_seconds: float, price_seconds: float, scan_seconds: float = 600.0
) -> AsyncIOScheduler:
    """Refresh at once and every ``refresh_seconds``; watch every ``price_seconds``; deliver
    every second and whenever the watch queued something; settle sweep receipts every 30 s;
    queue daily digests every minute; scan real positions every ``scan_seconds`` (a pass
    still running then delays the next); prune daily. Never two runs of a job at once."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60, "next_run_time": now}
    every = {
        "refresh": (jobs.refresh, refresh_seconds),
        "watch": (jobs.watch, price_seconds),
        "deliver": (jobs.deliver, DELIVER_SECONDS),
        "settle": (jobs.settle, SETTLE_SECONDS),
        "digest": (jobs.digest, DIGEST_SECONDS),
        "scan": (jobs.scan, scan_seconds),
        "webhooks": (jobs.post_webhooks, DELIVER_SECONDS),
    }
    for name, (run, seconds) in every.items():
        scheduler.add_job(
            _quiet_when_cancelled(name, run), IntervalTrigger(seconds=seconds), id=name,
            name=name, **common,
        )  # fmt: skip
    scheduler.add_job(
        _quiet_when_cancelled("prune", jobs.prune),
        IntervalTrigger(seconds=PRUNE_SECONDS),
        id="prune",
        name="prune",
        **(common | {"next_run_time": now + timedelta(minutes=1)}),
    )

    def wake_delivery() -> None:
        for name in ("deliver", "webhooks"):
            job = scheduler.get_job(name)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))

    jobs.wake_delivery = wake_delivery
    scheduler.start()
    return scheduler


def _quiet_when_cancelled(
    name: str, run: Callable[[], Awaitable[object]]
) -> Callable[[], Awaitable[object]]:
    """The job, ending with a log line instead of APScheduler's traceback when
    ``AlertJobs.stop`` cancels it at shutdown."""

    async def job() -> object:
        try:
            return await run()
        except asyncio.CancelledError:
            log.info("%s job cancelled at shutdown", name)
            return None

    return job
