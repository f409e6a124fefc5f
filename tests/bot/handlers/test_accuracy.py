"""``/accuracy`` as users meet it: the live figures from recorded liquidations, or what is
still missing; for one venue or the venues summed; new scores cost fair-use budget."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlite_utils import Database

from bot.texts.accuracy import accuracy_text
from jobs.on_demand.accuracy import live_accuracy
from liqmap.config import Settings
from liqmap.evaluation.backtest import PartScore, SideScore
from liqmap.evaluation.live_accuracy import LiveAccuracy, Sample
from liqmap.market.instruments import Instrument
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, BOB, running, say, words
from tests.support.recorded import MARKET_PATHS, cache_market, end_of, hour, hourly_slice, record

pytestmark = pytest.mark.fixed_clock


def perpetual(exchange: str, native_id: str) -> Instrument:
    return Instrument(
        exchange, "BTC/USDT:USDT", native_id, "BTC", "USDT", "USDT", 1.0, True, "swap"
    )


OKX_BTC = perpetual("okx", "BTC-USDT-SWAP")
MEMBERS = (OKX_BTC, perpetual("binance", "BTCUSDT"), perpetual("bybit", "BTCUSDT"))


def recorded_month(db: Database, members: tuple[Instrument, ...] = (OKX_BTC,)) -> None:
    """The slice of the hourly file cached and recorded whole on each of ``members``, its
    liquidations shared out evenly."""
    history = hourly_slice()
    for member in members:
        cache_market(db, member, history, 1 / len(members))
        record(db, member, history, (hour(history, 0), end_of(history)), 1 / len(members))


async def test_accuracy_gives_the_figures_with_hours_and_recorded_time(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    recorded_month(db)
    async with running(settings, db, clock) as core:
        (answer,) = await say(tg, ANN, "/accuracy BTC")
        text = words(answer)
        expected = await live_accuracy(
            core.market, core.stores, await core.market.instrument("BTC")
        )
    score = expected.score
    assert score is not None
    assert text.startswith("BTC-USDT-SWAP · okx · live accuracy\n")
    assert "Liquidations recorded for 16.7 days in the 30d to 2026-02-09 01:00 UTC\n" in text
    assert f"over {score.hours} hours recorded whole" in text and score.hours == 400 - 168
    assert f"Longs: partial {score.long.partial:.2f} · Spearman {score.long.spearman:.2f} " in text
    assert f"Shorts: partial {score.short.partial:.2f}" in text
    assert f"cluster lift {score.long.lift:.1f}×" in text
    assert "typing" in tg.chat_actions(ANN)
    assert not any(okx.count(path) for path in MARKET_PATHS), "scored from the cache"


async def test_accuracy_says_what_data_is_missing(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    history = hourly_slice()
    cache_market(db, OKX_BTC, history)
    record(db, OKX_BTC, history, (hour(history, 380), end_of(history)))
    async with running(settings, db, clock):
        (few,) = await say(tg, ANN, "/accuracy BTC-USDT-SWAP")
        (none,) = await say(tg, ANN, "/accuracy ETH")
    assert words(few).startswith("BTC-USDT-SWAP · okx · live accuracy\n")
    assert "Liquidations recorded for 20 h in the 30d to " in words(few)
    assert "\n⏳ Not enough data yet: 20 of 48 hours needed.\n" in words(few)
    assert words(few).endswith("\n🧾 No alerted cluster was swept in the 30d yet.")
    assert "partial" not in words(few)
    assert words(none) == (
        "⏳ Not enough data yet: no liquidations recorded for ETH-USDT-SWAP on okx yet."
    )


async def test_accuracy_all_sums_the_venues_and_says_binance_is_sampled(
    tg: FakeTelegram, every_exchange: Settings, db: Database, clock: Clock
) -> None:
    recorded_month(db, MEMBERS)
    async with running(every_exchange, db, clock):
        (answer,) = await say(tg, ANN, "/accuracy all btc")
    text = words(answer)
    assert text.startswith("BTC · okx+binance+bybit · live accuracy\n")
    assert f"over {400 - 168} hours recorded whole" in text
    assert "Binance publishes at most one liquidation per symbol a second, the latest: its" in text
    assert "OKX publishes a selection of its liquidations" in text


async def test_bad_requests_get_a_short_answer_and_new_scores_cost_budget(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock
) -> None:
    recorded_month(db)
    async with running(replace(settings, maps_per_minute=1), db, clock):
        (usage,) = await say(tg, ANN, "/accuracy")
        assert (
            words(usage) == "Usage: /accuracy SYMBOL [all] — e.g. /accuracy BTC, /accuracy BTC all"
        )
        (twice,) = await say(tg, ANN, "/accuracy BTC ETH")
        assert words(twice).startswith("Usage: /accuracy")
        (unknown,) = await say(tg, ANN, "/accuracy NOPE")
        assert "NOPE" in words(unknown)
        await say(tg, ANN, "/accuracy BTC")
        (refused,) = await say(tg, ANN, "/accuracy ETH")
        assert words(refused).startswith("That is a lot of new maps at once; try again in")
        (kept,) = await say(tg, ANN, "/accuracy BTC")
        assert "live accuracy" in words(kept), "a score made moments ago costs nothing"
        (other,) = await say(tg, BOB, "/accuracy btc")
        assert words(other) == words(kept)


def test_undefined_figures_read_n_a_and_extra_lines_come_last() -> None:
    side = SideScore(0.5, 0.4, 0.3, float("nan"), 60, 0)
    score = PartScore("live", 0, 3_600_000, 60, side, side, side, side)
    sample = Sample(60, 20, 20, 61 * 3_600_000, 0, 30 * 86_400_000)
    accuracy = LiveAccuracy("all:BTC", ("okx", "bybit"), sample, score, ("bybit left out: x",))
    text = accuracy_text(accuracy, ["<b>Alerted clusters</b>: 3 of 4 hit"])
    assert text.startswith("<b>BTC</b> · okx+bybit · live accuracy\nLiquidations recorded for ")
    assert "cluster lift n/a" in text and "n/a×" not in text
    assert "2.5 days in the 30d" in text
    assert text.endswith("<i>bybit left out: x</i>\n<b>Alerted clusters</b>: 3 of 4 hit")


async def test_accuracy_tells_how_alerted_clusters_fared_once_swept(
    tg: FakeTelegram, settings: Settings, db: Database, clock: Clock, okx: FakeOkx
) -> None:
    from liqmap.signals.proximity import SWEPT, Alert
    from liqmap.signals.receipts import Receipt
    from storage.sweeps import SweepStore, add_sweep

    recorded_month(db)
    now, sweeps = clock(), SweepStore(db)

    def swept(low: float, chat: int, receipt: Receipt) -> None:
        alert = Alert(SWEPT, OKX_BTC.key, "BTC-USDT-SWAP", "okx", "long", low, low + 500, 9e7,
                      3.0, low - 100, low + 600, 0.0, False, "7d", now - 3_600_000)  # fmt: skip
        add_sweep(db, chat, alert, now - 600_000)
        (sweep_id, sweep), *_ = [d for d in sweeps.due(now) if d[1].chat_id == chat]
        sweeps.settle(sweep_id, sweep, receipt, True, False, now, 900_000)

    hit = Receipt(8e6, 10e6, 0.2, 1.0, ("okx",), ())
    miss = Receipt(1e6, 10e6, 0.2, 1.0, ("okx",), ())
    unwatched = Receipt(0.0, 0.0, 1.0, 0.0, ("okx",), ())
    swept(60_000, ANN, hit)
    swept(60_000, BOB, hit)  # the same cluster, alerted to two chats: counted once
    swept(58_000, ANN, miss)
    swept(56_000, ANN, unwatched)
    async with running(settings, db, clock):
        (answer,) = await say(tg, ANN, "/accuracy BTC")
    text = words(answer)
    assert "🧾 3 alerted clusters swept in the 30d: 2 judged, 1 hit (50%)" in text
    assert "Hit: the cluster's band took more of the sweep's recorded liquidations" in text
