"""``liqmap calibrate`` against the fake Hyperliquid, on the test's clock: a table row per
scanned coin at the time of its latest scan, one line for what cannot be calibrated, and with
``--fit`` the fitted tiers and the backtest's verdict on them."""

from __future__ import annotations

import asyncio
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.market_sync import record_open_interest
from liqmap.cli.tuning import Tuning
from liqmap.engine.model import leverage_ladder
from liqmap.exchanges.market_data import MarketData
from liqmap.formats import utc
from liqmap.market.timeframes import HOUR_MS, MINUTE_MS
from storage.database import open_database
from storage.stores import Stores
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid
from tests.support.cli import FAST, run
from tests.support.data import HOURLY
from tests.support.fast import FAST_CCXT, FAST_RETRY

BANDS = (10.0, 25.0, 50.0, 100.0)
"""The map's leverage bands: ≤10x, 10-25x, 25-50x, 50-100x, >100x."""
BAND_NAMES = ("≤10x", "10-25x", "25-50x", "50-100x", ">100x")


@dataclass
class World:
    fake: FakeHyperliquid
    clock: Clock
    tuning: Tuning
    env: dict[str, str]
    db_path: Path
    open_interest: dict[str, float]
    """Each coin's open interest in USD as last recorded."""


def _record(world: World, coins: tuple[str, ...] = ("BTC", "ETH", "SOL")) -> None:
    """One refresh's recording of the coins' current open interest."""

    async def go() -> None:
        stores = Stores(open_database(world.db_path), world.clock)
        try:
            market = MarketData(
                {"hyperliquid": world.fake.url}, clock=world.clock, retry=FAST_RETRY,
                ccxt_config=FAST_CCXT,
            )  # fmt: skip
            async with market:
                insts = [await market.instrument(f"hyperliquid:{coin}") for coin in coins]
                assert await record_open_interest(market, stores, insts) == len(coins)
        finally:
            stores.close()

    asyncio.run(go())
    for coin in coins:
        world.open_interest[coin] = world.fake.tape(coin).open_interest_now()


@contextmanager
def _world(tmp_path: Path) -> Iterator[World]:
    clock = Clock(NOON - 6 * HOUR_MS)
    with FakeHyperliquid(clock=clock) as fake:
        db_path = tmp_path / "live.db"
        env = {"LIQMAP_HYPERLIQUID_URL": fake.url, "LIQMAP_DB": str(db_path)}
        yield World(fake, clock, replace(FAST, clock=clock), env, db_path, {})


def _calibrate(world: World, tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    result = run(["calibrate", *args], tmp_path, world.env, world.tuning)
    assert result.stderr == "", result.stderr
    return result.returncode, result.stdout.splitlines()


def _recorded_and_scanned(world: World, tmp_path: Path, accounts: int = 60) -> list[str]:
    """Six hours of open interest recorded every 30 minutes, then one scan of ``accounts``."""
    for _ in range(12):
        world.clock.advance(30 * MINUTE_MS)
        _record(world)
    addresses = world.fake.open_accounts(accounts)
    scan = run(["scan", *addresses], tmp_path, world.env, world.tuning)
    assert scan.returncode == 0, scan.stderr
    return addresses


def _held(fake: FakeHyperliquid, coin: str) -> list[tuple[float, float]]:
    """(leverage, notional at the mark) of every fake position in ``coin``."""
    mark = fake.tape(coin).last_price()
    return [
        (float(p.leverage), abs(p.szi) * mark)
        for positions in fake.accounts.values()
        for p in positions
        if p.coin == coin
    ]


def _bands(leverages: list[float], weights: list[float]) -> list[float]:
    shares = np.bincount(
        np.searchsorted(BANDS, leverages, side="left"), weights=weights, minlength=len(BANDS) + 1
    )
    return list(shares / shares.sum())


def _cell(text: str) -> float | None:
    return None if text == "n/a" else float(text)


def test_a_row_per_scanned_coin_at_the_time_of_its_latest_scan(tmp_path: Path) -> None:
    with _world(tmp_path) as world:
        _recorded_and_scanned(world, tmp_path)
        scanned_at = world.clock()
        at_scan = dict(world.open_interest)
        held_at_scan = {perp.name: _held(world.fake, perp.name) for perp in world.fake.perps}
        world.clock.advance(2 * HOUR_MS)
        world.fake.tape("BTC").add_open_interest(world.open_interest["BTC"])
        _record(world)  # after the scan: not what the scan is held against
        code, lines = _calibrate(world, tmp_path, "--window", "1d")
        fake = world.fake
    assert code == 0, lines
    assert lines[1].split() == [
        "asset", "scanned", "(UTC)", "positions", "coverage", "rank", "all", "long", "short",
        "top", "clusters", "leverage", "real/model",
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert set(rows) == {"BTC", "ETH", "SOL"}
    for perp in fake.perps:
        coin = perp.name
        row = rows[coin]
        held = held_at_scan[coin]
        assert row.startswith(f"{coin:<7}{utc(scanned_at)[:16]:<18}{len(held):>9}"), row
        fields = row[7 + 18 + 9 :].split()
        coverage = sum(v for _, v in held) / at_scan[coin]
        assert float(fields[0].rstrip("%")) == pytest.approx(100 * coverage, abs=0.051)
        for cell in fields[1:4]:
            rho = _cell(cell)
            assert rho is None or -1 <= rho <= 1
        share, within = re.fullmatch(r"(\d+|n/a)%? in (\d+)%", " ".join(fields[4:7])).groups()  # type: ignore[union-attr]
        assert 0 <= int(within) <= 100 and (share == "n/a" or 0 <= int(share) <= 100)
        ladder = leverage_ladder(3, perp.max_leverage, 48)
        real = _bands([lev for lev, _ in held], [v for _, v in held])
        model = _bands([t.leverage for t in ladder], [1.0] * len(ladder))
        want = [
            (name, 100 * r, 100 * m)
            for name, r, m in zip(BAND_NAMES, real, model, strict=True)
            if r > 0 or m > 0
        ]
        shown = re.findall(r"(\S+) (\d+)/(\d+)%", row.split("%    ")[-1])
        assert [name for name, _, _ in shown] == [name for name, _, _ in want], row
        for (_, r_shown, m_shown), (_, r, m) in zip(shown, want, strict=True):
            assert abs(int(r_shown) - r) <= 0.5 + 1e-6 and abs(int(m_shown) - m) <= 0.5 + 1e-6
    for coin in ("BTC", "ETH", "SOL"):  # the snapshot recorded after the scan is left out
        assert f"  {coin}: built from 5.5 h of recorded open interest (12 snapshots)" in lines


def test_what_cannot_be_calibrated_gets_one_line(tmp_path: Path) -> None:
    with _world(tmp_path) as world:
        code, lines = _calibrate(world, tmp_path)
        assert (code, lines) == (
            1, ["no scans yet: liqmap scan ADDRESS... stores real positions to calibrate against"]
        )  # fmt: skip

        addresses = world.fake.open_accounts(20)
        for address in addresses:  # nobody holds SOL
            world.fake.accounts[address] = [
                p for p in world.fake.accounts[address] if p.coin != "SOL"
            ]
        assert run(["scan", *addresses], tmp_path, world.env, world.tuning).returncode == 0
        code, lines = _calibrate(
            world, tmp_path, "BTC", "okx:BTC", "all:BTC", "hyperliquid:DOGE", "SOL", "bitmex:BTC"
        )
        assert code == 1
        assert lines == [
            "hyperliquid:BTC: hyperliquid publishes no open-interest history; liqmap records it "
            "at each refresh of a watched instrument and has 0 snapshot(s) of BTC so far; a map "
            "needs at least 2",
            "okx:BTC: no real positions to calibrate against; only hyperliquid publishes its "
            "accounts' positions",
            "all:BTC: no real positions to calibrate against; only hyperliquid publishes its "
            "accounts' positions",
            lines[3],
            "hyperliquid:SOL: no positions stored; liqmap scan ADDRESS... reads some",
            "bitmex:BTC: unknown exchange bitmex; supported: okx, binance, bybit, hyperliquid, all",
        ]
        assert lines[3].startswith("hyperliquid:DOGE: unknown instrument DOGE on hyperliquid")

        _record(world, ("BTC",))
        world.clock.advance(HOUR_MS)
        _record(world, ("BTC",))
        code, lines = _calibrate(world, tmp_path, "BTC")
        # the snapshot of the scan's minute counts, the one an hour after the scan does not
        assert code == 1 and "has 1 snapshot(s) of BTC" in lines[0]
        assert run(["scan", *addresses], tmp_path, world.env, world.tuning).returncode == 0
        code, lines = _calibrate(world, tmp_path, "okx:BTC", "BTC")
    assert code == 0
    assert lines[0].startswith("okx:BTC: no real positions")
    assert lines[3].startswith("BTC "), "the rows of those that could be calibrated follow"


def _tier_cells(line: str) -> list[tuple[float, float]]:
    return [
        (float(lev), float(weight))
        for lev, weight in re.findall(r"([\d.]+)x ([\d.]+)%", line.split(maxsplit=1)[1])
    ]


def _fitted(fake: FakeHyperliquid, coin: str, max_leverage: float) -> list[tuple[float, float]]:
    """The fake's notional on the hyperliquid ladder's rungs, nearest in log, by hand."""
    rungs = [t.leverage for t in leverage_ladder(3, max_leverage, 48)]
    usd: dict[float, float] = {}
    for leverage, value in _held(fake, coin):
        rung = min(rungs, key=lambda r: abs(math.log(r) - math.log(leverage)))
        usd[rung] = usd.get(rung, 0.0) + value
    total = sum(usd.values())
    return [(rung, 100 * value / total) for rung, value in sorted(usd.items())]


def test_fit_prints_the_fitted_tiers_and_whether_the_backtest_keeps_them(tmp_path: Path) -> None:
    history = tmp_path / "btc_1h_part.csv"
    history.write_text("".join(HOURLY.read_text().splitlines(keepends=True)[:401]))
    other = tmp_path / "doge_1h.csv"
    other.write_text(history.read_text())
    with _world(tmp_path) as world:
        _recorded_and_scanned(world, tmp_path, accounts=30)
        code, lines = _calibrate(world, tmp_path, "--window", "1d", "--fit", "--csv", str(history))
        _, elsewhere = _calibrate(
            world, tmp_path, "BTC", "--window", "1d", "--fit", "--csv", str(other)
        )
        missing = run(
            ["calibrate", "--fit", "--csv", str(tmp_path / "none.csv")],
            tmp_path,
            world.env,
            world.tuning,
        )
        fake = world.fake
    assert code == 0, lines
    start = lines.index(
        "fitted tiers: the real mix by notional on the model's rungs (rungs holding none dropped)"
    )
    for offset, perp in enumerate(fake.perps, start=1):
        line = lines[start + offset]
        assert line.startswith(perp.name)
        got = _tier_cells(line)
        want = _fitted(fake, perp.name, perp.max_leverage)
        assert [lev for lev, _ in got] == [lev for lev, _ in want]
        assert [w for _, w in got] == pytest.approx([w for _, w in want], abs=0.051)
    sums = [float(re.search(r"sum (-?[\d.]+)", line).group(1)) for line in lines if " sum " in line]  # type: ignore[union-attr]
    assert len(sums) == 3, "the default ladder, BTC's tiers now, and the fitted ones"
    now, fitted = sums[1], sums[2]
    verdict = lines[-1]
    if fitted > now:
        assert verdict.startswith(f"the fitted tiers raise the score by {fitted - now:.3f}")
    else:
        assert "keep their tiers" in verdict
    assert (
        elsewhere[-1]
        == "no calibrated asset is named in doge_1h.csv: no fitted tiers to backtest on it"
    )
    assert missing.returncode == 1
    assert missing.stderr == (
        f"error: --fit scores tiers on {tmp_path / 'none.csv'}, which is not a file; "
        "give --csv FILE\n"
    )


typed = st.one_of(
    st.sampled_from(["BTC", "eth", "hyperliquid:SOL", "okx:BTC", "all:ETH", "DOGE", "x:y", ":"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=14),
).filter(lambda text: not text.startswith("-"))


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(st.lists(typed, min_size=1, max_size=3))
def test_any_symbols_get_one_line_each_and_no_crash(symbols: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, _world(Path(tmp)) as world:
        result = run(["calibrate", *symbols], Path(tmp), world.env, world.tuning)
    assert result.returncode == 1, result
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == len(symbols), result.stdout
