"""The building detector on scripted sequences of maps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.texts.alerts import alert_text
from liqmap.engine.clusters import Cluster
from liqmap.signals.chat_settings import ChatSettings, QuietHours
from liqmap.signals.growing_clusters import (
    BUILDING,
    BuildingWatch,
    Frame,
    as_state,
    check_building,
    from_state,
)
from liqmap.signals.proximity import Subject

SUBJECT = Subject("okx:BTC-USDT-SWAP", "BTC-USDT-SWAP", "okx", "7d")
NOON = int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp() * 1000)
REFRESH = 5 * 60_000
NO_COOLDOWN = ChatSettings(cooldown_minutes=0)


def cluster(
    low: float, high: float, usd: float, strength: float = 1.0, side: str = "long"
) -> Cluster:
    return Cluster(side, low, high, (low + high) / 2, usd, 0.2, usd, strength, 0.0, f"{side}@{low}")


def frames(*maps: list[Cluster], price: float = 100.0, start: int = NOON) -> list[Frame]:
    return [Frame(start + i * REFRESH, price, list(m)) for i, m in enumerate(maps)]


def run(
    sequence: list[list[Cluster]],
    settings: ChatSettings = NO_COOLDOWN,
    price: float = 100.0,
    watch: BuildingWatch | None = None,
) -> tuple[BuildingWatch, list[list[str]]]:
    """Feed the maps one refresh at a time (comparing up to four); alert kinds per refresh."""
    watch = watch or BuildingWatch()
    kinds = []
    for i in range(len(sequence)):
        window = frames(
            *sequence[max(0, i - 3) : i + 1], price=price, start=NOON + max(0, i - 3) * REFRESH
        )
        watch, alerts = check_building(watch, window, window[-1].computed_at, settings, SUBJECT)
        kinds.append([a.kind for a in alerts])
    return watch, kinds


def test_a_near_cluster_that_grew_half_again_alerts_once_with_its_growth() -> None:
    maps = frames([cluster(98, 99, 20e6)], [cluster(98, 99, 25e6)], [cluster(98.2, 99.1, 38e6)])
    watch, (alert,) = check_building(BuildingWatch(), maps, NOON, NO_COOLDOWN, SUBJECT)
    assert alert.kind == BUILDING and alert.grown_pct == pytest.approx(90)
    assert alert.over_ms == 2 * REFRESH and alert.distance_pct == pytest.approx(0.9)
    assert not alert.silent and watch.last_alert_at == NOON
    text = alert_text(alert)
    assert "📈 <b>BTC-USDT-SWAP</b> (okx): a LONG cluster" in text
    assert "grew 90% in 10 min to $38.0M, 0.9% below price" in text


def test_slow_growth_far_clusters_and_a_single_map_stay_quiet() -> None:
    slow = [[cluster(98, 99, 20e6)], [cluster(98, 99, 24e6)], [cluster(98, 99, 29e6)]]
    far = [[cluster(90, 91, 10e6)], [cluster(90, 91, 40e6)]]
    assert run(slow)[1] == [[], [], []]
    assert run(far)[1] == [[], []]
    single = frames([cluster(98, 99, 20e6, strength=5)])
    assert check_building(BuildingWatch(), single, NOON, NO_COOLDOWN, SUBJECT)[1] == []


def test_a_new_dense_cluster_alerts_a_weak_one_does_not() -> None:
    dense = run([[], [cluster(101, 102, 5e6, strength=3, side="short")]])[1]
    weak = run([[], [cluster(101, 102, 5e6, strength=1.5, side="short")]])[1]
    assert dense == [[], [BUILDING]] and weak == [[], []]
    maps = frames([], [cluster(101, 102, 5e6, strength=3, side="short")])
    (alert,) = check_building(BuildingWatch(), maps, NOON, NO_COOLDOWN, SUBJECT)[1]
    assert alert.grown_pct is None
    assert "formed in 5 min: $5.0M, 3.0× avg density, 1.0% above price" in alert_text(alert)


def test_hysteresis_quiet_until_the_cluster_changes_materially_or_price_moves_away() -> None:
    growing = [cluster(98, 99, usd) for usd in (10e6, 16e6, 20e6, 24e6, 28e6, 33e6, 40e6)]
    _, kinds = run([[c] for c in growing])
    # 16M alerts; it is remembered at 16M and alerts again once it doubled (and grew 50% lately)
    assert kinds == [[], [BUILDING], [], [], [], [BUILDING], []]
    watch, _ = run([[cluster(98, 99, 10e6)], [cluster(98, 99, 16e6)]])
    assert len(watch.remembered) == 1
    gone, _ = run([[cluster(98, 99, 16e6)]] * 2, price=110.0, watch=watch)
    assert gone.remembered == ()  # price moved beyond twice the range: forgotten


def test_cooldown_holds_a_second_cluster_back() -> None:
    settings = ChatSettings(cooldown_minutes=30)
    near, other = cluster(98, 99, 10e6), cluster(101, 102, 10e6, side="short")
    sequence = [[near, other], [cluster(98, 99, 20e6), other], [cluster(98, 99, 20e6),
                cluster(101, 102, 20e6, side="short")]]  # fmt: skip
    assert run(sequence, settings)[1] == [[], [BUILDING], []]
    assert run(sequence)[1] == [[], [BUILDING], [BUILDING]]


def test_quiet_hours_make_it_silent() -> None:
    settings = ChatSettings(cooldown_minutes=0, quiet=QuietHours(11 * 60, 13 * 60))
    maps = frames([cluster(98, 99, 10e6)], [cluster(98, 99, 20e6)])
    (alert,) = check_building(BuildingWatch(), maps, NOON, settings, SUBJECT)[1]
    assert alert.silent


def test_state_round_trips_through_json() -> None:
    watch, _ = run([[cluster(98, 99, 10e6)], [cluster(98, 99, 20e6)]])
    assert from_state(json.loads(json.dumps(as_state(watch)))) == watch
