"""Incremental refresh into the cache: fetch only what is missing, never half-write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jobs.market_sync import MarketWindow, sync_window
from liqmap.errors import ExchangeUnavailable, UnsupportedRequest
from liqmap.exchanges.market_data import MarketData
from liqmap.market.fetch_plan import oi_steps
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS
from liqmap.market.venues import Venue
from storage.database import open_database
from storage.market_cache import CANDLES, OPEN_INTEREST
from storage.stores import Stores
from tests.conftest import NOON, Adapter
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx, okx_error
from tests.fakes.tape import Tape

OI_PATH = "/api/v5/rubik/stat/contracts/open-interest-history"
DATA_PATHS = ("/api/v5/market/", OI_PATH)


pytestmark = pytest.mark.fixed_clock


def data_requests(okx: FakeOkx) -> int:
    return sum(okx.count(path) for path in DATA_PATHS)


async def test_first_fill_then_refreshes_fetch_only_what_is_new(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    inst = await market.instrument("BTC")
    first = await sync_window(market, stores, inst, "1d", "1m")
    assert len(first.candles) == 1440
    assert first.oi_step == "5m"
    assert len(first.open_interest) == 289
    assert first.candles.ts[-1] == first.end - MINUTE_MS

    okx.reset_log()
    again = await sync_window(market, stores, inst, "1d", "1m")
    assert data_requests(okx) <= 2
    assert np.array_equal(again.candles.close, first.candles.close)
    assert np.array_equal(again.open_interest.usd, first.open_interest.usd)

    clock.advance(5 * MINUTE_MS)
    okx.reset_log()
    later = await sync_window(market, stores, inst, "1d", "1m")
    assert okx.count("/api/v5/market/candles") == 1
    assert okx.count(OI_PATH) == 1
    assert data_requests(okx) == 2
    assert len(later.candles) == 1440
    assert later.candles.ts[-1] == first.candles.ts[-1] + 5 * MINUTE_MS
    assert later.open_interest.ts[-1] == first.open_interest.ts[-1] + 5 * MINUTE_MS
    assert np.array_equal(later.candles.close[:-5], first.candles.close[5:])


async def test_cached_data_matches_the_exchange(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("ETH")
    window = await sync_window(market, stores, inst, "1d", "15m")
    direct = await market.candles(inst, "15m", window.start, window.end)
    assert np.array_equal(window.candles.ts, direct.ts)
    for column in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(window.candles, column), getattr(direct, column))


async def test_a_wider_window_backfills_only_the_older_part(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("BTC")
    await sync_window(market, stores, inst, "1d", "5m")
    okx.reset_log()
    week = await sync_window(market, stores, inst, "7d", "5m")
    assert len(week.candles) == 7 * 288
    starts = [int(r.query["before"]) + 1 for r in okx.seen("/api/v5/market/")]
    assert max(starts) < week.end - DAY_MS, "the cached last day is not fetched again"
    assert week.oi_step == "1h", "OKX keeps 5m OI only 5 days: the coarser step serves 7d"


async def test_the_cache_keeps_what_the_exchange_forgets(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    inst = await market.instrument("BTC")
    first = await sync_window(market, stores, inst, "1d", "5m")
    for _ in range(6):  # a daily refresh for six days
        clock.advance(DAY_MS)
        await sync_window(market, stores, inst, "1d", "5m")
    okx.reset_log()
    week = await sync_window(market, stores, inst, "7d", "5m")
    # 5m OI older than 5 days is gone from OKX, yet the window is served at 5m from the cache
    assert week.oi_step == "5m"
    assert week.open_interest.ts[0] == first.start
    assert len(week.open_interest) == 7 * 288 + 1
    (asked,) = okx.seen(OI_PATH)  # only the period still running, which may yet change
    assert int(asked.query["begin"]) + 1 == week.open_interest.ts[-1]
    assert clock() - week.open_interest.ts[0] > 5 * DAY_MS


def oi_requests(okx: FakeOkx, period: str) -> list:
    return [r for r in okx.seen(OI_PATH) if r.query["period"] == period]


async def test_a_week_at_5m_falls_back_to_hourly_oi_when_okx_answers_short_and_says_so(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    inst = await market.instrument("BTC")
    week = await sync_window(market, stores, inst, "7d", "5m")
    assert week.oi_step == "1h"
    assert len(week.notes) == 1
    assert week.notes[0].startswith("okx has no 5m open interest of BTC-USDT-SWAP before ")
    assert week.notes[0].endswith("; using 1h open interest")
    (probe,) = oi_requests(okx, "5m")  # asked first, as OKX documents two retentions
    assert int(probe.query["begin"]) + 1 == week.start, "one page at the window's start"
    assert week.open_interest.ts[0] <= week.start + HOUR_MS

    clock.advance(HOUR_MS)
    okx.reset_log()
    again = await sync_window(market, stores, inst, "7d", "5m")
    assert again.oi_step == "1h" and again.notes == week.notes
    assert oi_requests(okx, "5m") == [], "what OKX lacks is not asked for again"
    assert len(oi_requests(okx, "1H")) == 1


async def test_what_okx_lacks_is_remembered_across_a_restart_for_a_day(
    okx: FakeOkx, adapter: Adapter, tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "restart.db"

    async def sync() -> MarketWindow:
        db = open_database(path)
        stores = Stores(db, clock)
        try:
            async with adapter(okx=okx.url) as market:
                inst = await market.instrument("BTC")
                return await sync_window(market, stores, inst, "7d", "5m")
        finally:
            stores.close()
            db.close()

    week = await sync()
    assert week.oi_step == "1h" and len(oi_requests(okx, "5m")) == 1
    clock.advance(HOUR_MS)
    okx.reset_log()
    again = await sync()  # a new adapter and stores over the same database
    assert again.oi_step == "1h" and again.notes == week.notes
    assert oi_requests(okx, "5m") == [], "what OKX lacks is not asked for again"

    clock.advance(DAY_MS)
    okx.reset_log()
    await sync()
    assert len(oi_requests(okx, "5m")) == 1, "after a day OKX is asked again"


async def test_a_week_at_5m_uses_5m_oi_where_okx_keeps_it(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    okx.oi_rows_kept = None  # the docs' other reading: history back to early 2024
    inst = await market.instrument("BTC")
    week = await sync_window(market, stores, inst, "7d", "5m")
    assert week.oi_step == "5m" and week.notes == ()
    assert len(week.open_interest) == 7 * 288 + 1
    assert oi_requests(okx, "1H") == []


async def test_a_refusal_falls_back_to_the_next_step(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("BTC")
    okx.inject(okx_error("51000", "Parameter begin error"), OI_PATH)
    week = await sync_window(market, stores, inst, "7d", "5m")
    assert week.oi_step == "1h"
    assert week.notes[0].startswith("okx refused 5m open interest from ")
    assert "Parameter begin error" in week.notes[0]
    assert len(week.open_interest) == 7 * 24 + 1


async def test_a_hole_later_in_the_window_is_not_a_refusal(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    inst = await market.instrument("BTC")
    await sync_window(market, stores, inst, "1d", "5m")
    clock.advance(3 * HOUR_MS)
    empty = Fault(200, '{"code":"0","msg":"","data":[]}', "application/json")
    okx.inject(empty, OI_PATH)  # OKX published nothing for those three hours
    window = await sync_window(market, stores, inst, "1d", "5m")
    assert window.oi_step == "5m" and window.notes == ()
    assert stores.cache.oi_floor(inst, "5m", 0) is None


async def test_the_newest_listing_maps_what_there_is_and_says_so(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    inst = await market.instrument("SOL")
    okx.tapes["SOL-USDT-SWAP"] = Tape(clock, price=150.0, history_ms=2 * DAY_MS)  # listed
    week = await sync_window(market, stores, inst, "7d", "1h")
    assert week.oi_step == "1d"
    assert [note.split(" before ")[0] for note in week.notes] == [
        "okx has no 1h open interest of SOL-USDT-SWAP",
        "okx has no 1d open interest of SOL-USDT-SWAP",
    ]
    assert week.notes[-1].endswith("; the map starts there")


async def test_a_daily_map_from_okx_uses_its_16_utc_open_interest(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    from jobs.on_demand.maps import compute_map

    inst = await market.instrument("BTC")
    month = await sync_window(market, stores, inst, "30d", "1d")
    assert month.oi_step == "1d" and len(month.candles) == 30
    assert {int(ts) % DAY_MS for ts in month.candles.ts} == {0}, "1Dutc candles: 00:00 UTC"
    assert {int(ts) % DAY_MS for ts in month.open_interest.ts} == {16 * HOUR_MS}
    snapshot = await compute_map(market, stores, inst, "30d", "1d")
    assert not snapshot.liq_map.is_empty


async def test_the_running_oi_period_is_fetched_again_once_it_has_closed(
    okx: FakeOkx, market: MarketData, stores: Stores, clock: Clock
) -> None:
    """OKX serves the 5m period still running with a figure that moves until it closes:
    a sync inside the period must not keep that figure as the period's final one."""
    inst = await market.instrument("BTC")
    clock.advance(3 * MINUTE_MS)  # 12:03:30, inside the 12:00 period
    running = await sync_window(market, stores, inst, "1d", "1m")
    period = int(running.open_interest.ts[-1])
    assert period == NOON - 30_000 and period + 5 * MINUTE_MS > clock()
    final = okx.tape("BTC-USDT-SWAP").open_interest(5 * MINUTE_MS, period, period + 1)[0][1]
    assert running.open_interest.usd[-1] != pytest.approx(final), "the fake's figure moves"

    clock.advance(5 * MINUTE_MS)  # 12:08:30: the 12:00 period has closed
    later = await sync_window(market, stores, inst, "1d", "1m")
    at = int(np.searchsorted(later.open_interest.ts, period))
    assert later.open_interest.ts[at] == period
    assert later.open_interest.usd[at] == pytest.approx(final)


async def test_a_failed_fetch_leaves_the_cache_consistent(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("BTC")
    okx.inject(Fault(503, "down"), OI_PATH, times=None)
    with pytest.raises(ExchangeUnavailable):
        await sync_window(market, stores, inst, "1d", "1m")
    # candles were complete and are kept with their coverage; OI left nothing behind
    assert len(stores.cache.covered(inst, CANDLES, "1m")) == 1
    assert stores.cache.covered(inst, OPEN_INTEREST, "5m") == []
    assert stores.cache.db.execute("SELECT count(*) FROM open_interest").fetchone()[0] == 0

    okx.clear_faults()
    okx.reset_log()
    window = await sync_window(market, stores, inst, "1d", "1m")
    assert okx.count("/api/v5/market/") == 0
    assert okx.count(OI_PATH) == 3
    assert len(window.open_interest) == 289


async def test_a_failure_mid_pagination_stores_nothing_of_that_range(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("BTC")
    okx.inject(Fault(500, "boom"), "/api/v5/market/history-candles", times=None, after=10)
    with pytest.raises(ExchangeUnavailable):
        await sync_window(market, stores, inst, "7d", "1m")
    assert stores.cache.db.execute("SELECT count(*) FROM candles").fetchone()[0] == 0
    assert stores.cache.covered(inst, CANDLES, "1m") == []


async def test_the_hourly_window_of_a_month(
    okx: FakeOkx, market: MarketData, stores: Stores
) -> None:
    inst = await market.instrument("SOL")
    window = await sync_window(market, stores, inst, "30d", "1h")
    assert len(window.candles) == 30 * 24
    assert window.oi_step == "1h"
    assert set(np.diff(window.open_interest.ts).tolist()) == {HOUR_MS}


@pytest.mark.parametrize(
    ("window", "step", "message"),
    [("2d", "1m", "window must be one of 1d, 7d, 30d, got '2d'"),
     ("1d", "2m", "step must be one of 1m, 5m, 15m, 30m, 1h, 4h, 1d, got '2m'")],
)  # fmt: skip
async def test_an_unsupported_window_or_step_is_refused_before_any_request(
    okx: FakeOkx, market: MarketData, stores: Stores, window: str, step: str, message: str
) -> None:
    inst = await market.instrument("BTC")
    okx.reset_log()
    with pytest.raises(UnsupportedRequest) as caught:
        await sync_window(market, stores, inst, window, step)
    assert str(caught.value) == message
    assert okx.count() == 0


def test_no_oi_step_can_serve_the_window() -> None:
    venue = Venue(
        name="tiny", ccxt_id="okx", rest_origin="", market_types=("swap",), candle_page=100,
        oi_page=100, oi_steps=("5m", "1h"), oi_retention_ms=DAY_MS,
    )  # fmt: skip
    with pytest.raises(UnsupportedRequest, match="tiny keeps no open-interest history at 1m"):
        oi_steps(venue, "1m", NOON - 7 * DAY_MS, NOON, lambda step: [])
    cached = [(NOON - 8 * DAY_MS, NOON - DAY_MS)]
    assert oi_steps(venue, "1m", NOON - 7 * DAY_MS, NOON, lambda step: cached) == ["5m", "1h"]
    assert oi_steps(venue, "15m", NOON - 7 * DAY_MS, NOON, lambda s: cached) == ["1h"]
