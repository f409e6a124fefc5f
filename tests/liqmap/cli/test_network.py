"""The command line with every exchange down (a closed port on this machine): one line per
venue that failed, each with its URL; the retries are logged only under ``-v``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from liqmap.exchanges.ccxt_client import new_client
from liqmap.market.venues import CENTRALIZED, VENUES
from tests.fakes.http import free_port
from tests.support.cli import FAST, run

COMMANDS = (["map", "BTC"], ["heatmap", "BTC"], ["fetch", "BTC"], ["price", "BTC"])


@pytest.fixture
def closed() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def env(closed: str, tmp_path: Path) -> dict[str, str]:
    urls = {f"LIQMAP_{name.upper()}_URL": closed for name in VENUES}
    return urls | {"LIQMAP_DB": str(tmp_path / "down.db")}


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_an_unreachable_exchange_is_one_line_with_its_url(
    args: list[str], env: dict[str, str], closed: str, tmp_path: Path
) -> None:
    result = run(args, tmp_path, env)
    assert (result.returncode, result.stderr) == (1, f"error: okx: not reachable at {closed}\n")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_every_venue_of_all_down_is_named_on_a_line_of_its_own(
    args: list[str], env: dict[str, str], closed: str, tmp_path: Path
) -> None:
    result = run([*args, "--exchange", "all"], tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {name}: not reachable at {closed}" for name in CENTRALIZED
    ]


def test_the_retries_are_logged_under_verbose(
    env: dict[str, str], closed: str, tmp_path: Path
) -> None:
    result = run(["-v", "map", "BTC"], tmp_path, env)
    assert result.returncode == 1
    retries = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(retries) == 3, "the fast tuning's four attempts"
    assert result.stderr.endswith(f"\nerror: okx: not reachable at {closed}\n")


def test_backtest_db_on_an_empty_database_says_so_before_asking_any_exchange(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(["-v", "backtest", "--db", "BTC", "--exchange", "all"], tmp_path, env)
    assert result.returncode == 1
    assert "load_markets" not in result.stderr, "no exchange asked"
    assert result.stderr.splitlines()[-1] == (
        f"error: no liquidations recorded in {tmp_path / 'down.db'}: `liqmap run` records them"
    )


def test_a_service_still_logs_each_retry_as_a_warning(
    env: dict[str, str], closed: str, tmp_path: Path
) -> None:
    result = run(["record", "BTC", "--for", "0.1"], tmp_path, env)
    assert result.returncode == 1
    retries = [line for line in result.stderr.splitlines() if " WARNING " in line]
    assert len(retries) == 4, "three retries and the failure, as `liqmap run` logs them"
    assert result.stderr.endswith(f"\nerror: okx: not reachable at {closed}\n")


def test_without_an_address_set_the_line_names_where_ccxt_goes_by_default(
    closed: str, tmp_path: Path
) -> None:
    """No ``LIQMAP_OKX_URL``: the line names OKX's own address. ccxt's ``hostname`` option
    sends the requests to the closed port instead, so nothing leaves this machine."""
    port = closed.rsplit(":", 1)[1]
    tuning = replace(FAST, ccxt_config={**FAST.ccxt_config, "hostname": f"127.0.0.1:{port}"})
    result = run(["map", "BTC"], tmp_path, {"LIQMAP_DB": str(tmp_path / "down.db")}, tuning)
    assert result.returncode == 1
    assert result.stderr == "error: okx: not reachable at https://www.okx.com\n"


@pytest.mark.parametrize("name", list(VENUES))
def test_each_venue_s_default_address_is_where_its_ccxt_client_sends_requests(name: str) -> None:
    venue = VENUES[name]
    client = new_client(venue, None, {})
    try:
        origins = {client.implode_hostname(url) for url in _urls(client.urls["api"])}
        assert any(url.startswith(venue.default_url) for url in origins), origins
    finally:
        asyncio.run(client.close())


def _urls(table: object) -> list[str]:
    if isinstance(table, str):
        return [table]
    if isinstance(table, dict):
        return [url for value in table.values() for url in _urls(value)]
    return []
