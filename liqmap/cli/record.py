"""``liqmap record``: the liquidations the exchanges publish, into the database, until stopped."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from liqmap.cli.arguments import EXCHANGE_HELP, Commands, exchange_name, positive_seconds
from liqmap.cli.tuning import Tuning
from liqmap.cli.wiring import clock_of, market_data, open_stores, stop_on_request
from liqmap.config import Settings
from liqmap.errors import ConfigError
from liqmap.formats import usd

if TYPE_CHECKING:
    from jobs.scheduled.recorder import Batch

log = logging.getLogger("liqmap")


def add_commands(commands: Commands) -> None:
    """``record``."""
    record = commands.add_parser(
        "record",
        help="record realized liquidations of instruments into the database, until stopped",
        description="Record the liquidations the exchanges publish on their public websockets "
        "for the given instruments into LIQMAP_DB (as liqmap run does for subscribed ones), "
        "with the time spans watched; a line per batch; until SIGINT, SIGTERM or --for.",
    )
    record.add_argument("symbols", nargs="+", metavar="SYMBOL", help="e.g. BTC, all:ETH")
    record.add_argument("--exchange", type=exchange_name, help=EXCHANGE_HELP)
    record.add_argument(
        "--for", dest="seconds", type=positive_seconds, metavar="SECONDS",
        help="stop after this many seconds",
    )  # fmt: skip
    record.set_defaults(command=record_liquidations)


async def record_liquidations(args: argparse.Namespace, settings: Settings, tuning: Tuning) -> int:
    """Record until SIGINT or SIGTERM (or ``--for``); then store the rest and sum up."""
    from jobs.scheduled.recorder import recorder_for

    stop_on_request(tuning)
    with open_stores(settings, tuning) as stores:
        async with market_data(settings, args.exchange, tuning) as market:
            chosen = [await market.instrument(symbol) for symbol in args.symbols]
            members = list(dict.fromkeys(m for inst in chosen for m in inst.members or (inst,)))
            recorder = recorder_for(settings, stores, clock_of(tuning), on_batch=_print_batch)
            unrecorded = sorted({m.exchange for m in members} - set(recorder.venues))
            if unrecorded:
                raise ConfigError("; ".join(
                    f"LIQMAP_{name.upper()}_URL is not {name}'s public host: set "
                    f"LIQMAP_{name.upper()}_WS_URL to record {name}" for name in unrecorded
                ))  # fmt: skip
            for inst in chosen:
                for note in inst.missing_notes:
                    print(f"note: {note}")
            print(f"recording {', '.join(f'{m.exchange}:{m.native_id}' for m in members)}")
            for venue in dict.fromkeys(m.exchange for m in members):
                if recorder.status[venue].note:
                    print(f"note: {recorder.status[venue].note}")
            recorder.watch(chosen)
            try:
                await (tuning.sleep(args.seconds) if args.seconds else asyncio.Event().wait())
            except asyncio.CancelledError:
                log.info("recording stopped")
            finally:
                await recorder.stop()
            coverage = await stores.run(stores.realized.streams)
    watched = {(m.exchange, m.native_id) for m in members}
    for stream in coverage:
        if (stream.exchange, stream.instrument) in watched:
            seconds = sum(end - start for start, end in stream.covered) / 1000
            print(
                f"{stream.exchange}:{stream.instrument}: {_count(stream.events, 'liquidation')} "
                f"stored ({usd(stream.usd)}), watched {seconds:,.0f} s in "
                f"{_count(len(stream.covered), 'span')}"
            )
    for status in recorder.status.values():
        if status.instruments and (status.skipped or status.reconnects):
            print(f"{status.exchange}: {status.skipped} malformed skipped, "
                  f"{_count(status.reconnects, 'reconnect')}")  # fmt: skip
    return 0


def _print_batch(batch: Batch) -> None:
    for inst in dict.fromkeys(row.instrument for row in batch.rows):
        rows = [row for row in batch.rows if row.instrument == inst]
        sides = ", ".join(
            f"{side} {usd(sum(r.usd for r in rows if r.side == side))}"
            for side in ("long", "short")
            if any(r.side == side for r in rows)
        )
        when = datetime.fromtimestamp(batch.span[1] / 1000, UTC).strftime("%H:%M:%S")
        print(f"{when} {batch.exchange}:{inst}: {_count(len(rows), 'liquidation')} ({sides})",
              flush=True)  # fmt: skip


def _count(number: int, thing: str) -> str:
    return f"{number:,} {thing}{'' if number == 1 else 's'}"
