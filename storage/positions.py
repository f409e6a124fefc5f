"""Hyperliquid accounts and their open positions, as the scanner last read them.

A pass is one round over some addresses (``begin_pass``); a position not read again by the
latest pass is stale when loaded, since its account may have closed or moved it since.
Addresses are also found before any scan (``discovered``: on trades, on the leaderboard), each
with where it was found first, when it was last seen and a size: the notional a scan read,
else the largest size its sources gave.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from sqlite_utils import Database

from liqmap.market.positions import AccountRead, KnownPosition, Position
from liqmap.market.scan_passes import ScanPass

Source = Literal["given", "trades", "leaderboard"]
"""Where an address was found: named to ``liqmap scan``, on a trade, on the leaderboard."""
SOURCES: tuple[Source, ...] = ("given", "trades", "leaderboard")
Seen = tuple[str, int, float]
"""An address found, when (ms), and the size its source gave (USD; 0 for none)."""

COLUMNS = (
    "address, coin, side, size, entry, leverage, mode, margin, value, liquidation, read_ms, pass_id"
)
PASS_COLUMNS = "id, started_ms, finished_ms, accounts, skipped, failed, weight"


class PositionStore:
    """``scan_addresses``, ``scan_passes`` and ``scan_positions``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin_pass(self, now_ms: int) -> int:
        """Start a pass; its number, larger than every earlier one's."""
        with self.db.atomic():
            cursor = self.db.execute("INSERT INTO scan_passes (started_ms) VALUES (?)", [now_ms])
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def finish_pass(
        self, pass_id: int, now_ms: int, accounts: int, skipped: int, failed: int, weight: float
    ) -> None:
        """Record what pass ``pass_id`` did, finished at ``now_ms``."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE scan_passes SET finished_ms = ?, accounts = ?, skipped = ?, failed = ?, "
                "weight = ? WHERE id = ?",
                [now_ms, accounts, skipped, failed, weight, pass_id],
            )

    def last_pass(self) -> ScanPass | None:
        """The latest finished pass, None before any."""
        row = self.db.execute(
            f"SELECT {PASS_COLUMNS} FROM scan_passes WHERE finished_ms IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else ScanPass(*row)

    def open_pass(self) -> ScanPass | None:
        """The latest pass begun after the latest finished one and not finished (running, or
        cut off by a stop), None if there is none."""
        row = self.db.execute(
            f"SELECT {PASS_COLUMNS} FROM scan_passes WHERE finished_ms IS NULL AND id > "
            "(SELECT COALESCE(MAX(id), 0) FROM scan_passes WHERE finished_ms IS NOT NULL) "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else ScanPass(*row)

    def save(self, read: AccountRead, pass_id: int) -> None:
        """An account as just read: its positions replace the ones stored (a coin it no
        longer holds is dropped), its address is seen with its notional."""
        rows = [_row(p, pass_id) for p in read.positions]
        with self.db.atomic():
            self.db.execute("DELETE FROM scan_positions WHERE address = ?", [read.address])
            self.db.conn.executemany(
                f"INSERT INTO scan_positions ({COLUMNS}) VALUES ({', '.join('?' * 12)})", rows
            )
            self.db.execute(
                "INSERT INTO scan_addresses (address, last_seen_ms, notional, scanned_ms) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET "
                "last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms), "
                "notional = excluded.notional, scanned_ms = excluded.scanned_ms",
                [read.address, read.read_ms, read.notional, read.read_ms],
            )

    def discovered(self, seen: Iterable[Seen], source: Source) -> int:
        """Addresses found by ``source``, in one transaction: a new one is stored with its
        size; a known one is seen again (its last seen time only moves forward) and, until
        a scan has read it, keeps the largest size given. How many were new."""
        rows = [
            (address, seen_ms, size if math.isfinite(size) and size > 0 else 0.0, source)
            for address, seen_ms, size in seen
        ]
        if not rows:
            return 0
        with self.db.atomic():
            before = self.db.execute("SELECT COUNT(*) FROM scan_addresses").fetchone()[0]
            self.db.conn.executemany(
                "INSERT INTO scan_addresses (address, last_seen_ms, notional, source) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET "
                "last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms), "
                "notional = CASE WHEN scanned_ms IS NULL "
                "THEN MAX(notional, excluded.notional) ELSE notional END",
                rows,
            )
            after = self.db.execute("SELECT COUNT(*) FROM scan_addresses").fetchone()[0]
        return int(after - before)

    def largest(self, limit: int) -> list[str]:
        """The ``limit`` largest addresses known (by notional; the last seen first among
        equals)."""
        rows = self.db.execute(
            "SELECT address FROM scan_addresses ORDER BY notional DESC, last_seen_ms DESC, "
            "address LIMIT ?",
            [limit],
        ).fetchall()
        return [row[0] for row in rows]

    def sources(self) -> dict[Source, int]:
        """How many addresses are known by where they were found first."""
        counts = dict(
            self.db.execute("SELECT source, COUNT(*) FROM scan_addresses GROUP BY source")
        )
        return {source: int(counts.get(source, 0)) for source in SOURCES}

    def largest_first(self, addresses: Iterable[str]) -> list[str]:
        """``addresses`` without repeats, those known by their last notional, largest first,
        then the unknown in the order given."""
        wanted = list(dict.fromkeys(addresses))
        known = dict(self.db.execute("SELECT address, notional FROM scan_addresses").fetchall())
        return sorted(wanted, key=lambda a: -known[a] if a in known else 0.0)

    def positions(self, coin: str | None = None) -> list[KnownPosition]:
        """The positions stored (of ``coin``, if given), stale where the latest finished pass
        did not read them (a pass still running leaves them as they were)."""
        latest = (
            self.db.execute(
                "SELECT MAX(id) FROM scan_passes WHERE finished_ms IS NOT NULL"
            ).fetchone()[0]
            or 0
        )
        where, args = ("WHERE coin = ?", [coin]) if coin is not None else ("", [])
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM scan_positions {where} ORDER BY coin, address", args
        ).fetchall()
        return [KnownPosition(Position(*row[:11]), row[11], row[11] < latest) for row in rows]

    def version(self, coin: str) -> tuple[int, int, float, float]:
        """What changes whenever ``positions(coin)`` would answer differently: the latest
        finished pass (stale flags), and the coin's count of positions, the sum of their read
        times (a save re-reads an account later than before) and of their values. Cheap: no
        row leaves SQLite."""
        latest = (
            self.db.execute(
                "SELECT MAX(id) FROM scan_passes WHERE finished_ms IS NOT NULL"
            ).fetchone()[0]
            or 0
        )
        count, reads, values = self.db.execute(
            "SELECT count(*), total(read_ms), total(value) FROM scan_positions WHERE coin = ?",
            [coin],
        ).fetchone()
        return int(latest), int(count), float(reads), float(values)


def _row(p: Position, pass_id: int) -> tuple[object, ...]:
    return (p.address, p.coin, p.side, p.size, p.entry, p.leverage, p.mode, p.margin, p.value,
            p.liquidation, p.read_ms, pass_id)  # fmt: skip
