"""The scanner of real positions inside ``liqmap run``: while a chat watches an instrument of
a venue whose positions are public (Hyperliquid), passes over the known accounts, largest
first, reading each one's ``clearinghouseState`` and storing its positions.

The scanner keeps to its own weight budget (``WeightBudget``, at most half of Hyperliquid's
documented 1200 a minute) on top of the request gate, where its reads wait behind every other
call (``Urgency.SCAN``). A rate limit answered by Hyperliquid halves its pace, which comes
back a tenth of the budget per quiet minute; nothing else is slowed or sped up by it. An
account that cannot be read (after the exchange retry policy) is skipped for the pass and
logged; five in a row end the pass early. Each pass records what it did, so the age of the
data is known (``scan_age``), and says so in the log when it falls behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from liqmap.errors import LiqmapError
from liqmap.exchanges.market_data import MarketData
from liqmap.market.request_weights import LIGHT_WEIGHT, SCAN_WEIGHT_PER_MINUTE
from liqmap.market.scan_passes import scan_age
from liqmap.market.venues import VENUES
from liqmap.policies.request_gate import CLAIM, Claim, Urgency
from liqmap.policies.weight_budget import WeightBudget
from storage.stores import Stores

log = logging.getLogger(__name__)

SCANNED_VENUE = "hyperliquid"
MAX_ACCOUNTS_PER_PASS = 5000
PASS_SHARE = 0.8
"""A pass reads at most the accounts its budget reads in this share of its period, so it
ends before the next is due."""
SCANNER = Claim(Urgency.SCAN, "scanner")
FAILURES_IN_A_ROW = 5
"""A pass ends early once this many accounts in a row failed (each after the retry policy):
Hyperliquid is down or refusing, and the rest would fail alike, each after its retries."""


@dataclass(frozen=True)
class PassReport:
    """One pass: its number, the accounts read, the positions skipped as malformed, the
    accounts that failed, the weight spent and how long it took."""

    pass_id: int
    accounts: int
    skipped: int
    failed: int
    weight: float
    duration_ms: int


class Scanner:
    """Passes over the known Hyperliquid accounts, one every ``period_ms``, at most
    ``weight_per_minute`` request weight a minute."""

    def __init__(
        self,
        market: MarketData,
        stores: Stores,
        clock: Callable[[], int],
        period_ms: int,
        weight_per_minute: float = SCAN_WEIGHT_PER_MINUTE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.market = market
        self.stores = stores
        self.clock = clock
        self.period_ms = period_ms
        self.budget = WeightBudget(weight_per_minute)
        self.sleep = sleep

    @property
    def per_pass(self) -> int:
        """The accounts one pass reads at most: what the budget reads in ``PASS_SHARE`` of the
        period, at least one, at most ``MAX_ACCOUNTS_PER_PASS``."""
        minutes = self.period_ms / 60_000
        fits = int(self.budget.per_minute * minutes * PASS_SHARE / LIGHT_WEIGHT)
        return max(1, min(MAX_ACCOUNTS_PER_PASS, fits))

    async def run(self) -> PassReport | None:
        """One pass, largest accounts first, if a chat watches a Hyperliquid instrument and
        accounts are known; None otherwise."""
        stores = self.stores
        watched = await stores.run(stores.chats.watched_instruments)
        if not any(_positions_public(key) for key in watched):
            return None
        addresses = await stores.run(stores.positions.largest, self.per_pass)
        if not addresses:
            log.info("scanner: no Hyperliquid accounts known yet")
            return None
        await self._say_if_behind()
        token = CLAIM.set(SCANNER)
        try:
            return await self._pass(addresses)
        finally:
            CLAIM.reset(token)

    async def _pass(self, addresses: list[str]) -> PassReport:
        stores, market = self.stores, self.market
        started = self.clock()
        pass_id = await stores.run(stores.positions.begin_pass, started)
        accounts = skipped = failed = in_a_row = 0
        weight = 0.0
        for address in addresses:
            if in_a_row >= FAILURES_IN_A_ROW:
                log.warning(
                    "scanner: pass %d ends early, %d accounts in a row failed; %d not read",
                    pass_id, in_a_row, len(addresses) - accounts - failed,
                )  # fmt: skip
                break
            wait_ms = self.budget.wait_ms(self.clock(), LIGHT_WEIGHT)
            if wait_ms > 0:
                await self.sleep(wait_ms / 1000)
            read_at = self.clock()
            spent_before = market.weight_spent[(SCANNED_VENUE, Urgency.SCAN)]
            limited_before = market.rate_limited[SCANNED_VENUE]
            try:
                read = await market.account(address)
                await stores.run(stores.positions.save, read, pass_id)
                accounts += 1
                skipped += read.skipped
                in_a_row = 0
            except LiqmapError as exc:
                failed += 1
                in_a_row += 1
                log.warning("scanner: %s skipped this pass: %s", address, exc)
            except Exception:
                failed += 1
                in_a_row += 1
                log.exception("scanner: %s skipped this pass after an unexpected error", address)
            spent = market.weight_spent[(SCANNED_VENUE, Urgency.SCAN)] - spent_before
            weight += spent
            self.budget.spent(read_at, spent)
            if market.rate_limited[SCANNED_VENUE] > limited_before:
                self.budget.rate_limited(self.clock())
                log.warning(
                    "scanner: Hyperliquid answered a rate limit; slowing to %.0f weight a minute",
                    self.budget.rate,
                )
        finished = self.clock()
        await stores.run(
            stores.positions.finish_pass, pass_id, finished, accounts, skipped, failed, weight
        )
        report = PassReport(pass_id, accounts, skipped, failed, weight, finished - started)
        self._log(report)
        return report

    async def _say_if_behind(self) -> None:
        """Log how old the scanned positions are when the latest finished pass is late."""
        stores = self.stores
        last = await stores.run(stores.positions.last_pass)
        age = scan_age(last, None, self.clock(), self.period_ms)
        if age.behind and age.data_ms is not None:
            log.warning(
                "scanner behind: the positions are %s old (a pass is due every %s)",
                _length(age.data_ms), _length(self.period_ms),
            )  # fmt: skip

    def _log(self, report: PassReport) -> None:
        per_minute = report.weight * 60_000 / max(report.duration_ms, 1)
        log.info(
            "scan pass %d: %d accounts read in %s, %d positions skipped, %d failed; "
            "weight %.0f (%.0f a minute, budget %.0f, pace now %.0f)",
            report.pass_id, report.accounts, _length(report.duration_ms), report.skipped,
            report.failed, report.weight, per_minute, self.budget.per_minute, self.budget.rate,
        )  # fmt: skip
        if report.duration_ms > self.period_ms:
            log.warning(
                "scanner behind: pass %d took %s, longer than its period of %s; its first "
                "positions are that old",
                report.pass_id, _length(report.duration_ms), _length(self.period_ms),
            )  # fmt: skip


def _positions_public(key: str) -> bool:
    venue = VENUES.get(key.partition(":")[0])
    return venue is not None and venue.positions_public


def _length(ms: int) -> str:
    """``42 s``, ``4.2 min``, ``3.5 h``."""
    if ms < 60_000:
        return f"{ms / 1000:.0f} s"
    return f"{ms / 60_000:.1f} min" if ms < 3_600_000 else f"{ms / 3_600_000:.1f} h"
