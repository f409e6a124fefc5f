"""Shared fixtures: fake exchanges on 127.0.0.1, a market-data adapter pointed at them, a db."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from liqmap.market_data import MarketData
from liqmap.retry import RetryPolicy
from storage.database import open_database
from tests.fakes.okx import FakeOkx

FAST_RETRY = RetryPolicy(attempts=4, first_delay=0.01, factor=2.0, max_delay=0.05)
FAST_CCXT = {"rateLimit": 1, "timeout": 3000, "timeout_on_exit": 0}


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


@pytest.fixture
def okx() -> Iterator[FakeOkx]:
    with FakeOkx() as fake:
        yield fake


@pytest.fixture
async def market(okx: FakeOkx) -> AsyncIterator[MarketData]:
    async with MarketData(
        urls={"okx": okx.url}, retry=FAST_RETRY, ccxt_config=FAST_CCXT
    ) as adapter:
        yield adapter


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "liqmap.db")
    yield database
    database.close()
