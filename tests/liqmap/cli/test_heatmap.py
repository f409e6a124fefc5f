"""``liqmap heatmap`` as a user runs it: offline on CSV, live on fake OKX (in this process,
through ``tests.support.cli``; what the offline heatmap imports is probed in test_map)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from liqmap.charts.heatmap_chart import REALIZED_MARKERS
from liqmap.exchanges.csv_source import load_csv
from liqmap.market.timeframes import DAY_MS, MINUTE_MS
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.http import Fault
from tests.fakes.okx import FakeOkx
from tests.support.cli import run
from tests.support.data import HOURLY
from tests.support.png import colour_pixels, png_size


def test_offline_heatmap_summary_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "btc.png"
    result = run(["heatmap", "BTC", "--csv", str(HOURLY), "--window", "30d",
                  "--out", str(out)], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    title, span, peak, now, chart = result.stdout.splitlines()
    assert title == "BTC (btc_agg_1h_2025-12_2026-03.csv) 30d liquidation heatmap"
    assert span.startswith("2026-03-02 00:00 UTC to 2026-04-01 00:00 UTC: 719 columns x ")
    assert span.endswith(" price bins of 68.28"), "0.1% of the last close, 68,284"
    assert peak.startswith("peak band: ") and " at 2026-" in peak
    assert now.startswith("peak band now: ") and now.endswith("below, price 68,284")
    assert chart == f"chart: {out}"
    assert png_size(out.read_bytes()) == (1280, 720)
    shorts = {side: colour for side, _, colour in REALIZED_MARKERS}["short"]
    assert colour_pixels(out.read_bytes(), shorts) > 50, "the file's realized shorts"


def test_offline_heatmap_as_of_a_time_goes_to_the_default_file(tmp_path: Path) -> None:
    result = run(["heatmap", "btc", "--csv", str(HOURLY), "--window", "1d",
                  "--at", "2026-03-19T11:00:00Z"], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    history = load_csv(HOURLY)
    close = history.candles.close[history.candles.ts.tolist().index(1773918000000) - 1]
    assert lines[1].startswith("2026-03-18 11:00 UTC to 2026-03-19 11:00 UTC: 24 columns x ")
    assert lines[1].endswith(f" price bins of {close / 1000:.2f}"), "0.1% of the last close"
    assert lines[-1] == "chart: BTC-1d-heatmap.png"
    assert png_size((tmp_path / "BTC-1d-heatmap.png").read_bytes()) == (1280, 720)


def test_live_heatmap_against_the_fake_exchange(tmp_path: Path) -> None:
    with FakeOkx() as okx:
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        result = run(["heatmap", "ETH", "--window", "1d"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "ETH-USDT-SWAP (okx) 1d liquidation heatmap"
        assert ": 1,440 columns x " in lines[1], "a column per 1m candle"
        asked = [int(r.query["before"]) + 1 for r in okx.seen("/api/v5/market/")
                 if "before" in r.query]  # fmt: skip
        day_before = time.time() * 1000 - 2 * DAY_MS + MINUTE_MS
        assert min(asked) <= day_before, "the window's candles and a day's warm-up before it"
        assert lines[-1] == "chart: ETH-USDT-SWAP-1d-heatmap.png"
        assert png_size((tmp_path / "ETH-USDT-SWAP-1d-heatmap.png").read_bytes()) == (1280, 720)
        tiers = okx.seen("/api/v5/public/position-tiers")
        assert len(tiers) == 1 and tiers[0].query["tdMode"] == "isolated"
        okx.reset_log()
        again = run(["heatmap", "ETH", "--window", "1d", "--step", "5m",
                     "--out", "eth.png"], tmp_path, env)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert ": 288 columns x " in again.stdout
        assert (tmp_path / "eth.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["heatmap", "BTC", "--at", "2026-03-01"], "--at works with --csv only"),
        (["heatmap", "BTC", "--csv", "{hourly}", "--exchange", "okx"],
         "--exchange does not apply to --csv"),
        (["heatmap", "BTC", "--csv", "{hourly}", "--step", "5m"], "--step does not apply"),
        (["heatmap", "BTC", "--csv", "{hourly}", "--at", "2030-01-01"], "is outside it"),
        (["heatmap", "BTC", "--csv", "{hourly}", "--out", "/nonexistent/dir/x.png"],
         "cannot write the chart to /nonexistent/dir/x.png"),
    ],
)  # fmt: skip
def test_bad_heatmap_arguments_get_a_short_answer(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run([a.replace("{hourly}", str(HOURLY)) for a in args], tmp_path)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_live_heatmap_summed_over_exchanges_names_a_venue_down(tmp_path: Path) -> None:
    with FakeOkx() as okx, FakeBinance() as binance, FakeBybit() as bybit:
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_BINANCE_URL": binance.url,
               "LIQMAP_BYBIT_URL": bybit.url, "LIQMAP_DB": str(tmp_path / "all.db")}  # fmt: skip
        result = run(["heatmap", "BTC", "--exchange", "all", "--window", "1d"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        title, shares, span, *_ = result.stdout.splitlines()
        assert title == "BTC (okx+binance+bybit) 1d liquidation heatmap"
        assert shares.startswith("summed over exchanges: okx ")
        assert " · binance " in shares and " · bybit " in shares
        assert ": 1,440 columns x " in span
        assert png_size((tmp_path / "BTC-1d-heatmap.png").read_bytes()) == (1280, 720)
        bybit.inject(Fault(disconnect=True), "/", times=None)
        down = run(["heatmap", "all:BTC", "--window", "1d"], tmp_path, env)
        assert down.returncode == 0, down.stderr
        assert down.stdout.splitlines()[0] == "BTC (okx+binance) 1d liquidation heatmap"
        assert "note: bybit left out: " in down.stdout


def test_offline_heatmap_split_by_venue(tmp_path: Path) -> None:
    result = run(["heatmap", "BTC", "--csv", str(HOURLY), "--exchange", "all", "--window",
                  "7d", "--out", "all.png"], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    shares = "binance 50% · bybit 30% · okx 20%"
    assert lines[1] == f"summed over exchanges: {shares} (of the latest column)"
    assert f"note: open interest split {shares} (assumed" in result.stdout
    assert png_size((tmp_path / "all.png").read_bytes()) == (1280, 720)
