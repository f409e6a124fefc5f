"""Sweep receipts: what was recorded in a swept cluster's band, judged a hit when the band
took more than its share of the price range (the jobs' side is in test_alert_jobs)."""

from __future__ import annotations

import pytest

from liqmap.engine.realized import Realized
from liqmap.signals.receipts import LOOKBACK_MS, SETTLE_MS, Sweep, receipt_for

MIN = 60_000
ANN = 1001


def sweep(alerted_at: int | None = 1_000 * MIN) -> Sweep:
    return Sweep(ANN, "okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "long", 62_200.0, 63_548.0,
                 149e6, 61_900.0, 1_010 * MIN, alerted_at, False, "7d")  # fmt: skip


def liq(price: float, usd: float, minute: int, side: str = "long") -> Realized:
    return Realized("okx", "BTC-USDT-SWAP", side, price, usd / price, usd, minute * MIN)


def test_a_band_that_took_more_than_its_share_of_the_range_is_a_hit() -> None:
    rows = [
        *(liq(63_000, 8e6, 1_005), liq(62_500, 4e6, 1_011), liq(61_000, 3e6, 1_012)),
        *(liq(60_000, 5e6, 999), liq(63_000, 9e6, 1_016), liq(63_100, 7e6, 1_006, "short")),
    ]
    receipt = receipt_for(sweep(), rows, 1.0, ("okx",), ())
    assert receipt.recorded_usd == 12e6, "in the band, from the approach until settled"
    assert receipt.side_usd == 15e6, "before the approach, after settling and shorts left out"
    assert receipt.band_share == pytest.approx((63_548 - 62_200) / (63_548 - 61_000))
    assert receipt.share == pytest.approx(0.8) and receipt.judged and receipt.hit
    rows = [liq(63_000, 0.5e6, 1_005), liq(50_000, 9.5e6, 1_005)]
    spread = receipt_for(sweep(), rows, 1.0, (), ())
    assert spread.judged and not spread.hit, "5% of the USD in 10% of the range: a miss"


def test_a_sweep_partly_watched_or_without_liquidations_is_not_judged() -> None:
    assert not receipt_for(sweep(), [liq(63_000, 8e6, 1_005)], 0.6, ("okx",), ()).judged
    assert not receipt_for(sweep(), [], 1.0, ("okx",), ()).judged
    never_approached = sweep(alerted_at=None)
    assert never_approached.start_ms == never_approached.swept_at - LOOKBACK_MS
    assert never_approached.due_ms == never_approached.swept_at + SETTLE_MS


def test_a_sweep_whose_liquidations_all_fell_in_the_band_is_a_hit() -> None:
    receipt = receipt_for(sweep(), [liq(63_000, 5e6, 1_005)], 1.0, ("okx",), ())
    assert receipt.share == 1.0
    assert receipt.band_share == pytest.approx((63_548 - 62_200) / (63_548 - 61_900))
    assert receipt.hit, "the price that swept it widens the range beyond the band"
