"""Retention: old cache rows, maps, finished alerts and orphan states go; the cache stays true."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlite_utils import Database

from jobs.market_sync import sync_window
from jobs.scheduled.retention import (
    MARGIN_MS,
    REALIZED_AGE_MS,
    RetentionReport,
    horizons,
    prune_storage,
)
from liqmap.engine.model import LiquidationMap
from liqmap.engine.ranges import missing
from liqmap.engine.realized import Realized
from liqmap.engine.series import Candles, OpenInterest
from liqmap.engine.snapshot import MapSnapshot
from liqmap.evaluation.live_accuracy import HISTORY
from liqmap.exchanges.market_data import MarketData
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_to, step_ms, window_ms
from liqmap.signals.proximity import Alert, Watch
from liqmap.signals.receipts import SETTLE_MS, Receipt
from storage.alerts import AlertStore, Checked
from storage.chats import ChatStore
from storage.liquidations import RealizedStore
from storage.market_cache import CANDLES, OPEN_INTEREST, MarketCache
from storage.outbox import Outbox
from storage.snapshots import SnapshotStore
from storage.stores import Stores
from storage.sweeps import SweepStore, add_sweep
from tests.conftest import NOON
from tests.fakes.clock import Clock

BTC = Instrument("okx", "BTC/USDT:USDT", "BTC-USDT-SWAP", "BTC", "USDT", "USDT", 0.01, True, "swap")
ETH = Instrument("okx", "ETH/USDT:USDT", "ETH-USDT-SWAP", "ETH", "USDT", "USDT", 0.1, True, "swap")
EMPTY_MAP = LiquidationMap(
    100.0, 0, np.linspace(75, 125, 501), np.zeros((5, 500)), np.zeros((5, 500))
)


def store(
    cache: MarketCache, inst: Instrument, series: str, step: str, start: int, end: int
) -> None:
    """A row every step in ``[start, end)``, stored as fetched over that range."""
    length = step_ms(step)
    ts = range(start, end, length)
    if series == CANDLES:
        rows = [[t, 100, 101, 99, 100.5, 1.0] for t in ts]
        cache.store_candles(inst, step, Candles.from_rows(length, rows), (start, end))
    else:
        oi = OpenInterest.from_rows(length, [[t, 1e8] for t in ts])
        cache.store_open_interest(inst, step, oi, (start, end))


def stamps(cache: MarketCache, inst: Instrument, series: str, step: str) -> list[int]:
    read = cache.candles if series == CANDLES else cache.open_interest
    return read(inst, step, 0, 2**62).ts.tolist()


def test_horizons_are_the_longest_window_of_each_default_step_plus_a_day() -> None:
    table = horizons()
    month = 31 * DAY_MS
    assert table[CANDLES] == {"1m": 2 * DAY_MS, "5m": 8 * DAY_MS, "15m": month, "30m": month,
                              "1h": month, "4h": month, "1d": month}  # fmt: skip
    assert table[OPEN_INTEREST] == table[CANDLES] | {"1m": month}, (
        "OI of a step serves the same windows; 1m OI is recorded here (Hyperliquid) and kept "
        "for the longest window"
    )


@pytest.mark.parametrize(
    ("series", "step", "days"),
    [(CANDLES, "1m", 2), (CANDLES, "5m", 8), (CANDLES, "15m", 31), (CANDLES, "1h", 31),
     (OPEN_INTEREST, "1m", 31), (OPEN_INTEREST, "5m", 8), (OPEN_INTEREST, "1h", 31),
     (OPEN_INTEREST, "1d", 31)],
)  # fmt: skip
def test_rows_older_than_their_steps_horizon_go_newer_ones_stay(
    db: Database, series: str, step: str, days: int
) -> None:
    cache, length = MarketCache(db), step_ms(step)
    end = floor_to(NOON, length)
    start = end - (days + 3) * DAY_MS
    for inst in (BTC, ETH):
        store(cache, inst, series, step, start, end)
    deleted = cache.prune(series, NOON, horizons()[series])
    cutoff = floor_to(NOON - days * DAY_MS, length)
    for inst in (BTC, ETH):
        assert stamps(cache, inst, series, step) == list(range(cutoff, end, length))
        assert cache.covered(inst, series, step) == [(cutoff, end)]
    assert deleted == 2 * (cutoff - start) // length


def test_steps_and_series_not_in_the_table_are_kept(db: Database) -> None:
    cache = MarketCache(db)
    end = floor_to(NOON, DAY_MS)
    for series in (CANDLES, OPEN_INTEREST):
        for step in ("1m", "5m"):
            store(cache, BTC, series, step, end - 5 * DAY_MS, end)
    assert cache.prune(CANDLES, end, {"1m": DAY_MS}) == 4 * 1440
    assert stamps(cache, BTC, CANDLES, "1m")[0] == end - DAY_MS
    assert stamps(cache, BTC, CANDLES, "5m")[0] == end - 5 * DAY_MS
    for step in ("1m", "5m"):
        assert stamps(cache, BTC, OPEN_INTEREST, step)[0] == end - 5 * DAY_MS
        assert cache.covered(BTC, OPEN_INTEREST, step) == [(end - 5 * DAY_MS, end)]


def test_coverage_is_trimmed_so_the_cache_asks_again_only_for_the_pruned_part(
    db: Database,
) -> None:
    cache = MarketCache(db)
    end = floor_to(NOON, MINUTE_MS)
    older = (end - 5 * DAY_MS, end - 4 * DAY_MS)
    straddling = (end - 3 * DAY_MS, end - DAY_MS)
    recent = (end - 12 * HOUR_MS, end)
    for span in (older, straddling, recent):
        store(cache, BTC, CANDLES, "1m", *span)

    cache.prune(CANDLES, NOON, {"1m": 2 * DAY_MS})
    cutoff = end - 2 * DAY_MS
    covered = cache.covered(BTC, CANDLES, "1m")
    assert covered == [(cutoff, end - DAY_MS), recent]
    for lo, hi in covered:  # the coverage claims no deleted row
        assert len(cache.candles(BTC, "1m", lo, hi)) == (hi - lo) // MINUTE_MS
    assert len(cache.candles(BTC, "1m", 0, cutoff)) == 0
    # a window reaching into the pruned part lacks exactly that part (and the gap it had)
    assert missing(covered, end - 3 * DAY_MS, end) == [
        (end - 3 * DAY_MS, cutoff), (end - DAY_MS, end - 12 * HOUR_MS)
    ]  # fmt: skip
    assert missing(covered, end - 2 * DAY_MS, end - DAY_MS) == []


@pytest.mark.fixed_clock
async def test_after_pruning_a_sync_fetches_the_pruned_part_again_and_only_that(
    market: MarketData, stores: Stores, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    inst = await market.instrument("BTC")
    first = await sync_window(market, stores, inst, "1d", "1m")
    await stores.run(stores.cache.prune, CANDLES, clock(), {"1m": 12 * HOUR_MS})
    cutoff = floor_to(clock() - 12 * HOUR_MS, MINUTE_MS)
    assert len(stores.cache.candles(inst, "1m", first.start, first.end)) == 720

    asked: list[tuple[int, int]] = []
    fetch = market.candles

    async def candles(inst: Instrument, step: str, start: int, end: int, **kw: object) -> Candles:
        asked.append((start, end))
        return await fetch(inst, step, start, end, **kw)

    monkeypatch.setattr(market, "candles", candles)
    again = await sync_window(market, stores, inst, "1d", "1m")
    assert asked == [(first.start, cutoff)]
    assert np.array_equal(again.candles.ts, first.candles.ts)
    assert np.array_equal(again.candles.close, first.candles.close)


def save_map(snapshots: SnapshotStore, instrument: str, at: int) -> int:
    return snapshots.save(instrument, MapSnapshot("X", "okx", "7d", "5m", EMPTY_MAP, []), at).id


def alert(instrument: str) -> Alert:
    return Alert("approach", instrument, "BTC", "okx", "long", 99, 99.5, 1e7, 3.0, 100.0, None,
                 0.5, False, "7d")  # fmt: skip


def queue(db: Database, at: int, chat_id: int, instrument: str, snapshot_id: int | None) -> int:
    """One alert recorded at ``at``; its outbox row id."""
    AlertStore(db, lambda: at).record(
        instrument, [Checked(chat_id, Watch(), [alert(instrument)])], snapshot_id, 15 * MINUTE_MS
    )
    return int(db.execute("SELECT max(id) FROM outbox").fetchone()[0])


def test_maps_not_refreshed_for_a_week_go_unless_a_pending_alert_needs_them(db: Database) -> None:
    snapshots = SnapshotStore(db)
    stale = [save_map(snapshots, "okx:ETH-USDT-SWAP", NOON - 9 * DAY_MS + i) for i in range(3)]
    fresh = save_map(snapshots, "okx:BTC-USDT-SWAP", NOON - HOUR_MS)
    queue(db, NOON - 9 * DAY_MS, 1, "okx:ETH-USDT-SWAP", stale[0])
    sent = queue(db, NOON - 9 * DAY_MS, 1, "okx:ETH-USDT-SWAP", stale[1])
    Outbox(db).mark_sent(sent, NOON - 9 * DAY_MS)
    assert snapshots.prune_before(NOON - 7 * DAY_MS) == 2
    assert snapshots.by_id(stale[0]) is not None, "its alert is still pending"
    assert snapshots.by_id(fresh) is not None
    assert snapshots.by_id(stale[1]) is None and snapshots.by_id(stale[2]) is None


def test_finished_alerts_go_after_a_week_pending_ones_stay(db: Database) -> None:
    outbox = Outbox(db)
    old = [queue(db, NOON - 8 * DAY_MS, 1, "okx:BTC-USDT-SWAP", None) for _ in range(4)]
    outbox.mark_sent(old[0], NOON - 8 * DAY_MS)
    outbox.fail(old[1], "Forbidden: bot was blocked by the user")
    outbox.expire(old[2])
    recent = queue(db, NOON - 6 * DAY_MS, 1, "okx:BTC-USDT-SWAP", None)
    outbox.mark_sent(recent, NOON - 6 * DAY_MS)
    assert outbox.prune(NOON - 7 * DAY_MS) == 3
    assert outbox.counts() == {"pending": 1, "sent": 1}


def test_detector_states_of_subscriptions_that_are_gone_go(db: Database) -> None:
    chats = ChatStore(db, lambda: NOON)
    for chat_id in (1, 2):
        chats.seen(chat_id, "private", None)
        chats.subscribe(chat_id, "okx:BTC-USDT-SWAP", None)
    chats.subscribe(1, "okx:ETH-USDT-SWAP", None)
    states = AlertStore(db, lambda: NOON)
    for instrument in ("okx:BTC-USDT-SWAP", "okx:ETH-USDT-SWAP"):
        states.record(instrument, [Checked(1, Watch(), []), Checked(2, Watch(), [])], None, 1)
    chats.unsubscribe(1, "okx:ETH-USDT-SWAP")
    assert states.forget_unsubscribed() == 2
    assert set(states.watches("okx:BTC-USDT-SWAP")) == {1, 2}
    assert states.watches("okx:ETH-USDT-SWAP") == {}


def test_prune_storage_prunes_every_table_and_logs_one_line(
    db: Database, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    cache, snapshots = MarketCache(db), SnapshotStore(db)
    now = floor_to(NOON, DAY_MS)
    store(cache, BTC, CANDLES, "1m", now - 3 * DAY_MS, now)
    store(cache, BTC, OPEN_INTEREST, "1h", now - 32 * DAY_MS, now)
    for at in range(5):
        save_map(snapshots, "okx:BTC-USDT-SWAP", now - at)
    save_map(snapshots, "okx:ETH-USDT-SWAP", now - 8 * DAY_MS)
    Outbox(db).mark_sent(queue(db, now - 8 * DAY_MS, 1, "okx:BTC-USDT-SWAP", None), now)
    recorded = [liquidation(now - days * DAY_MS) for days in (40, 32, 30)]
    RealizedStore(db).record("okx", ["BTC-USDT-SWAP"], recorded, (now - 40 * DAY_MS, now))
    settle_sweep(db, now - 32 * DAY_MS)
    settle_sweep(db, now - 30 * DAY_MS)
    for age in (8 * DAY_MS, 6 * DAY_MS):
        db.execute("INSERT INTO digests VALUES (1, ?, 0)", [day_of(now - age)])

    with caplog.at_level(logging.INFO, logger="jobs.scheduled.retention"):
        report = prune_storage(stores, now)
    assert report == RetentionReport(
        candles=1440,
        open_interest=24,
        snapshots=2,
        outbox=1,
        alert_state=1,
        realized=2,
        sweeps=1,
        digests=1,
    )
    assert [r.getMessage() for r in caplog.records] == [
        "retention pruned 1440 candles, 24 open-interest rows, 2 maps, 1 outbox rows, "
        "1 alert states, 2 recorded liquidations, 1 sweep receipts, 1 digest marks, "
        "0 webhook deliveries"
    ]
    assert prune_storage(stores, now) == RetentionReport(0, 0, 0, 0, 0, 0, 0, 0)
    marks = [row[0] for row in db.execute("SELECT day FROM digests ORDER BY day")]
    assert marks == [day_of(now - 6 * DAY_MS)], "a digest mark guards its day, a week at most"
    assert SweepStore(db).hit_rate(["okx:BTC-USDT-SWAP"]).swept == 1, "the recent one stays"


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def settle_sweep(db: Database, at: int) -> None:
    """A swept cluster alerted at ``at``, its receipt settled (and queued) then."""
    alert = Alert("swept", "okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "long", 59_000.0,
                  59_500.0, 1e7, 3.0, 58_900.0, 59_600.0, 0.0, False, "7d")  # fmt: skip
    add_sweep(db, 1, alert, at - SETTLE_MS)
    store = SweepStore(db)
    for sweep_id, sweep in store.due(at):
        store.settle(sweep_id, sweep, Receipt(1.0, 2.0, 0.1, 1.0, ("okx",), ()), True, False,
                     at, 900_000)  # fmt: skip


def liquidation(ts: int) -> Realized:
    return Realized("okx", "BTC-USDT-SWAP", "long", 60_000.0, 0.5, 30_000.0, ts)


def test_recorded_liquidations_are_kept_as_long_as_the_longest_window_and_a_day(
    db: Database, stores: Stores
) -> None:
    store, now = RealizedStore(db), NOON
    assert REALIZED_AGE_MS == 31 * DAY_MS
    assert window_ms(HISTORY) + MARGIN_MS <= REALIZED_AGE_MS, "live accuracy's month stays"
    ages = (45 * DAY_MS, 31 * DAY_MS + 1, 31 * DAY_MS, 30 * DAY_MS, HOUR_MS)
    store.record("okx", ["BTC-USDT-SWAP"], [liquidation(now - age) for age in ages],
                 (now - 45 * DAY_MS, now - 35 * DAY_MS))  # fmt: skip
    store.record("okx", ["BTC-USDT-SWAP"], [], (now - 33 * DAY_MS, now))
    assert prune_storage(stores, now).realized == 2
    kept = store.between("okx", "BTC-USDT-SWAP", 0, now + 1)
    assert [now - r.ts for r in kept] == [31 * DAY_MS, 30 * DAY_MS, HOUR_MS]
    assert store.covered("okx", "BTC-USDT-SWAP") == [(now - 31 * DAY_MS, now)]


def counts(db: Database) -> dict[str, int]:
    tables = ("candles", "open_interest", "fetched_ranges", "snapshots", "outbox", "alert_state",
              "realized", "recorded_spans")  # fmt: skip
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_a_daily_prune_keeps_the_database_bounded_over_forty_days(
    db: Database, stores: Stores
) -> None:
    """A day's data written day by day on a fake clock, pruned each midnight: once the longest
    horizon (31 days) has passed, every table holds the same count day after day."""
    cache, snapshots, outbox = MarketCache(db), SnapshotStore(db), Outbox(db)
    realized = RealizedStore(db)
    chats = ChatStore(db, lambda: 0)
    chats.seen(1, "private", None)
    chats.subscribe(1, "okx:BTC-USDT-SWAP", None)
    start = floor_to(NOON, DAY_MS) - 40 * DAY_MS
    held = None
    by_day: dict[int, dict[str, int]] = {}
    for day in range(1, 41):
        midnight = start + day * DAY_MS
        for step, series in (("1m", CANDLES), ("5m", CANDLES), ("15m", CANDLES),
                             ("5m", OPEN_INTEREST), ("1h", OPEN_INTEREST)):  # fmt: skip
            store(cache, BTC, series, step, midnight - DAY_MS, midnight)
        for hour in range(0, 24, 6):
            save_map(snapshots, "okx:BTC-USDT-SWAP", midnight - DAY_MS + hour * HOUR_MS)
            snapshots.prune()
        if day <= 3:  # ETH is mapped for three days, then no more
            eth = save_map(snapshots, "okx:ETH-USDT-SWAP", midnight - HOUR_MS)
            row = queue(db, midnight - HOUR_MS, 1, "okx:ETH-USDT-SWAP", eth)
            held = held or eth  # its first alert stays pending (say the chat's delivery is down)
            if eth != held:
                outbox.mark_sent(row, midnight - HOUR_MS)
        outbox.mark_sent(queue(db, midnight - HOUR_MS, 1, "okx:BTC-USDT-SWAP", None), midnight)
        day_of = [liquidation(midnight - DAY_MS + h * HOUR_MS) for h in range(24)]
        realized.record("okx", ["BTC-USDT-SWAP"], day_of, (midnight - DAY_MS, midnight))
        prune_storage(stores, midnight)
        by_day[day] = counts(db)

    assert by_day[32] == by_day[40]
    assert by_day[40] == {
        "candles": 2 * 1440 + 8 * 288 + 31 * 96,
        "open_interest": 8 * 288 + 31 * 24,  # 5m OI serves 7d maps at most, 1h OI 30d
        "fetched_ranges": 5,
        "snapshots": 4 + 1,  # BTC's latest four, and the map ETH's pending alert needs
        "outbox": 7 + 1,
        "alert_state": 1,
        "realized": 31 * 24,  # an event an hour, kept 31 days
        "recorded_spans": 1,
    }
    assert snapshots.by_id(held) is not None
