"""Schema migrations, applied in order; the file's ``PRAGMA user_version`` counts those done."""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database


def market_cache(db: Database) -> None:
    """Candles, open interest, and the time ranges already fetched for each series."""
    db.execute(
        """
        CREATE TABLE candles (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            step TEXT NOT NULL,
            ts INTEGER NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL,
            PRIMARY KEY (exchange, instrument, step, ts)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE open_interest (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            step TEXT NOT NULL,
            ts INTEGER NOT NULL,
            usd REAL NOT NULL,
            PRIMARY KEY (exchange, instrument, step, ts)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE fetched_ranges (
            exchange TEXT NOT NULL,
            instrument TEXT NOT NULL,
            series TEXT NOT NULL,
            step TEXT NOT NULL,
            start_ts INTEGER NOT NULL,
            end_ts INTEGER NOT NULL,
            PRIMARY KEY (exchange, instrument, series, step, start_ts)
        )
        """
    )


MIGRATIONS: list[Callable[[Database], None]] = [market_cache]
