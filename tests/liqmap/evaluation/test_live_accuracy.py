"""Live accuracy: the backtest's figures on the hours the recorder watched whole, per venue and
summed over venues, from the market cache; uncovered hours left out, small samples refused."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import numpy as np
import pytest

from jobs.on_demand.accuracy import AccuracyService, live_accuracy
from liqmap.engine.ranges import Range
from liqmap.engine.realized import Realized
from liqmap.engine.series import Liquidations
from liqmap.evaluation.backtest import PartScore, score_part, walk_forward
from liqmap.evaluation.live_accuracy import (
    MIN_HOURS,
    NothingRecorded,
    Sample,
    history_span,
    watched,
    watched_by_all,
)
from liqmap.exchanges.csv_source import CsvHistory
from liqmap.exchanges.market_data import MarketData
from liqmap.market.margins import params_for
from liqmap.market.timeframes import HOUR_MS, floor_to
from liqmap.market.venue_split import VenueSlice
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.okx import FakeOkx
from tests.support.recorded import (
    HOURS,
    MARKET_PATHS,
    MONTH,
    cache_market,
    hour,
    hourly_slice,
    record,
)

pytestmark = [pytest.mark.fixed_clock, pytest.mark.slow]

SIDES = ("long", "short", "naive_long", "naive_short")


@pytest.fixture(scope="module")
def hourly() -> CsvHistory:
    return hourly_slice()


def expected_mask(history: CsvHistory, spans: list[Range]) -> np.ndarray:
    """Hours of the CSV walk forward (after its warm-up) inside one of ``spans``."""
    ts = history.candles.ts[168:]
    return np.array([any(a <= t and t + HOUR_MS <= b for a, b in spans) for t in ts.tolist()])


def same(found: PartScore | None, wanted: PartScore) -> bool:
    """Scores equal, figures to 1e-9 (sums over venues are added in another order)."""
    assert found is not None
    flat = [(asdict(found)[side], asdict(wanted)[side]) for side in SIDES]
    return all(a == pytest.approx(b, rel=1e-9, nan_ok=True) for a, b in flat)


async def test_the_figures_equal_the_csv_walk_forward_over_the_hours_watched_whole(
    market: MarketData, stores: Stores, okx: FakeOkx, hourly: CsvHistory
) -> None:
    inst = await market.instrument("BTC")
    cache_market(stores.db, inst, hourly)
    # watched from hour 170 to 260, then from half past 290 to the end: hours 260 to 290 are
    # unknown (their liquidations were not recorded), and hour 290 was watched only in part
    spans = [(hour(hourly, 170), hour(hourly, 260)),
             (hour(hourly, 290) + 30 * 60_000, hour(hourly, -1) + HOUR_MS)]  # fmt: skip
    for span in spans:
        record(stores.db, inst, hourly, span)

    found = await live_accuracy(market, stores, inst)

    params = params_for(inst, await market.maintenance_rate(inst))
    mask = expected_mask(hourly, spans)
    model = walk_forward(hourly, params).part(mask)
    naive = walk_forward(hourly, params.naive()).part(mask)
    assert found.score == score_part("live", model, naive)
    assert found.label == "okx:BTC-USDT-SWAP" and found.venues == ("okx",)
    assert found.sample.hours == found.score.hours == (260 - 170) + (HOURS - 291) == mask.sum()
    assert found.sample.recorded_ms == sum(b - a for a, b in spans)
    assert found.sample.end_ms == hour(hourly, -1) + HOUR_MS
    assert found.score.long.partial > 0.2 and found.score.short.partial > 0.2
    assert not any(okx.count(path) for path in MARKET_PATHS), "read from the cache alone"

    # the unwatched hours are left out, not scored as hours without liquidations
    longs, shorts = hourly.liquidations.long_usd.copy(), hourly.liquidations.short_usd.copy()
    longs[260:291] = shorts[260:291] = 0
    zeroed = Liquidations(hourly.liquidations.ts, longs, shorts)
    as_zero = CsvHistory("zeroed", hourly.candles, hourly.open_interest, zeroed)
    everything = slice(170 - 168, None)
    counted = walk_forward(as_zero, params).part(everything)
    assert len(counted) > found.score.hours
    assert score_part("x", counted, counted).long != found.score.long


async def test_summed_venues_score_their_summed_liquidations_on_the_hours_all_watched(
    adapter: Adapter,
    stores: Stores,
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    hourly: CsvHistory,
) -> None:
    async with adapter(okx=okx.url, binance=binance.url, bybit=bybit.url) as market:
        every = await market.instrument("all:BTC")
        shares = {"okx": 0.2, "binance": 0.5, "bybit": 0.3}
        whole = (hour(hourly, 0), hour(hourly, -1) + HOUR_MS)
        bybit_gap = (hour(hourly, 200), hour(hourly, 230))
        for member in every.members:
            share = shares[member.exchange]
            cache_market(stores.db, member, hourly, share)
            if member.exchange == "bybit":
                record(stores.db, member, hourly, (whole[0], bybit_gap[0]), share)
                record(stores.db, member, hourly, (bybit_gap[1], whole[1]), share)
            else:
                record(stores.db, member, hourly, whole, share)

        found = await live_accuracy(market, stores, every)
        okx_alone = await live_accuracy(market, stores, every.members[0])
        params = {
            m.exchange: params_for(m, await market.maintenance_rate(m)) for m in every.members
        }

    slices = [VenueSlice(name, share, params[name]) for name, share in shares.items()]
    naive = [VenueSlice(s.exchange, s.share, s.params.naive()) for s in slices]
    mask = expected_mask(hourly, [(whole[0], bybit_gap[0]), (bybit_gap[1], whole[1])])
    wanted = score_part(
        "live", walk_forward(hourly, slices).part(mask), walk_forward(hourly, naive).part(mask)
    )
    assert found.label == "all:BTC" and found.venues == ("okx", "binance", "bybit")
    assert same(found.score, wanted)
    assert found.sample.hours == HOURS - 168 - 30
    assert okx_alone.sample.hours == HOURS - 168, "one venue's own hours are its own"
    assert found.score.long.partial != okx_alone.score.long.partial
    assert not any(fake.count(path) for fake in (okx, binance, bybit) for path in MARKET_PATHS)


async def test_a_venue_never_recorded_is_left_out_of_the_sum_and_named(
    adapter: Adapter, stores: Stores, okx: FakeOkx, binance: FakeBinance, hourly: CsvHistory
) -> None:
    async with adapter(okx=okx.url, binance=binance.url) as market:
        every = await market.instrument("all:BTC")
        okx_btc = every.members[0]
        cache_market(stores.db, okx_btc, hourly)
        record(stores.db, okx_btc, hourly, (hour(hourly, 0), hour(hourly, -1) + HOUR_MS))
        found = await live_accuracy(market, stores, every)
    assert found.venues == ("okx",)
    assert "binance left out: nothing recorded" in found.notes
    assert any(note.startswith("bybit ") for note in found.notes), "not reachable here"


async def test_below_the_minimum_sample_there_are_no_figures_but_what_there_is(
    market: MarketData, stores: Stores, hourly: CsvHistory
) -> None:
    inst = await market.instrument("BTC")
    cache_market(stores.db, inst, hourly)
    record(stores.db, inst, hourly, (hour(hourly, 300), hour(hourly, 312)))
    found = await live_accuracy(market, stores, inst)
    assert found.score is None
    assert found.sample.hours == 12
    assert found.sample.shortfall is not None
    assert found.sample.shortfall.startswith(f"12 of {MIN_HOURS} hours needed")
    assert found.sample.recorded_ms == 12 * HOUR_MS


def test_the_minimum_needs_hours_and_liquidations_on_each_side() -> None:
    def sample(hours: int, longs: int, shorts: int) -> Sample:
        return Sample(hours, longs, shorts, hours * HOUR_MS, 0, MONTH)

    assert sample(48, 12, 12).shortfall is None
    assert sample(47, 40, 40).shortfall == "47 of 48 hours needed"
    assert sample(200, 150, 3).shortfall == "3 of 12 hours with short liquidations"
    assert sample(5, 0, 1).shortfall == (
        "5 of 48 hours needed, 0 of 12 hours with long liquidations, "
        "1 of 12 hours with short liquidations"
    )


async def test_nothing_recorded_is_an_error_that_says_so(
    market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("ETH")
    with pytest.raises(NothingRecorded, match="no liquidations recorded for ETH-USDT-SWAP on okx"):
        await live_accuracy(market, stores, inst)


async def test_a_live_recording_syncs_the_hours_the_cache_lacks_once(
    market: MarketData, stores: Stores, okx: FakeOkx, clock: Clock
) -> None:
    """Recorded up to now on the fake market: the first score fetches the month of hourly
    candles and open interest, the next ones read the cache."""
    inst = await market.instrument("BTC")
    now = clock()
    start = floor_to(now, HOUR_MS) - 60 * HOUR_MS
    rows = [
        Realized("okx", inst.native_id, side, 60_000.0, size, size * 60_000.0, at + i * HOUR_MS)
        for i in range(60)
        for side, at, size in (("long", start + 60_000, 0.1 * (1 + i % 7)),
                               ("short", start + 120_000, 0.2 * (1 + i % 5)))
    ]  # fmt: skip
    stores.realized.record("okx", [inst.native_id], rows, (start, now))

    first = await live_accuracy(market, stores, inst)
    assert first.sample.hours == 60 and first.sample.end_ms == floor_to(now, HOUR_MS)
    assert first.score is not None and first.score.long.hours == 60
    assert okx.count("/api/v5/market/") > 0
    fetched = sum(okx.count(path) for path in MARKET_PATHS)

    again = await live_accuracy(market, stores, inst)
    assert sum(okx.count(path) for path in MARKET_PATHS) == fetched
    assert same(again.score, first.score)


async def test_the_service_scores_once_however_many_ask_and_keeps_it_while_fresh(
    market: MarketData, stores: Stores, clock: Clock, hourly: CsvHistory
) -> None:
    inst = await market.instrument("BTC")
    cache_market(stores.db, inst, hourly)
    record(stores.db, inst, hourly, (hour(hourly, 0), hour(hourly, -1) + HOUR_MS))
    service = AccuracyService(market, stores, fresh_ms=300_000, clock=clock)
    assert service.would_compute(inst)
    first, second = await asyncio.gather(service.get(inst), service.get(inst))
    assert first is second
    assert not service.would_compute(inst)
    assert await service.get(inst) is first
    clock.advance(300_000)
    assert service.would_compute(inst)


def test_watched_hours_are_whole_and_shared_coverage_is_where_all_watched() -> None:
    ts = np.arange(6, dtype=np.int64) * HOUR_MS
    covered = [(0, 2 * HOUR_MS), (2 * HOUR_MS, 3 * HOUR_MS - 1), (4 * HOUR_MS - 5, 6 * HOUR_MS)]
    assert watched(covered, ts, HOUR_MS).tolist() == [True, True, False, False, True, True]
    assert watched([], ts, HOUR_MS).tolist() == [False] * 6
    assert watched_by_all([[(0, 10)], [(5, 20)], [(0, 8), (9, 30)]], 0, 30) == [(5, 8), (9, 10)]
    assert history_span(5 * HOUR_MS + 7, 10 * HOUR_MS, HOUR_MS, 3 * HOUR_MS) == (
        2 * HOUR_MS, 5 * HOUR_MS
    )  # fmt: skip
    assert history_span(10 * HOUR_MS, 4 * HOUR_MS + 1, HOUR_MS, HOUR_MS)[1] == 4 * HOUR_MS
