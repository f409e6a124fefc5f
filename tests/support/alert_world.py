"""The alert jobs in one process against the fakes: the world their tests act in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from telegram.ext import AIORateLimiter, ExtBot

from bot.alert_sender import TelegramAlertSender
from jobs.on_demand.maps import MapService
from jobs.scheduled.alert_jobs import AlertJobs
from jobs.scheduled.delivery import Delivery
from liqmap.engine.clusters import Cluster
from liqmap.exchanges.market_data import MarketData
from liqmap.signals.chat_settings import ChatSettings
from liqmap.signals.proximity import ALERT_WINDOW
from storage.chats import ChatStore
from storage.outbox import Outbox
from storage.snapshots import SnapshotStore
from storage.stores import Stores
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.fast import FAST_CCXT, FAST_RETRY

ANN, BOB = 1001, 1002


BTC = "okx:BTC-USDT-SWAP"


@dataclass
class World:
    jobs: AlertJobs
    chats: ChatStore
    outbox: Outbox
    snapshots: SnapshotStore
    okx: FakeOkx
    bybit: FakeBybit
    tg: FakeTelegram
    clock: Clock
    slept: list[float]

    def subscribe(self, chat: int, instrument: str = BTC, settings: ChatSettings | None = None,
                  distance: float | None = None) -> None:  # fmt: skip
        self.chats.seen(chat, "private" if chat > 0 else "group", None)
        self.chats.save_settings(chat, settings or ChatSettings(cooldown_minutes=0))
        self.chats.subscribe(chat, instrument, distance)

    def target(self, side: str = "long") -> Cluster:
        """The nearest cluster of ``side`` strong enough for the default settings."""
        stored = self.snapshots.latest(BTC, ALERT_WINDOW)
        strong = [c for c in stored.snapshot.clusters if c.side == side and c.strength >= 2.0]
        return min(strong, key=lambda c: abs(c.distance_pct))

    def price(self, value: float) -> None:
        self.okx.tape("BTC-USDT-SWAP").set_price(value)


@asynccontextmanager
async def alert_jobs(
    urls: Mapping[str, str], tg: FakeTelegram, stores: Stores, clock: Clock, slept: list[float]
) -> AsyncIterator[tuple[AlertJobs, MarketData]]:
    """The alert jobs on ``stores``, reaching the fakes at ``urls`` and the fake Telegram;
    the refresh's pauses are noted in ``slept``, not waited."""

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    bot = ExtBot(tg.token, base_url=tg.base_url, rate_limiter=AIORateLimiter(max_retries=3))
    async with (
        bot,
        MarketData(urls=urls, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT) as market,
    ):
        maps = MapService(market, stores, 300_000, clock)
        delivery = Delivery(stores, TelegramAlertSender(bot), clock)
        jobs = AlertJobs(market, stores, maps, delivery, clock, refresh_seconds=300,
                         sleep=no_wait)  # fmt: skip
        yield jobs, market


@pytest.fixture
async def world(
    okx: FakeOkx, bybit: FakeBybit, tg: FakeTelegram, stores: Stores, clock: Clock
) -> AsyncIterator[World]:
    slept: list[float] = []
    urls = {"okx": okx.url, "bybit": bybit.url}
    async with alert_jobs(urls, tg, stores, clock, slept) as (jobs, _):
        yield World(jobs, stores.chats, stores.outbox, stores.snapshots, okx, bybit, tg, clock,
                    slept)  # fmt: skip


@dataclass
class HyperliquidWorld:
    """The alert jobs watching Hyperliquid, whose positions are public."""

    jobs: AlertJobs
    market: MarketData
    stores: Stores
    hyperliquid: FakeHyperliquid
    tg: FakeTelegram
    clock: Clock


@pytest.fixture
async def hyperliquid_world(
    hyperliquid: FakeHyperliquid, tg: FakeTelegram, stores: Stores, clock: Clock
) -> AsyncIterator[HyperliquidWorld]:
    async with alert_jobs({"hyperliquid": hyperliquid.url}, tg, stores, clock, []) as made:
        jobs, market = made
        yield HyperliquidWorld(jobs, market, stores, hyperliquid, tg, clock)


def captions(tg: FakeTelegram, chat: int) -> list[str]:
    return [m.get("plain") or "" for m in tg.sent(chat)]
