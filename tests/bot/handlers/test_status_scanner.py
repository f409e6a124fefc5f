"""``/status`` tells the admins how old the scanned Hyperliquid positions are, and says so
when the scanner has fallen behind its period."""

from __future__ import annotations

from bot.deps import BotDeps
from jobs.scheduled.discovery import DiscoveryStatus
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


async def test_status_counts_the_accounts_by_source_and_says_where_discovery_stands(
    tg: FakeTelegram, core: BotDeps
) -> None:
    (status,) = await say(tg, ADMIN, "/status")
    assert "0 accounts known (given 0, trades 0, leaderboard 0)" in words(status)
    now = core.clock()
    found = [("0x" + f"{i:040x}", now, 1e5) for i in range(3)]
    core.stores.positions.discovered(found, "trades")
    core.stores.positions.discovered([("0x" + "f" * 40, now, 9e6)], "leaderboard")
    core.discovery = DiscoveryStatus(
        coins=("BTC", "ETH"), connected=True, trades=1234, skipped=2,
        leaderboard_note="the leaderboard answered HTTP 404",
    )  # fmt: skip
    (status,) = await say(tg, ADMIN, "/status")
    text = words(status)
    assert "4 accounts known (given 0, trades 3, leaderboard 1)" in text
    assert "trades of BTC, ETH: connected, 1,234 read, 2 skipped" in text
    assert "leaderboard: the leaderboard answered HTTP 404" in text
    core.discovery = DiscoveryStatus(coins=("BTC",), leaderboard_rows=30_312, last_error="drop")
    (status,) = await say(tg, ADMIN, "/status")
    text = words(status)
    assert "trades of BTC: reconnecting, 0 read, 0 skipped, last error: drop" in text
    assert "leaderboard: 30,312 accounts listed" in text
