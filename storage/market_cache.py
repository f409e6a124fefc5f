"""The market-data cache: candles and open interest per (exchange, instrument, step, ts).

Every write stores rows together with the time range they cover, in one transaction, so
the cache is never half-written and knows exactly what it still lacks.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlite_utils import Database

from liqmap.engine.ranges import Range, merge
from liqmap.engine.series import Candles, OpenInterest
from liqmap.market.instruments import Instrument
from liqmap.market.timeframes import floor_to, step_ms

CANDLES = "candles"
OPEN_INTEREST = "open_interest"
_COLUMNS = {
    CANDLES: ("ts", "open", "high", "low", "close", "volume"),
    OPEN_INTEREST: ("ts", "usd"),
}


class MarketCache:
    """Read and write cached market data in a liqmap database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def covered(self, inst: Instrument, series: str, step: str) -> list[Range]:
        """Time ranges of ``series`` already fetched, merged and sorted."""
        rows = self.db.execute(
            "SELECT start_ts, end_ts FROM fetched_ranges "
            "WHERE exchange = ? AND instrument = ? AND series = ? AND step = ?",
            [inst.exchange, inst.native_id, series, step],
        ).fetchall()
        return merge((int(a), int(b)) for a, b in rows)

    def store_candles(self, inst: Instrument, step: str, candles: Candles, span: Range) -> None:
        self._store(inst, CANDLES, step, candles.rows(), span)

    def store_open_interest(
        self, inst: Instrument, step: str, oi: OpenInterest, span: Range
    ) -> None:
        self._store(inst, OPEN_INTEREST, step, oi.rows(), span)

    def oi_floor(self, inst: Instrument, step: str, learned_since_ms: int) -> int | None:
        """Where the exchange's OI history of ``inst`` at ``step`` starts, if learned since
        ``learned_since_ms``."""
        row = self.db.execute(
            "SELECT floor_ts FROM oi_floors WHERE exchange = ? AND instrument = ? AND step = ? "
            "AND learned_at >= ?",
            [inst.exchange, inst.native_id, step, learned_since_ms],
        ).fetchone()
        return int(row[0]) if row else None

    def learn_oi_floor(self, inst: Instrument, step: str, floor_ms: int, now_ms: int) -> None:
        """Remember that the exchange serves OI of ``inst`` at ``step`` only from ``floor_ms``."""
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO oi_floors (exchange, instrument, step, floor_ts, "
                "learned_at) VALUES (?, ?, ?, ?, ?)",
                [inst.exchange, inst.native_id, step, floor_ms, now_ms],
            )

    def candles(self, inst: Instrument, step: str, start: int, end: int) -> Candles:
        """Cached candles with open time in ``[start, end)``."""
        return Candles.from_rows(step_ms(step), self._rows(inst, CANDLES, step, start, end))

    def open_interest(self, inst: Instrument, step: str, start: int, end: int) -> OpenInterest:
        """Cached open interest with time in ``[start, end)``."""
        rows = self._rows(inst, OPEN_INTEREST, step, start, end)
        return OpenInterest.from_rows(step_ms(step), rows)

    def prune(self, series: str, now_ms: int, horizon_ms_by_step: Mapping[str, int]) -> int:
        """Delete ``series`` rows older than ``now - horizon`` of their step, and the coverage of
        that time, in one transaction; how many rows went. Steps not in the table are kept.

        The cutoff is floored to the step; a fetched range straddling it then starts there, so
        the cache never claims a deleted row and a later sync asks again for that part only.
        """
        cutoffs = {
            step: floor_to(now_ms - horizon, step_ms(step))
            for step, horizon in horizon_ms_by_step.items()
        }
        deleted = 0
        with self.db.atomic():
            for exchange, instrument, step in self._keys(series):
                if step in cutoffs:
                    deleted += self.db.execute(
                        f"DELETE FROM {series} WHERE exchange = ? AND instrument = ? "
                        "AND step = ? AND ts < ?",
                        [exchange, instrument, step, cutoffs[step]],
                    ).rowcount
            for step, cutoff in cutoffs.items():
                where = "series = ? AND step = ?"
                self.db.execute(
                    f"DELETE FROM fetched_ranges WHERE {where} AND end_ts <= ?",
                    [series, step, cutoff],
                )
                self.db.execute(
                    f"UPDATE fetched_ranges SET start_ts = ? WHERE {where} AND start_ts < ?",
                    [cutoff, series, step, cutoff],
                )
        return deleted

    def _keys(self, series: str) -> list[tuple[str, str, str]]:
        """Every (exchange, instrument, step) of ``series``, one primary-key seek each."""
        select = f"SELECT exchange, instrument, step FROM {series}"
        first = "ORDER BY exchange, instrument, step LIMIT 1"
        keys: list[tuple[str, str, str]] = []
        row = self.db.execute(f"{select} {first}").fetchone()
        while row is not None:
            keys.append(tuple(row))
            after = "WHERE (exchange, instrument, step) > (?, ?, ?)"
            row = self.db.execute(f"{select} {after} {first}", row).fetchone()
        return keys

    def _rows(self, inst: Instrument, series: str, step: str, start: int, end: int) -> list:
        columns = ", ".join(_COLUMNS[series])
        return self.db.execute(
            f"SELECT {columns} FROM {series} WHERE exchange = ? AND instrument = ? "
            "AND step = ? AND ts >= ? AND ts < ? ORDER BY ts",
            [inst.exchange, inst.native_id, step, start, end],
        ).fetchall()

    def _store(
        self, inst: Instrument, series: str, step: str, rows: list[tuple], span: Range
    ) -> None:
        key = {"exchange": inst.exchange, "instrument": inst.native_id, "step": step}
        records = [key | dict(zip(_COLUMNS[series], row, strict=True)) for row in rows]
        with self.db.atomic():
            if records:
                self.db.table(series).insert_all(records, replace=True, batch_size=5000)
            ranges = merge([*self.covered(inst, series, step), span])
            where = "exchange = ? AND instrument = ? AND series = ? AND step = ?"
            self.db.execute(
                f"DELETE FROM fetched_ranges WHERE {where}",
                [inst.exchange, inst.native_id, series, step],
            )
            self.db.table("fetched_ranges").insert_all(
                key | {"series": series, "start_ts": start, "end_ts": end} for start, end in ranges
            )
