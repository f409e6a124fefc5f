"""The scanner inside ``liqmap run``: passes over the known Hyperliquid accounts, largest first,
within its weight budget, slowed by a rate limit without touching other venues, its data age
known and said when behind.

The fakes and the adapter run on the test's clock (``fixed_clock``); the scanner's pauses
move that clock instead of waiting, so a minute of budget is checked in virtual time as the
fake counts it (``FakeHyperliquid.charged``)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import pytest

from jobs.scheduled.scanner import FAILURES_IN_A_ROW, Scanner
from liqmap.market.instruments import Instrument
from liqmap.policies.request_gate import Urgency
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx

pytestmark = pytest.mark.fixed_clock

ANN = 1001
MINUTE_MS = 60_000
PERIOD_MS = 10 * MINUTE_MS


def watching(stores: Stores, key: str = "hyperliquid:BTC") -> None:
    stores.chats.seen(ANN, "private", None)
    stores.chats.subscribe(ANN, key, None)


def known(stores: Stores, notionals: dict[str, float]) -> None:
    """Addresses as discovery would leave them: known, with a notional, never read here."""
    for address, notional in notionals.items():
        stores.db.execute(
            "INSERT INTO scan_addresses (address, last_seen_ms, notional) VALUES (?, 0, ?) "
            "ON CONFLICT(address) DO UPDATE SET notional = excluded.notional",
            [address, notional],
        )


def moving(clock: Clock) -> Callable[[float], object]:
    """A pause that moves the test's clock instead of waiting."""

    async def sleep(seconds: float) -> None:
        clock.advance(round(seconds * 1000))
        await asyncio.sleep(0)

    return sleep


def users_read(fake: FakeHyperliquid) -> list[str]:
    bodies = [json.loads(r.body) for r in fake.seen("/info")]
    return [b["user"] for b in bodies if b.get("type") == "clearinghouseState"]


async def test_a_pass_reads_the_known_accounts_largest_first_and_records_itself(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    addresses = hyperliquid.open_accounts(5, seed=3)
    sizes = dict(zip(addresses, [3e5, 9e6, 1e4, 5e5, 7e6], strict=True))
    known(stores, sizes)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, PERIOD_MS, sleep=moving(clock))
        assert await scanner.run() is None, "no chat watches a Hyperliquid instrument"
        assert users_read(hyperliquid) == []
        watching(stores, "okx:BTC")
        assert await scanner.run() is None, "an OKX subscription does not start the scanner"
        watching(stores)
        report = await scanner.run()
    assert report is not None
    assert users_read(hyperliquid) == sorted(addresses, key=lambda a: -sizes[a])
    assert (report.accounts, report.failed, report.weight) == (5, 0, 10)
    last = stores.positions.last_pass()
    assert last is not None and last.id == report.pass_id
    assert (last.accounts, last.failed, last.weight) == (5, 0, 10.0)
    assert last.finished_ms is not None and last.finished_ms >= last.started_ms
    assert stores.positions.open_pass() is None
    held = {k.position.address for k in stores.positions.positions()}
    assert held == set(addresses)
    assert not any(k.stale for k in stores.positions.positions())


async def test_the_scanner_spends_at_most_its_budget_in_any_minute_reads_weighing_two(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    known(stores, dict.fromkeys(hyperliquid.open_accounts(700, seed=5), 100000.0))
    watching(stores)
    started = clock()
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, 3 * PERIOD_MS, 600, moving(clock))
        report = await scanner.run()
        assert market.weight_spent[("hyperliquid", Urgency.SCAN)] == 2 * 700
        assert market.rate_limited["hyperliquid"] == 0
    assert report is not None and report.accounts == 700
    assert hyperliquid.most_weight_in_a_minute("clearinghouseState") <= 600
    took = clock() - started
    # 700 reads of weight 2 at 600 a minute take 699 gaps of 200 ms; paced like weight-20
    # requests they would take ten times that
    assert 699 * 200 <= took <= 700 * 200 + 1_000


async def test_a_pass_reads_at_most_its_share_and_a_position_it_missed_turns_stale(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    a, b, c = hyperliquid.open_accounts(3, seed=8)
    known(stores, {a: 3e6, b: 2e6, c: 1e6})
    watching(stores)
    period_ms = 500  # 600 a minute for 0.8 of 0.5 s: two reads a pass
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, period_ms, 600, moving(clock))
        assert scanner.per_pass == 2
        first = await scanner.run()
        assert first is not None and first.accounts == 2
        known(stores, {c: 1e12})  # c has grown: it is the largest now
        second = await scanner.run()
    assert second is not None
    reads = users_read(hyperliquid)
    assert reads[:2] == [a, b] and reads[2] == c and reads[3] in (a, b)
    (missed,) = {a, b} - {reads[3]}
    stale = {k.position.address: k.stale for k in stores.positions.positions()}
    assert stale == {a: a == missed, b: b == missed, c: False}


async def test_an_account_that_keeps_failing_is_skipped_and_the_pass_goes_on(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from tests.fakes.http import Fault

    first, second = hyperliquid.open_accounts(2, seed=9)
    known(stores, {first: 2e6, second: 1e6})
    watching(stores)
    hyperliquid.inject(Fault(502, "bad gateway"), "/info", times=4)  # every try of the first
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, PERIOD_MS, sleep=moving(clock))
        with caplog.at_level(logging.WARNING):
            report = await scanner.run()
    assert report is not None and (report.accounts, report.failed) == (1, 1)
    assert report.weight == 2 * 5, "four tries of the first account, one of the second"
    assert {k.position.address for k in stores.positions.positions()} == {second}
    assert f"scanner: {first} skipped this pass" in caplog.text
    last = stores.positions.last_pass()
    assert last is not None and last.failed == 1


async def test_a_rate_limit_slows_the_scanner_and_an_okx_call_still_starts_at_once(
    hyperliquid: FakeHyperliquid, okx: FakeOkx, adapter: Adapter, stores: Stores, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    hyperliquid.weight_limit = 40  # twenty reads a minute; the scanner's budget is 300 reads
    known(stores, dict.fromkeys(hyperliquid.open_accounts(60, seed=11), 100000.0))
    watching(stores)
    okx_during_backoff: list[int] = []

    async with adapter(hyperliquid=hyperliquid.url, okx=okx.url) as market:
        okx_btc: Instrument = await market.instrument("okx:BTC")
        scanner = Scanner(market, stores, clock, MINUTE_MS, 600)
        pause = moving(clock)

        async def backing_off(seconds: float) -> None:
            if scanner.budget.slowed and not okx_during_backoff:
                before = okx.count()
                prices = await market.prices([okx_btc])  # while the scanner waits
                assert okx_btc.key in prices
                okx_during_backoff.append(okx.count() - before)
            await pause(seconds)

        scanner.sleep = backing_off
        with caplog.at_level(logging.WARNING):
            report = await scanner.run()
        assert okx_during_backoff == [1], "one OKX request, answered while the scanner backs off"
        assert market.rate_limited == {"hyperliquid": market.rate_limited["hyperliquid"]}
        assert market.errors["okx"] == 0
    assert report is not None and report.failed > 0 and report.accounts > 0
    assert scanner.budget.rate < 600
    assert "Hyperliquid answered a rate limit; slowing to 300 weight a minute" in caplog.text
    assert f"scanner behind: pass {report.pass_id} took" in caplog.text, "longer than a minute"
    assert hyperliquid.most_weight_in_a_minute() <= 40


async def test_a_late_scanner_says_in_the_log_how_old_its_data_is(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    known(stores, dict.fromkeys(hyperliquid.open_accounts(2, seed=12), 100000.0))
    watching(stores)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, PERIOD_MS, sleep=moving(clock))
        await scanner.run()
        clock.advance(35 * MINUTE_MS)
        with caplog.at_level(logging.WARNING):
            await scanner.run()
    assert "scanner behind: the positions are 35.0 min old (a pass is due every 10.0 min)" in (
        caplog.text
    )


async def test_stopping_the_jobs_cancels_a_pass_under_way_which_stays_unfinished(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock
) -> None:
    from jobs.on_demand.maps import MapService
    from jobs.scheduled.alert_jobs import AlertJobs
    from jobs.scheduled.delivery import Delivery

    known(stores, dict.fromkeys(hyperliquid.open_accounts(3, seed=14), 100000.0))
    watching(stores)
    waiting = asyncio.Event()

    async def forever(seconds: float) -> None:
        waiting.set()
        await asyncio.Event().wait()

    class NoSender:
        async def send(
            self, chat_id: int, alert: object, chart: object, *topic: object
        ) -> str | None:
            raise AssertionError("nothing to deliver")

    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, PERIOD_MS, sleep=forever)
        maps = MapService(market, stores, 300_000, clock)
        delivery = Delivery(stores, NoSender(), clock)
        jobs = AlertJobs(market, stores, maps, delivery, clock, 300.0, scanner=scanner)
        running = asyncio.create_task(jobs.scan())
        await asyncio.wait_for(waiting.wait(), 5)
        await jobs.stop(0)
        assert running.cancelled()
    cut = stores.positions.open_pass()
    assert cut is not None and stores.positions.last_pass() is None
    assert len(users_read(hyperliquid)) == 1


async def test_a_pass_ends_early_when_hyperliquid_keeps_failing(
    hyperliquid: FakeHyperliquid, adapter: Adapter, stores: Stores, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from tests.fakes.http import Fault

    known(stores, dict.fromkeys(hyperliquid.open_accounts(12, seed=15), 1e5))
    watching(stores)
    hyperliquid.inject(Fault(503, "down"), "/info", times=None)
    async with adapter(hyperliquid=hyperliquid.url) as market:
        scanner = Scanner(market, stores, clock, PERIOD_MS, sleep=moving(clock))
        with caplog.at_level(logging.WARNING):
            report = await scanner.run()
    assert report is not None and (report.accounts, report.failed) == (0, FAILURES_IN_A_ROW)
    assert f"pass {report.pass_id} ends early, 5 accounts in a row failed; 7 not read" in (
        caplog.text
    )
    assert hyperliquid.count("/info") == 4 * FAILURES_IN_A_ROW, "four tries each, no more"
    last = stores.positions.last_pass()
    assert last is not None and last.failed == FAILURES_IN_A_ROW
