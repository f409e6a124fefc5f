"""``/top`` against the fake OKX: the largest perpetuals by open interest without a watchlist
(the majors when OKX cannot rank them), the watchlist with one."""

from __future__ import annotations

import pytest

from bot.arguments import Refusal, top_count
from bot.deps import BotDeps
from liqmap.engine.series import Candles
from liqmap.signals.screener import hourly_range_pct
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ANN, BOB, press, say, words


def buttons(message: dict) -> list[tuple[str, str]]:
    rows = message["reply_markup"]["inline_keyboard"]
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_top_without_a_watchlist_screens_the_largest_perpetuals_by_open_interest(
    tg: FakeTelegram, core: BotDeps, okx: FakeOkx
) -> None:
    okx.tape("SOL-USDT-SWAP").add_open_interest(5e9)  # SOL now leads BTC and ETH
    (one,) = await say(tg, ANN, "/top 1")
    assert words(one).startswith(
        "Nearest dense clusters · the largest okx perpetuals by open interest (no watchlist yet)"
    )
    assert buttons(one) == [("🗺 SOL-USDT-SWAP", "t|7d|okx:SOL-USDT-SWAP")]
    assert okx.count("/api/v5/public/open-interest") == 1, "ranked in one request"

    (reply,) = await say(tg, ANN, "/top")
    lines = words(reply).splitlines()[1:]
    assert lines and all(line[0].isdigit() and "× the hourly range" in line for line in lines)
    assert {data for _, data in buttons(reply)} <= {
        f"t|7d|okx:{s}-USDT-SWAP" for s in ("BTC", "ETH", "SOL")
    }, "USDT perpetuals only: not the inverse swap nor the dated future"
    hours = [float(line.split(" · ")[-1].split("×")[0]) for line in lines]
    assert hours == sorted(hours)  # most urgent first


async def test_top_falls_back_to_the_majors_and_says_so(
    tg: FakeTelegram, core: BotDeps, okx: FakeOkx
) -> None:
    okx.inject(Fault(400, '{"code":"51000","msg":"Parameter instType error","data":[]}',
                     "application/json"), "/api/v5/public/open-interest", times=None)  # fmt: skip
    (reply,) = await say(tg, ANN, "/top 2")
    text = words(reply)
    assert "Major perpetuals instead of okx's largest by open interest: " in text
    shown = {data for _, data in buttons(reply)}
    assert shown and shown <= {"t|7d|okx:BTC-USDT-SWAP", "t|7d|okx:ETH-USDT-SWAP"}, "two majors"


async def test_top_screens_the_watchlist_and_its_button_sends_the_map(
    tg: FakeTelegram, core: BotDeps
) -> None:
    await say(tg, BOB, "/subscribe BTC")
    (reply,) = await say(tg, BOB, "/top 3")
    text = words(reply)
    assert text.startswith("Nearest dense clusters · this chat's watchlist")
    assert len(text.splitlines()) == 2 and "1. BTC-USDT-SWAP (okx) " in text
    assert buttons(reply) == [("🗺 BTC-USDT-SWAP", "t|7d|okx:BTC-USDT-SWAP")]

    before = len(tg.sent(BOB))
    answer = await press(tg, BOB, reply["message_id"], "t|7d|okx:BTC-USDT-SWAP")
    assert answer["params"]["text"] == "Loading 7d…"
    (photo,) = (await tg.wait_for_sent(BOB, before + 1, timeout=20))[before:]
    assert photo["method"] == "sendPhoto" and words(photo).startswith("BTC-USDT-SWAP · okx · 7d")

    forged = await press(tg, BOB, reply["message_id"], "t|7d|okx:ETH-USDT-SWAP")
    assert forged["params"]["text"] == "This button no longer works; send /map again."


@pytest.mark.parametrize("args", ["0", "11", "abc", "2 3", "-1", "²", "1²", "٣", "9" * 5000])
async def test_bad_n_gets_the_usage(tg: FakeTelegram, core: BotDeps, args: str) -> None:
    (reply,) = await say(tg, ANN, f"/top {args}")
    assert words(reply).startswith("Usage: /top [N]")
    assert tg.sent(ADMIN) == [], "no error report"


def test_top_count_and_the_hourly_range() -> None:
    counts = [top_count(a) for a in ([], ["10"], ["1"], ["01"], ["11"], ["x"], ["²"], ["٣"])]
    assert counts == [5, 10, 1, 1, Refusal(), Refusal(), Refusal(), Refusal()]
    hour = 3_600_000
    rows = [
        [ts, 100.0, high, low, 100.0, 1.0]
        for ts, high, low in (
            (0, 101, 99),
            (hour // 2, 102, 100),
            (hour, 101, 100),
            (2 * hour, 103, 100),
        )
    ]
    candles = Candles.from_rows(hour // 2, rows)
    assert hourly_range_pct(candles) == pytest.approx(3.0)  # median of 3%, 1%, 3%
    assert hourly_range_pct(Candles.from_rows(hour, [])) is None
