"""The map budgets in the database: what a restart takes up, and nothing a minute old."""

from __future__ import annotations

from sqlite_utils import Database

from liqmap.policies.fair_use import Bucket
from storage.budgets import BudgetStore

NOW = 1_800_000_000_000


def test_saved_buckets_load_back_and_the_latest_charge_wins(db: Database) -> None:
    store = BudgetStore(db)
    store.save([Bucket("chat:1", 5.0, NOW), Bucket("service", 19.0, NOW)], NOW)
    store.save([Bucket("chat:1", 4.0, NOW + 1_000), Bucket("user:-7", 5.5, NOW + 1_000)], NOW)
    assert sorted(store.load(NOW + 2_000), key=lambda b: b.key) == [
        Bucket("chat:1", 4.0, NOW + 1_000),
        Bucket("service", 19.0, NOW),
        Bucket("user:-7", 5.5, NOW + 1_000),
    ]


def test_a_bucket_a_minute_old_is_full_again_so_it_is_neither_loaded_nor_kept(
    db: Database,
) -> None:
    store = BudgetStore(db)
    store.save([Bucket("chat:1", 0.0, NOW), Bucket("chat:2", 0.0, NOW + 30_000)], NOW)
    assert [b.key for b in store.load(NOW + 60_000)] == ["chat:2"]
    store.save([Bucket("chat:3", 1.0, NOW + 60_000)], NOW + 60_000)
    assert db.execute("SELECT key FROM map_budgets ORDER BY key").fetchall() == [
        ("chat:2",),
        ("chat:3",),
    ]
