"""The whole market's map: OKX, Binance and Bybit summed, each by its own rules."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from jobs.market_sync import sync_window
from jobs.on_demand.maps import compute_map
from liqmap.config import Settings
from liqmap.engine.model import Formula, bin_exposure, build_exposure
from liqmap.errors import UnknownInstrument
from liqmap.exchanges.market_data import MarketData
from liqmap.market.margins import params_for
from storage.stores import Stores
from tests.conftest import Adapter
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.clock import Clock
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.bot_harness import ANN, running, say, serving, words
from tests.support.cli import run

pytestmark = pytest.mark.fixed_clock
DATA = ("/api/v5/", "/fapi/", "/futures/", "/v5/market/kline", "/v5/market/open-interest")


@pytest.fixture
async def market(
    okx: FakeOkx, binance: FakeBinance, bybit: FakeBybit, adapter: Adapter
) -> AsyncIterator[MarketData]:
    async with adapter(okx=okx.url, binance=binance.url, bybit=bybit.url) as market:
        yield market


def data_requests(fake: FakeOkx | FakeBinance | FakeBybit) -> int:
    return sum(fake.count(path) for path in DATA if not path.startswith("/api/v5/public"))


async def test_all_resolves_the_assets_perpetual_on_every_exchange(market: MarketData) -> None:
    btc = await market.instrument("all:btc")
    assert btc.key == "all:BTC" and btc.is_aggregate
    assert [m.key for m in btc.members] == [
        "okx:BTC-USDT-SWAP", "binance:BTCUSDT", "bybit:BTCUSDT"
    ]  # fmt: skip
    sol = await market.instrument("all:SOL")
    assert [m.exchange for m in sol.members] == ["okx"] and sol.missing_notes == (
        "binance does not list SOL",
        "bybit does not list SOL",
    )
    with pytest.raises(UnknownInstrument, match="unknown instrument NOPE on all"):
        await market.instrument("all:NOPE")


async def test_the_aggregate_is_the_sum_of_each_exchanges_map_by_its_own_rules(
    market: MarketData, stores: Stores
) -> None:
    btc = await market.instrument("all:BTC")
    snapshot = await compute_map(market, stores, btc, "1d")
    assert snapshot.source == "okx+binance+bybit" and snapshot.label == "BTC"
    expected_long = np.zeros_like(snapshot.liq_map.long_usd)
    expected_short = np.zeros_like(snapshot.liq_map.short_usd)
    formulas = []
    for member in btc.members:
        data = await sync_window(market, stores, member, "1d", "1m")
        params = params_for(member, await market.maintenance_rate(member))
        formulas.append((params.margin.formula, params.margin.fee))
        part = bin_exposure(build_exposure(data.candles, data.open_interest, params), params,
                            snapshot.price)  # fmt: skip
        expected_long += part.long_usd
        expected_short += part.short_usd
    assert formulas == [(Formula.LINEAR, 0.0005), (Formula.LINEAR, 0.0),
                        (Formula.LINEAR_BYBIT, 0.0)]  # fmt: skip
    assert snapshot.liq_map.long_usd == pytest.approx(expected_long)
    assert snapshot.liq_map.short_usd == pytest.approx(expected_short)
    assert [v.exchange for v in snapshot.venues] == ["okx", "binance", "bybit"]
    assert sum(v.share for v in snapshot.venues) == pytest.approx(1.0)
    assert all(v.share > 0.1 for v in snapshot.venues)
    closes = [float((await sync_window(market, stores, m, "1d", "1m")).candles.close[-1])
              for m in btc.members]  # fmt: skip
    assert snapshot.price == sorted(closes)[1], "binned around the median last close"


async def test_a_venue_down_leaves_the_map_to_the_others_and_says_so(
    market: MarketData, stores: Stores, bybit: FakeBybit
) -> None:
    btc = await market.instrument("all:BTC")
    bybit.inject(Fault(disconnect=True), "/", times=None)  # Bybit goes away
    snapshot = await compute_map(market, stores, btc, "1d")
    assert [v.exchange for v in snapshot.venues] == ["okx", "binance"]
    assert snapshot.notes == ("bybit left out: not reachable",)
    assert not snapshot.liq_map.is_empty


async def test_a_venue_without_the_instrument_is_named(market: MarketData, stores: Stores) -> None:
    sol = await market.instrument("all:SOL")
    snapshot = await compute_map(market, stores, sol, "1d")
    assert snapshot.notes == ("binance does not list SOL", "bybit does not list SOL")
    assert [v.exchange for v in snapshot.venues] == ["okx"]


async def test_an_up_to_date_aggregate_costs_at_most_two_requests_per_venue(
    market: MarketData,
    stores: Stores,
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
) -> None:
    btc = await market.instrument("all:BTC")
    await compute_map(market, stores, btc, "7d")
    for fake in (okx, binance, bybit):
        fake.reset_log()
    await compute_map(market, stores, btc, "7d")
    assert [data_requests(fake) for fake in (okx, binance, bybit)] == [pytest.approx(0, abs=2)] * 3


async def test_the_aggregate_price_is_the_median_and_survives_a_venue_down(
    market: MarketData, okx: FakeOkx, binance: FakeBinance, bybit: FakeBybit
) -> None:
    btc = await market.instrument("all:BTC")
    okx.tape("BTC-USDT-SWAP").set_price(60_000)
    binance.tape("BTCUSDT").set_price(60_100)
    bybit.tape("BTCUSDT").set_price(61_000)
    prices = await market.prices([btc])
    assert prices["all:BTC"].value == 60_100
    binance.inject(Fault(disconnect=True), "/", times=None)
    assert (await market.prices([btc]))["all:BTC"].value == pytest.approx(60_500)


# -- in Telegram and on the command line -------------------------------------------------------


async def test_map_all_answers_with_the_summed_chart_and_each_exchanges_share(
    tg: FakeTelegram, every_exchange: Settings, db: Database, clock: Clock
) -> None:
    async with running(every_exchange, db, clock):
        (photo,) = await say(tg, ANN, "/map BTC 1d all")
        assert photo["method"] == "sendPhoto"
        caption = words(photo)
        assert caption.startswith("BTC · okx+binance+bybit · 1d map")
        assert re.search(r"Summed over okx \d+% · binance \d+% · bybit \d+%", caption)
        buttons = [b.get("callback_data") or b["url"]
                   for row in photo["reply_markup"]["inline_keyboard"] for b in row]  # fmt: skip
        assert "s|1d|all:BTC" in buttons
        assert "https://t.me/liqmap_test_bot?start=map_all_BTC_1d" in buttons
        (text,) = await say(tg, ANN, "/clusters all BTC 1d")
        assert words(text).startswith("BTC · okx+binance+bybit · 1d clusters")


async def test_a_subscription_to_all_alerts_once_when_the_market_nears_a_cluster(
    tg: FakeTelegram,
    every_exchange: Settings,
    db: Database,
    clock: Clock,
    okx: FakeOkx,
    binance: FakeBinance,
    bybit: FakeBybit,
) -> None:
    async with serving(every_exchange, db, clock) as service:
        (reply,) = await say(tg, ANN, "/subscribe BTC all 1")
        assert "Subscribed to <b>BTC</b> on all" in reply["text"]
        assert await service.jobs.refresh() == 1
        stored = service.core.stores.snapshots.latest("all:BTC", "7d")
        target = min((c for c in stored.snapshot.clusters if c.side == "long"
                      and c.strength >= 2), key=lambda c: abs(c.distance_pct))  # fmt: skip
        for fake, symbol in ((okx, "BTC-USDT-SWAP"), (binance, "BTCUSDT"), (bybit, "BTCUSDT")):
            fake.tape(symbol).set_price(target.high * 1.004)
        assert await service.jobs.watch() == 1
        assert await service.jobs.watch() == 0, "once"
        await service.jobs.deliver()
        (alert,) = [m for m in tg.sent(ANN) if m["method"] == "sendPhoto"]
        assert words(alert).startswith("🔻 BTC (okx+binance+bybit) is near a dense LONG")


def test_the_command_line_sums_the_exchanges_too(tmp_path: Path) -> None:
    with FakeOkx() as okx, FakeBinance() as binance, FakeBybit() as bybit:  # live, not still
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_BINANCE_URL": binance.url,
               "LIQMAP_BYBIT_URL": bybit.url, "LIQMAP_DB": str(tmp_path / "all.db")}  # fmt: skip
        result = run(["map", "BTC", "--exchange", "all", "--window", "1d", "--json"], tmp_path,
                     env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["source"] == "okx+binance+bybit"
        assert [v["exchange"] for v in data["venues"]] == ["okx", "binance", "bybit"]
        assert all(v["share"] > 0.1 for v in data["venues"])
        summary = run(["map", "all:BTC", "--window", "1d"], tmp_path, env)
        assert re.search(r"summed over exchanges: okx \d+%, binance \d+%, bybit \d+%",
                         summary.stdout)  # fmt: skip
        assert (tmp_path / "BTC-1d.png").is_file()
