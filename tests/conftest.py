"""Shared fixtures: fake exchanges on 127.0.0.1, a market-data adapter pointed at them, a db.

Fakes and adapters run on wall-clock time, except in tests marked ``fixed_clock``: there they
all run on the ``clock`` fixture, stopped at ``NOON`` until a test moves it.

The suite runs in as many worker processes as there are CPUs (``-n auto``; ``-n 0``: in this
one), each test on its own free ports and ``tmp_path``. A module's tests share a worker, so its
module fixtures are computed once (``--dist loadscope``), and modules are handed out in the
order collected, those with a ``slow`` test first (``-m "not slow"`` leaves them out). A test
running over five minutes fails by its name (``pytest-timeout``).

``LIQMAP_TEST_SIZE`` sets how big the heaviest tests run: unset (or ``ci``), sizes that fit in
CI yet take every path under the same assertions (the fuzz draws a quarter of its messages and
presses, the load test sends half its commands, the backtest figures come from the first 1,200
hours of the hourly file); ``full``, full size (2,400 fuzz messages and 900 presses, 300
commands, the whole four-month file). Any other value is refused.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from bot.deps import BotDeps
from liqmap.config import Settings
from liqmap.exchanges.market_data import MarketData
from storage.database import open_database
from storage.stores import Stores
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ADMIN, ADMIN_GROUP, BOT, GROUP, GROUP_OWNER, running
from tests.support.exchanges import EXCHANGES, Exchange, Fake
from tests.support.fast import FAST_CCXT, FAST_RETRY
from tests.support.size import VARIABLE, chosen_size

NOON = int(datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC).timestamp() * 1000)
"""Where the ``clock`` fixture starts: inside a minute, an hour and a day, so nothing aligns."""

Adapter = Callable[..., MarketData]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fixed_clock: fake exchanges and adapters run on the clock fixture"
    )
    config.addinivalue_line(
        "markers", "slow: takes many seconds; its module is handed out first in a parallel run"
    )
    try:
        chosen_size()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header() -> str:
    return f"test size: {chosen_size()} ({VARIABLE}=full for full size)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a test marked ``slow`` run first, each kept whole and in its place among
    them: the workers take them on while there is plenty of short work left to even out the
    end, instead of one finishing a long module while the other waits."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name lookups other than the local host fail: a test that would reach the internet
    (a missing URL override) fails fast instead."""
    lookup = socket.getaddrinfo

    def local_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in (None, "127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"tests never reach the internet ({host})")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot gives ``retry_after`` as a timedelta (as ``liqmap run`` sets)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    """The fake Bot API as the bot tests meet it: a named bot and one group with an owner."""
    with FakeTelegram(bot_username=BOT, chat_admins={GROUP: [GROUP_OWNER]}) as fake:
        yield fake


@pytest.fixture
def settings(tg: FakeTelegram, okx: FakeOkx) -> Settings:
    return Settings(
        telegram_bot_token=tg.token,
        telegram_api_url=tg.url,
        exchange_urls={"okx": okx.url},
        admin_chats=frozenset({ADMIN, ADMIN_GROUP}),
    )


@pytest.fixture
def every_exchange(
    settings: Settings, okx: FakeOkx, binance: FakeBinance, bybit: FakeBybit
) -> Settings:
    """``settings`` with the fake OKX, Binance and Bybit, for maps summed over them."""
    urls = {"okx": okx.url, "binance": binance.url, "bybit": bybit.url}
    return replace(settings, exchange_urls=urls)


@pytest.fixture
async def core(settings: Settings, db: Database) -> AsyncIterator[BotDeps]:
    """The bot running against the fakes with ``settings``."""
    async with running(settings, db) as services:
        yield services


@pytest.fixture
def dns_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts anything tried to resolve; every lookup fails, so no other host can be reached."""
    looked_up: list[str] = []

    def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, f"test: no DNS for {host}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return looked_up


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


def _test_clock(request: pytest.FixtureRequest) -> Clock | None:
    """The ``clock`` fixture in a test marked ``fixed_clock``; None (wall-clock time) else."""
    if request.node.get_closest_marker("fixed_clock") is None:
        return None
    return request.getfixturevalue("clock")


def _serve(fake_class: type[Fake], request: pytest.FixtureRequest) -> Iterator[Any]:
    clock = _test_clock(request)
    with fake_class(**({"clock": clock} if clock is not None else {})) as fake:
        yield fake


@pytest.fixture
def okx(request: pytest.FixtureRequest) -> Iterator[FakeOkx]:
    yield from _serve(FakeOkx, request)


@pytest.fixture
def hyperliquid(request: pytest.FixtureRequest) -> Iterator[FakeHyperliquid]:
    yield from _serve(FakeHyperliquid, request)


@pytest.fixture
def binance(request: pytest.FixtureRequest) -> Iterator[FakeBinance]:
    yield from _serve(FakeBinance, request)


@pytest.fixture
def bybit(request: pytest.FixtureRequest) -> Iterator[FakeBybit]:
    yield from _serve(FakeBybit, request)


@pytest.fixture
def adapter(request: pytest.FixtureRequest) -> Adapter:
    """Makes a ``MarketData`` reaching the given fakes, e.g. ``adapter(bybit=bybit.url)``:
    retrying fast, on the test's clock."""
    clock = _test_clock(request)

    def make(**urls: str) -> MarketData:
        return MarketData(urls=urls, clock=clock, retry=FAST_RETRY, ccxt_config=FAST_CCXT)

    return make


@pytest.fixture
async def market(okx: FakeOkx, adapter: Adapter) -> AsyncIterator[MarketData]:
    async with adapter(okx=okx.url) as market:
        yield market


@pytest.fixture(params=list(EXCHANGES))
async def exchange(request: pytest.FixtureRequest, adapter: Adapter) -> AsyncIterator[Exchange]:
    """Each exchange in turn (tests/support/exchanges.py): its row, its fake, an adapter to it."""
    spec = EXCHANGES[request.param]
    fake = request.getfixturevalue(spec.name)
    async with adapter(**{spec.name: fake.url}) as market:
        yield Exchange(spec, fake, market)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "liqmap.db")
    yield database
    database.close()


@pytest.fixture
def stores(db: Database, request: pytest.FixtureRequest) -> Iterator[Stores]:
    """The stores of ``db`` and their database thread, on the test's clock."""
    opened = Stores(db, _test_clock(request) or (lambda: int(time.time() * 1000)))
    yield opened
    opened.close()
