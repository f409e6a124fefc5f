"""Swept clusters awaiting their receipt, and the receipts made: written with the alert that
named the sweep, settled together with the queued follow-up, so each goes out once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict

from sqlite_utils import Database

from liqmap.signals.proximity import RECEIPT, Alert
from liqmap.signals.receipts import HitRate, Receipt, Sweep
from storage.outbox import enqueue, receipt_from

PENDING, DONE = "pending", "done"


def add_sweep(db: Database, chat_id: int, alert: Alert, now_ms: int) -> None:
    """Remember a swept-cluster alert for its receipt; call inside the caller's transaction."""
    sweep = Sweep(
        chat_id, alert.instrument, alert.label, alert.source, alert.side, alert.low, alert.high,
        alert.usd, alert.price, now_ms, alert.alerted_at, alert.silent, alert.window,
    )  # fmt: skip
    db.execute(
        "INSERT INTO sweeps (chat_id, instrument, payload, due_at) VALUES (?, ?, ?, ?)",
        [chat_id, alert.instrument, json.dumps(asdict(sweep)), sweep.due_ms],
    )


class SweepStore:
    """Due sweeps, their settling, and how alerted clusters fared."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def due(self, now_ms: int, limit: int = 500) -> list[tuple[int, Sweep]]:
        rows = self.db.execute(
            "SELECT id, payload FROM sweeps WHERE state = ? AND due_at <= ? ORDER BY id LIMIT ?",
            [PENDING, now_ms, limit],
        ).fetchall()
        return [(row_id, Sweep(**json.loads(payload))) for row_id, payload in rows]

    def last_receipt_at(self, chat_id: int, instrument: str) -> int | None:
        """When ``chat_id`` was last sent a receipt about ``instrument``."""
        row = self.db.execute(
            "SELECT max(settled_at) FROM sweeps WHERE chat_id = ? AND instrument = ? AND queued",
            [chat_id, instrument],
        ).fetchone()
        return row[0]

    def settle(
        self,
        sweep_id: int,
        sweep: Sweep,
        receipt: Receipt,
        queue: bool,
        silent: bool,
        now_ms: int,
        ttl_ms: int,
    ) -> bool:
        """Keep ``receipt`` and, if ``queue``, put the follow-up in the outbox, in one
        transaction; False when the sweep was settled already."""
        with self.db.atomic():
            settled = self.db.execute(
                "UPDATE sweeps SET state = ?, receipt = ?, queued = ?, settled_at = ? "
                "WHERE id = ? AND state = ?",
                [DONE, json.dumps(asdict(receipt)), int(queue), now_ms, sweep_id, PENDING],
            ).rowcount
            if settled and queue:
                follow_up = _follow_up(sweep, receipt, silent)
                enqueue(self.db, sweep.chat_id, sweep.instrument, follow_up, None, now_ms, ttl_ms)
        return bool(settled)

    def hit_rate(self, instruments: Iterable[str], since_ms: int = 0) -> HitRate:
        """Settled sweeps of ``instruments`` since ``since_ms``, each cluster counted once
        however many chats it alerted."""
        keys = list(instruments)
        marks = ", ".join("?" for _ in keys)
        rows = self.db.execute(
            f"SELECT payload, receipt FROM sweeps WHERE state = ? AND instrument IN ({marks}) "
            "AND due_at >= ? ORDER BY id",
            [DONE, *keys, since_ms],
        ).fetchall()
        clusters: dict[tuple, tuple[Sweep, Receipt]] = {}
        for payload, receipt in rows:
            sweep = Sweep(**json.loads(payload))
            key = (sweep.instrument, sweep.side, sweep.low, sweep.high)
            clusters.setdefault(key, (sweep, receipt_from(json.loads(receipt))))
        judged = [r for _, r in clusters.values() if r.judged]
        times = [s.swept_at for s, _ in clusters.values()]
        return HitRate(
            len(clusters),
            len(judged),
            sum(r.hit for r in judged),
            min(times, default=None),
            max(times, default=None),
        )

    def prune(self, before_ms: int) -> int:
        """Delete settled sweeps older than ``before_ms``; how many went."""
        with self.db.atomic():
            return self.db.execute(
                "DELETE FROM sweeps WHERE state = ? AND due_at < ?", [DONE, before_ms]
            ).rowcount


def _follow_up(sweep: Sweep, receipt: Receipt, silent: bool) -> Alert:
    return Alert(
        kind=RECEIPT, instrument=sweep.instrument, label=sweep.label, source=sweep.source,
        side=sweep.side, low=sweep.low, high=sweep.high, usd=sweep.usd, strength=0.0,
        price=sweep.price, previous_price=None, distance_pct=0.0, silent=silent,
        window=sweep.window, alerted_at=sweep.alerted_at, receipt=receipt,
    )  # fmt: skip
