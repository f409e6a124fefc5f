"""How long a member's chatter holds a group's alert back.

Run: ``python -m benchmarks.group_chatter [--commands 40]``. The bot and its deliver job run in
this process against the local fakes (``tests/fakes``), on wall-clock time; the fake Bot API
takes 20 messages a minute into a group and answers 429 past that, as Telegram does (Bots
FAQ). A member sends ``--commands`` commands to the group (the same ``/help`` each time, or
``/help 1``, ``/help 2`` ...); once the bot's first answer is out an alert falls due for the
group, and the deliver job runs every second, as ``liqmap run`` runs it. The figure is the
time from the alert falling due to the fake accepting it, with and without the chatter.

"before" is the bot as it was: python-telegram-bot's ``AIORateLimiter`` queueing each group at
20 messages a minute, first come first served, every command answered. "after" is the bot as
it is: answers within 14 of the group's 20, a repeat within 10 s answered once, past the share
one notice (``liqmap/policies/group_budget.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter

import bot.app
from jobs.scheduled.alert_timing import ALERT_TTL_MS
from liqmap.config import Settings
from liqmap.policies.group_budget import GroupBudget
from liqmap.signals.proximity import Alert
from storage.database import open_database
from storage.outbox import enqueue
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import BOT, GROUP, GROUP_OWNER, MEMBER, Service, serving

BTC = "okx:BTC-USDT-SWAP"
ALERT = Alert("approach", BTC, "BTC-USDT-SWAP", "okx", "long", 61_000.0, 61_500.0, 3e7, 3.0,
              61_800.0, 62_000.0, 0.5, False, "7d")  # fmt: skip
UNLIMITED = 10**9


class WallClock(Clock):
    """Milliseconds since the epoch, moving on its own."""

    def __call__(self) -> int:
        return int(time.time() * 1000)


def ptb_group_queue(groups: GroupBudget, clock: Callable[[], int], max_retries: int) -> Any:
    """The limiter as it was for a group: python-telegram-bot's, 20 a minute first come first
    served (the overall pace, shared fairly between chats, does not matter for one group)."""
    return AIORateLimiter(max_retries=max_retries)


@asynccontextmanager
async def bot_as(version: str, tg: FakeTelegram, okx: FakeOkx, tmp: Path) -> AsyncIterator[Service]:
    settings = Settings(telegram_bot_token=tg.token, telegram_api_url=tg.url,
                        exchange_urls={"okx": okx.url})  # fmt: skip
    limiter = bot.app.FairRateLimiter
    if version == "before":
        bot.app.FairRateLimiter = ptb_group_queue  # type: ignore[assignment,misc]
    try:
        async with serving(settings, open_database(tmp / f"{version}.db"), WallClock()) as service:
            if version == "before":  # every command answered
                service.core.group_budget = GroupBudget(UNLIMITED, UNLIMITED, repeat_ms=0)
            yield service
    finally:
        bot.app.FairRateLimiter = limiter  # type: ignore[misc]


async def alert_latency(version: str, commands: int, same: bool) -> tuple[float, int]:
    """Seconds from the alert falling due to Telegram accepting it; the 429s meanwhile."""
    with FakeTelegram(bot_username=BOT, chat_admins={GROUP: [GROUP_OWNER]}) as tg, \
            FakeOkx() as okx, tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        async with bot_as(version, tg, okx, Path(tmp)) as service:
            tg.user_sends(GROUP, "/start", user_id=GROUP_OWNER)  # the bot notes the group
            await tg.wait_for_sent(GROUP, 1, timeout=60)
            throttled = tg.throttled
            for n in range(commands):
                tg.user_sends(GROUP, "/help" if same else f"/help {n}", user_id=MEMBER)
            await tg.wait_for_sent(GROUP, 2 if commands else 1, timeout=60)  # chatter under way
            stores = service.core.stores

            def queue() -> None:
                with stores.db.conn:
                    enqueue(stores.db, GROUP, BTC, ALERT, None, service.core.clock(), ALERT_TTL_MS)

            await stores.run(queue)
            due = time.time()
            while True:  # the deliver job, every second
                if (await service.jobs.deliver()).sent:
                    break
                await asyncio.sleep(1.0)
            (sent,) = [m for m in tg.sent(GROUP) if "BTC-USDT-SWAP (okx)" in (m["plain"] or "")]
            (call,) = [c for c in tg.calls_of("sendMessage", ok=True)
                       if c["result"]["message_id"] == sent["message_id"]]  # fmt: skip
            return call["time"] - due, tg.throttled - throttled


async def main(commands: int) -> None:
    for version in ("before", "after"):
        quiet, _ = await alert_latency(version, 0, True)
        print(f"{version}: the alert {quiet:.2f} s after due without chatter", flush=True)
        for same in (True, False):
            late, throttled = await alert_latency(version, commands, same)
            what = f"{commands} × /help" if same else f"{commands} different commands"
            print(f"{version}: the alert {late:.2f} s after due behind {what} from a member "
                  f"({throttled} answered 429 by Telegram meanwhile)", flush=True)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=40)
    asyncio.run(main(parser.parse_args().commands))
