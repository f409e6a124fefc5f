"""Building alerts in the refresh job: opted-in chats get one alert, once, through the outbox."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liqmap.signals.proximity import ALERT_WINDOW
from storage.growing_clusters import BuildingStore
from tests.support.alert_world import ANN, BOB, BTC, World, captions

pytestmark = pytest.mark.fixed_clock
REFRESH_MS = 300_000


def opt_in(world: World, chat: int) -> None:
    BuildingStore(world.chats.db, world.clock).set(chat, BTC, True)


def halved_before(world: World) -> None:
    """Store a map one refresh older than the latest, where the clusters within 2.5% of price
    (the fake's short at 2%) were half as large."""
    latest = world.snapshots.latest(BTC, ALERT_WINDOW)
    clusters = [
        replace(c, usd=c.usd / 2) if abs(c.distance_pct) < 2.5 else c
        for c in latest.snapshot.clusters
    ]
    older = replace(latest.snapshot, clusters=clusters)
    world.snapshots.save(BTC, older, latest.computed_at - REFRESH_MS)


async def test_a_building_cluster_alerts_the_opted_in_chat_once(world: World) -> None:
    world.subscribe(ANN)
    world.subscribe(BOB)
    opt_in(world, ANN)
    assert await world.jobs.refresh() == 1
    assert world.outbox.pending() == 0  # one map: nothing to compare yet
    halved_before(world)
    world.clock.advance(REFRESH_MS)
    await world.jobs.refresh()
    assert world.outbox.pending() == 1
    assert (await world.jobs.deliver()).sent == 1
    (text,) = captions(world.tg, ANN)
    assert text.startswith("📈 BTC-USDT-SWAP (okx): a SHORT cluster 68,")
    assert "% in 10 min to $" in text and "% above price" in text
    assert captions(world.tg, BOB) == []

    world.clock.advance(REFRESH_MS)
    await world.jobs.refresh()  # the same cluster, a refresh later: quiet
    assert world.outbox.pending() == 0
    assert len(world.tg.sent(ANN)) == 1


async def test_opting_out_and_unsubscribing_drop_the_memory(world: World) -> None:
    world.subscribe(ANN)
    store = BuildingStore(world.chats.db, world.clock)
    store.set(ANN, BTC, True)
    assert set(store.watches(BTC)) == {ANN}
    store.set(ANN, BTC, False)
    assert store.watches(BTC) == {}
    store.set(ANN, BTC, True)
    world.chats.unsubscribe(ANN, BTC)
    assert store.watches(BTC) == {}
