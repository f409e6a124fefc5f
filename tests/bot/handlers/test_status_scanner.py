"""``/status`` tells the admins how old the scanned Hyperliquid positions are, and says so
when the scanner has fallen behind its period."""

from __future__ import annotations

from bot.deps import BotDeps
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, say, words

MINUTE = 60_000


async def test_status_shows_the_last_scan_pass_and_a_scanner_behind(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (status,) = await say(tg, ADMIN, "/status")
    assert "Real positions (Hyperliquid scanner)\nno pass yet" in words(status)
    store, now = core.stores.positions, core.clock()
    done = store.begin_pass(now - 35 * MINUTE)
    store.finish_pass(done, now - 33 * MINUTE, accounts=812, skipped=2, failed=1, weight=1626.0)
    (status,) = await say(tg, ADMIN, "/status")
    text = words(status)
    assert (
        "last pass began 35 min ago: 812 accounts in 2 min, 2 positions skipped, 1 failed, "
        "weight 1,626" in text
    )
    assert "behind: data 35 min old, a pass is due every 10 min" in text
    store.begin_pass(now - 1 * MINUTE)
    store.finish_pass(done + 1, now, accounts=900, skipped=0, failed=0, weight=1800.0)
    (status,) = await say(tg, ADMIN, "/status")
    assert "behind" not in words(status)
