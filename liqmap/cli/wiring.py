"""How the commands open the database and the exchanges, and how they are stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from liqmap.cli.tuning import Tuning
from liqmap.config import Settings
from liqmap.exchanges.market_data import EXCHANGE_RETRY, MarketData
from liqmap.policies.retry import RetryPolicy

if TYPE_CHECKING:
    from storage.stores import Stores


def clock_of(tuning: Tuning) -> Callable[[], int]:
    """The tuning's clock, else the wall clock: milliseconds since the epoch."""
    return tuning.clock or _wall_clock


def _wall_clock() -> int:
    return int(time.time() * 1000)


def market_data(
    settings: Settings, exchange: str | None, tuning: Tuning, retry: RetryPolicy | None = None
) -> MarketData:
    """The exchanges of ``settings``; bare symbols go to ``exchange`` (else the configured
    default). Retries as the tuning says, else as ``retry``, else the service's policy."""
    return MarketData(
        urls=settings.exchange_urls,
        default_exchange=exchange or settings.default_exchange,
        clock=tuning.clock,
        retry=tuning.exchange_retry or retry or EXCHANGE_RETRY,
        ccxt_config=tuning.ccxt_config,
    )


@contextlib.contextmanager
def open_stores(settings: Settings, tuning: Tuning) -> Iterator[Stores]:
    """The database at ``LIQMAP_DB`` with its stores and their thread; all closed on exit."""
    from storage.database import open_database
    from storage.stores import Stores

    db = open_database(settings.db_path)
    stores = Stores(db, clock_of(tuning), settings.access, settings.subscription_limits)
    try:
        yield stores
    finally:
        stores.close()
        db.close()


def stop_on_request(tuning: Tuning) -> None:
    """Let SIGINT and SIGTERM cancel the running task, or hand the tuning's ``on_start`` a
    function that cancels it from any thread."""
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("stop_on_request needs a running task")
    loop = asyncio.get_running_loop()
    if tuning.on_start is not None:

        def stop() -> None:
            loop.call_soon_threadsafe(task.cancel)

        tuning.on_start(stop)
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
