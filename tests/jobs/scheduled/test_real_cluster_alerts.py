"""Alerts on real clusters (Hyperliquid's public positions): the same detector, hysteresis,
cooldown and outbox as the estimate's, with a memory of their own, so each real cluster alerts
exactly once, across checks and restarts, and apart from an estimated cluster at its price."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlite_utils import Database

from jobs.on_demand.real_layer import stored_positions
from liqmap.engine.clusters import Cluster
from liqmap.engine.real_layer import bin_real, real_clusters
from liqmap.market.timeframes import MINUTE_MS
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import ALERT_WINDOW
from storage.stores import Stores
from tests.fakes.hyperliquid import FakePosition, liquidation_price, maintenance_rate
from tests.fakes.telegram import FakeTelegram
from tests.support.alert_world import ANN, BOB, HyperliquidWorld, alert_jobs, captions

pytestmark = pytest.mark.fixed_clock

KEY = "hyperliquid:BTC"
WHALE = "0x" + "ab" * 20


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def follow(world: HyperliquidWorld, chat: int, real: bool = True, cooldown: int = 0) -> None:
    stores = world.stores
    stores.chats.seen(chat, "private", None)
    stores.chats.save_settings(chat, ChatSettings(cooldown_minutes=cooldown))
    stores.chats.subscribe(chat, KEY, None)
    stores.real_alerts.set(chat, KEY, real)


async def scanned(world: HyperliquidWorld, *whales: FakePosition, refreshes: int = 2) -> None:
    """Background accounts and ``whales`` (one account each) read and stored in one pass,
    then ``refreshes`` half an hour apart: the map stands on that many OI snapshots."""
    fake = world.hyperliquid
    addresses = fake.open_accounts(30)
    mark = fake.tape("BTC").last_price()
    for index, whale in enumerate(whales):
        address = f"0x{index:02x}" + "ab" * 19
        fake.accounts[address] = [replace(whale, entry=mark)]
        addresses.append(address)
    pass_id = world.stores.positions.begin_pass(world.clock())
    for address in addresses:
        world.stores.positions.save(await world.market.account(address), pass_id)
    await world.jobs.refresh()
    for _ in range(refreshes - 1):
        world.clock.advance(30 * MINUTE_MS)
        assert await world.jobs.refresh() == 1


async def real_target(world: HyperliquidWorld, liquidation: float) -> Cluster:
    """The real cluster holding ``liquidation``, as the watch job finds it at today's price."""
    stores = world.stores
    inst = await world.market.instrument(KEY)
    stored = stores.snapshots.latest(KEY, ALERT_WINDOW)
    held = await stored_positions(stores, inst, world.clock())
    assert stored is not None and held is not None
    layer = bin_real(stored.snapshot.liq_map.edges, held.levels, held.coverage)
    clusters = real_clusters(layer, stored.snapshot.price, world.clock())
    (cluster,) = [c for c in clusters if c.low <= liquidation < c.high]
    return cluster


def whale(leverage: int, size: float = 40.0, long: bool = True) -> FakePosition:
    """A position entered at the mark (``scanned`` sets the entry)."""
    return FakePosition("BTC", size if long else -size, 0.0, leverage, "isolated")


def liquidation_of(world: HyperliquidWorld, address: str) -> float:
    (position,) = [
        k.position for k in world.stores.positions.positions("BTC") if k.position.address == address
    ]
    assert position.liquidation is not None
    return position.liquidation


def outbox(db: Database, layer: str) -> list[dict]:
    rows = db.execute("SELECT chat_id, payload FROM outbox ORDER BY id").fetchall()
    alerts = [dict(json.loads(payload), chat=chat) for chat, payload in rows]
    return [a for a in alerts if a.get("layer", "estimate") == layer]


def price(world: HyperliquidWorld, value: float) -> None:
    world.hyperliquid.tape("BTC").set_price(value)


async def test_a_real_cluster_alerts_once_through_the_outbox_and_not_again_after_a_restart(
    hyperliquid_world: HyperliquidWorld, tg: FakeTelegram, stores: Stores, db: Database
) -> None:
    world = hyperliquid_world
    follow(world, ANN)
    follow(world, BOB, real=False)
    await scanned(world, whale(20))
    cluster = await real_target(world, liquidation_of(world, "0x00" + "ab" * 19))
    price(world, cluster.high * 1.006)
    await world.jobs.watch()
    (alert,) = outbox(db, "real")
    assert alert["chat"] == ANN and alert["kind"] == "approach"
    assert (alert["low"], alert["high"]) == (cluster.low, cluster.high)
    assert alert["positions"] >= 1 and alert["coverage"] is not None
    lines = [row[0] for row in db.execute("SELECT text FROM outbox WHERE chat_id = ?", [ANN])]
    assert sum(line.startswith("approach real BTC long ") for line in lines) == 1, "logged real"
    assert (await world.jobs.deliver()).sent >= 1
    text = next(t for t in captions(tg, ANN) if "real LONG" in t)
    assert text.startswith("🔻🐋 BTC (hyperliquid) is near a real LONG liquidation cluster")
    assert f"{alert['positions']} position" in text and "of open interest" in text
    assert "0.60% away" in text
    assert not [t for t in captions(tg, BOB) if "real" in t], "Bob did not ask for real ones"

    price(world, cluster.high * 1.004)  # lingering: the detector remembers it
    await world.jobs.watch()
    assert len(outbox(db, "real")) == 1

    # a restart: the jobs and stores rebuilt on the same database
    again = Stores(db, world.clock)
    try:
        async with alert_jobs({"hyperliquid": world.hyperliquid.url}, tg, again, world.clock,
                              []) as (jobs, _):  # fmt: skip
            price(world, cluster.high * 1.003)
            await jobs.watch()
            assert len(outbox(db, "real")) == 1
            assert (await jobs.deliver()).sent == 0
    finally:
        again.close()
    assert sum("real LONG" in t for t in captions(tg, ANN)) == 1


async def test_an_estimated_and_a_real_cluster_at_one_price_are_two_alerts_each_once(
    hyperliquid_world: HyperliquidWorld, db: Database
) -> None:
    world = hyperliquid_world
    follow(world, ANN)
    await scanned(world, refreshes=8)
    snapshot = world.stores.snapshots.latest(KEY, ALERT_WINDOW).snapshot
    dense = [c for c in snapshot.clusters if c.strength >= 2.0]
    assert dense, "the map has a dense cluster"
    nearest = min(dense, key=lambda c: abs(c.distance_pct))
    # a whale liquidating inside the estimated cluster: both layers have a cluster there
    long = nearest.side == "long"
    middle = (nearest.low + nearest.high) / 2
    perp = next(p for p in world.hyperliquid.perps if p.name == "BTC")
    entry = middle / liquidation_price(1.0, 20, long, maintenance_rate(perp))
    world.hyperliquid.accounts[WHALE] = [FakePosition("BTC", 30.0 if long else -30.0, entry,
                                                      20, "isolated")]  # fmt: skip
    read = await world.market.account(WHALE)
    world.stores.positions.save(read, world.stores.positions.begin_pass(world.clock()))
    real = await real_target(world, liquidation_of(world, WHALE))
    assert real.overlaps(nearest)
    edge = max(real.high, nearest.high) if long else min(real.low, nearest.low)
    for step in (0.004, 0.003):
        price(world, edge * (1 + step if long else 1 - step))
        await world.jobs.watch()
    estimated_alerts = [a["low"] for a in outbox(db, "estimate") if a["kind"] == "approach"]
    real_alerts = [a["low"] for a in outbox(db, "real") if a["kind"] == "approach"]
    assert estimated_alerts.count(nearest.low) == 1, "the estimated cluster, once"
    assert real_alerts.count(real.low) == 1, "the real one at its price, once more"


async def test_the_cooldown_holds_a_second_real_cluster_until_it_ends(
    hyperliquid_world: HyperliquidWorld, db: Database
) -> None:
    world = hyperliquid_world
    follow(world, ANN, cooldown=10)
    near, far = whale(20), whale(15, size=60.0)
    await scanned(world, near, far)
    first = await real_target(world, liquidation_of(world, "0x00" + "ab" * 19))
    second = await real_target(world, liquidation_of(world, "0x01" + "ab" * 19))
    assert second.high < first.low, "20x liquidates nearer than 15x"
    price(world, first.high * 1.004)
    await world.jobs.watch()
    price(world, second.high * 1.004)  # through the first, toward the second
    await world.jobs.watch()
    kinds = [(a["kind"], a["low"]) for a in outbox(db, "real")]
    assert ("approach", first.low) in kinds and ("swept", first.low) in kinds
    assert ("approach", second.low) not in kinds, "within the cooldown"
    world.clock.advance(11 * MINUTE_MS)
    await world.jobs.watch()
    kinds = [(a["kind"], a["low"]) for a in outbox(db, "real")]
    assert kinds.count(("approach", second.low)) == 1
    await world.jobs.watch()
    assert [(a["kind"], a["low"]) for a in outbox(db, "real")] == kinds, "and once"


async def test_a_position_the_latest_pass_missed_raises_no_alert_until_read_again(
    hyperliquid_world: HyperliquidWorld, db: Database
) -> None:
    world = hyperliquid_world
    follow(world, ANN)
    await scanned(world, whale(20, size=80.0))
    address = "0x00" + "ab" * 19
    cluster = await real_target(world, liquidation_of(world, address))
    positions = world.stores.positions
    others = {k.position.address for k in positions.positions()} - {address}
    later = positions.begin_pass(world.clock())
    for other in others:
        positions.save(await world.market.account(other), later)
    positions.finish_pass(later, world.clock(), len(others), 0, 0, 2.0 * len(others))
    price(world, cluster.high * 1.004)
    await world.jobs.watch()
    assert not [a for a in outbox(db, "real") if a["low"] <= cluster.high and
                cluster.low <= a["high"]], "stale: maybe closed"  # fmt: skip
    positions.save(await world.market.account(address), later)  # read again in this pass
    await world.jobs.watch()
    assert [a["kind"] for a in outbox(db, "real") if a["low"] == cluster.low] == ["approach"]
