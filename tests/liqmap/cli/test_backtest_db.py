"""``liqmap backtest --db``: the backtest's table from the liquidations recorded in LIQMAP_DB,
as a user runs it (in this process, through ``tests.support.cli``, against the fake exchanges,
market data from the cache)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from liqmap.evaluation.backtest import score_part, walk_forward
from liqmap.formats import strict_json
from liqmap.market.margins import params_for
from storage.database import open_database
from tests.conftest import Adapter
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.okx import FakeOkx
from tests.support.cli import run
from tests.support.recorded import MARKET_PATHS, cache_market, end_of, hour, hourly_slice, record


def strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def test_db_json_gives_the_csv_walk_forward_over_the_hours_recorded_whole(
    tmp_path: Path, okx: FakeOkx, adapter: Adapter
) -> None:
    history = hourly_slice()
    async with adapter(okx=okx.url) as market:
        inst = await market.instrument("BTC")
        params = params_for(inst, await market.maintenance_rate(inst))
    spans = [(hour(history, 0), hour(history, 250)), (hour(history, 262), end_of(history))]
    db = open_database(tmp_path / "live.db")
    cache_market(db, inst, history)
    for span in spans:
        record(db, inst, history, span)
    db.close()
    okx.reset_log()

    env = {"LIQMAP_DB": str(tmp_path / "live.db"), "LIQMAP_OKX_URL": okx.url}
    result = run(["backtest", "--db", "BTC", "--json"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    data = strict(result.stdout)

    covered = [any(a <= t and t + 3_600_000 <= b for a, b in spans)
               for t in history.candles.ts[168:].tolist()]  # fmt: skip
    model = walk_forward(history, params).part(covered)
    naive = walk_forward(history, params.naive()).part(covered)
    wanted = json.loads(strict_json(asdict(score_part("live", model, naive))))
    found = data["results"]["okx:BTC-USDT-SWAP"]
    assert found["score"] == wanted
    assert found["sample"]["hours"] == sum(covered) == 400 - 168 - 12
    assert found["shortfall"] is None and found["venues"] == ["okx"]
    assert (data["min_hours"], data["min_side_hours"]) == (48, 12)
    assert not any(okx.count(path) for path in MARKET_PATHS), "offline: read from the cache"


async def test_db_text_scores_each_venue_and_their_sum(
    tmp_path: Path,
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
    adapter: Adapter,
) -> None:
    history = hourly_slice()
    urls = {"okx": okx.url, "binance": binance.url, "bybit": bybit.url}
    async with adapter(**urls) as market:
        members = (await market.instrument("all:BTC")).members
    db = open_database(tmp_path / "live.db")
    for member in members:
        cache_market(db, member, history, 1 / 3)
        last = 380 if member.exchange == "bybit" else -1  # bybit's recorder stopped early
        record(db, member, history, (hour(history, 0), hour(history, last)), 1 / 3)
    db.close()
    env = {"LIQMAP_DB": str(tmp_path / "live.db")}
    env |= {f"LIQMAP_{name.upper()}_URL": url for name, url in urls.items()}

    result = run(["backtest", "--db", "--exchange", "all"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert ("\nokx:BTC-USDT-SWAP: 231 hours (16.7 days recorded to 2026-02-09 00:00 UTC), "
            "2026-01-30 08:00 UTC -> 2026-02-08 23:00 UTC\n") in text  # fmt: skip
    assert "\nbybit:BTCUSDT: 212 hours (15.9 days recorded to 2026-02-08 05:00 UTC), " in text
    assert "\nall:BTC: 212 hours (15.9 days recorded to 2026-02-09 00:00 UTC), " in text
    assert "note: Binance publishes at most one liquidation per symbol a second" in text
    table = text.split("\npartial (cluster lift) over the hours recorded whole\n")[1].splitlines()
    assert [line.split()[:2] for line in table[1:]] == [
        ["okx:BTC-USDT-SWAP", "231"], ["binance:BTCUSDT", "231"], ["bybit:BTCUSDT", "212"],
        ["all:BTC", "212"],
    ]  # fmt: skip
    assert not re.search(r"\bnan\b", text) and "n/a" in text, "undefined figures read n/a"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "--db", "--csv", "x.csv"], "not allowed with argument"),
        (["backtest"], "one of the arguments --csv --db is required"),
        (["backtest", "--csv", "x.csv", "--exchange", "okx"], "--exchange works with --db only"),
        (["backtest", "--db"], "no liquidations recorded in "),
        (["backtest", "--db", "ETH"], "no liquidations recorded in "),
        (["backtest", "--db", "BTC", "--exchange", "all"], "no liquidations recorded in "),
        (["backtest", "--db", "BTC", "--exchange", "hyperliquid"],
         "error: liqmap records liquidations on okx, binance, bybit only, not on hyperliquid"),
    ],
)  # fmt: skip
def test_bad_db_requests_get_a_short_answer(
    tmp_path: Path, okx: FakeOkx, args: list[str], message: str
) -> None:
    env = {"LIQMAP_DB": str(tmp_path / "empty.db"), "LIQMAP_OKX_URL": okx.url}
    result = run(args, tmp_path, env)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if "--db" in args:
        assert okx.count() == 0, "an empty database is told before any exchange is asked"


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("ETH", "error: no liquidations recorded for ETH-USDT-SWAP on okx yet"),
        ("NOPE", "error: unknown instrument NOPE on okx"),
    ],
)
async def test_a_symbol_not_recorded_gets_a_short_answer(
    tmp_path: Path, okx: FakeOkx, adapter: Adapter, symbol: str, message: str
) -> None:
    history = hourly_slice()
    async with adapter(okx=okx.url) as market:
        inst = await market.instrument("BTC")
    db = open_database(tmp_path / "live.db")
    record(db, inst, history, (hour(history, 0), end_of(history)))
    db.close()
    env = {"LIQMAP_DB": str(tmp_path / "live.db"), "LIQMAP_OKX_URL": okx.url}
    result = run(["backtest", "--db", symbol], tmp_path, env)
    assert (result.returncode, result.stderr) == (1, f"{message}\n")
