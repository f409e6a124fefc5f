"""Recorded liquidations: each event once, coverage written with its events, pruning."""

from __future__ import annotations

import numpy as np
import pytest
from sqlite_utils import Database

from liqmap.engine.realized import Realized, covered_share, per_candle, unique, usd_between
from storage.liquidations import RealizedStore

H = 3_600_000


def event(ts: int, side: str = "long", price: float = 60_000.0, amount: float = 0.5) -> Realized:
    return Realized("okx", "BTC-USDT-SWAP", side, price, amount, price * amount, ts)


def test_a_batch_is_stored_once_however_often_it_arrives(db: Database) -> None:
    store = RealizedStore(db)
    batch = [event(1_000), event(2_000, "short", 61_000), event(2_000, "long", 59_000)]
    assert store.record("okx", ["BTC-USDT-SWAP"], batch, (0, 5_000)) == 3
    assert store.record("okx", ["BTC-USDT-SWAP"], batch[1:], (5_000, 9_000)) == 0, "replayed"
    rows = store.between("okx", "BTC-USDT-SWAP", 0, 10_000)
    assert set(rows) == set(batch) and [r.ts for r in rows] == [1_000, 2_000, 2_000]
    assert store.covered("okx", "BTC-USDT-SWAP") == [(0, 9_000)], "spans join"


def test_gaps_in_watching_stay_gaps(db: Database) -> None:
    store = RealizedStore(db)
    store.record("okx", ["BTC-USDT-SWAP", "ETH-USDT-SWAP"], [], (0, H))
    store.record("okx", ["BTC-USDT-SWAP"], [event(2 * H + 5)], (2 * H, 3 * H))
    assert store.covered("okx", "BTC-USDT-SWAP") == [(0, H), (2 * H, 3 * H)]
    assert store.covered("okx", "ETH-USDT-SWAP") == [(0, H)]
    assert covered_share(store.covered("okx", "BTC-USDT-SWAP"), 0, 4 * H) == pytest.approx(0.5)
    (btc, eth) = store.streams()
    assert (btc.instrument, btc.events, btc.last_event_ts, btc.watched_until) == (
        "BTC-USDT-SWAP", 1, 2 * H + 5, 3 * H
    )  # fmt: skip
    assert (eth.events, eth.usd, eth.last_event_ts) == (0, 0, None)


def test_prune_drops_old_events_and_cuts_the_watched_time_with_them(db: Database) -> None:
    store = RealizedStore(db)
    store.record("okx", ["BTC-USDT-SWAP"], [event(10), event(H + 10)], (0, 2 * H))
    store.record("okx", ["BTC-USDT-SWAP"], [], (3 * H, 4 * H))
    assert store.prune(H) == 1
    assert [r.ts for r in store.between("okx", "BTC-USDT-SWAP", 0, 5 * H)] == [H + 10]
    assert store.covered("okx", "BTC-USDT-SWAP") == [(H, 2 * H), (3 * H, 4 * H)]
    assert store.prune(2 * H) == 1
    assert store.covered("okx", "BTC-USDT-SWAP") == [(3 * H, 4 * H)]


def test_sums_by_band_time_and_candle() -> None:
    rows = unique([event(5), event(5), event(H + 1, "short", 62_000, 1.0), event(2 * H, "long")])
    assert len(rows) == 3, "the repeated event counts once"
    assert usd_between(rows, "long", 59_000, 60_000, 0, H) == 30_000
    assert usd_between(rows, "long", 60_001, 70_000, 0, 3 * H) == 0, "outside the band"
    assert usd_between(rows, "short", 0, 1e9, 0, H) == 0, "outside the time"
    candles = per_candle(rows, np.array([0, H]), H)
    assert candles.long_usd.tolist() == [30_000, 0], "the 2h event is after the last candle"
    assert candles.short_usd.tolist() == [0, 62_000]


def test_a_side_must_be_long_or_short() -> None:
    with pytest.raises(ValueError, match="side"):
        event(0, side="buy")
