"""``liqmap map`` and ``liqmap backtest`` as a user runs them: offline on CSV, live on fake OKX
(in this process, through ``tests.support.cli``); and what the offline commands import, in a
process of their own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from liqmap.charts.map_chart import REALIZED_LONG
from liqmap.exchanges.csv_source import load_csv
from tests.fakes.okx import FakeOkx
from tests.support.cli import run
from tests.support.data import FIVE_MINUTE, HOURLY
from tests.support.png import colour_pixels


def test_offline_map_as_of_a_time_prints_json_for_other_tools(tmp_path: Path) -> None:
    hourly = HOURLY
    result = run(["map", "BTC", "--csv", str(hourly), "--window", "7d",
                  "--at", "2026-03-19T11:00:00Z", "--json"], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    history = load_csv(hourly)
    at = history.candles.ts.tolist().index(1773918000000)  # 2026-03-19 11:00 UTC
    assert data["price"] == history.candles.close[at - 1], "the close of the last bar before"
    assert data["as_of"] == "2026-03-19T11:00:00+00:00"
    assert data["instrument"] == "BTC" and data["window"] == "7d" and data["step"] == "1h"
    assert len(data["bins"]) == len(data["long_usd"]) == len(data["short_usd"]) == 500
    assert sum(data["long_usd"]) > 0 and sum(data["short_usd"]) > 0
    assert {c["side"] for c in data["clusters"]} == {"long", "short"}
    for cluster in data["clusters"]:
        assert cluster["low"] < cluster["high"]
        assert (cluster["high"] <= data["price"]) == (cluster["side"] == "long")
    assert list(tmp_path.iterdir()) == [], "--json alone writes no chart"


def test_offline_map_summary_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "btc.png"
    result = run(["map", "btc", "--csv", str(FIVE_MINUTE), "--window", "1d",
                  "--out", str(out)], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("BTC (btc_binance_5m_2026-05-25_06-08.csv) 1d map as of 2026-06-08")
    assert lines[1].startswith("nearest long liquidation cluster: ")
    assert "below" in lines[1]
    assert lines[2].startswith("nearest short liquidation cluster: ")
    assert "above" in lines[2]
    assert re.fullmatch(r"max pain: longs [\d,]+-[\d,]+ \$[\d.]+[KMB]?, shorts .+", lines[3])
    assert lines[4] == f"chart: {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert colour_pixels(out.read_bytes(), REALIZED_LONG) == 0, "this file records none"


def test_offline_map_split_by_venue_sums_each_venue_under_its_rules(tmp_path: Path) -> None:
    from liqmap.engine.model import build_map
    from liqmap.market.venue_split import scaled, venue_slices

    args = ["map", "BTC", "--csv", str(HOURLY), "--window", "7d", "--at", "2026-03-19T11:00"]
    whole = json.loads(run([*args, "--json"], tmp_path).stdout)
    result = run(["map", "all:BTC", *args[2:], "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    split = json.loads(result.stdout)
    assert [(v["exchange"], round(v["share"], 2)) for v in split["venues"]] == [
        ("binance", 0.5), ("bybit", 0.3), ("okx", 0.2)
    ], "shares of the summed map: each venue's part of the same history"  # fmt: skip
    shares = "binance 50% · bybit 30% · okx 20%"
    assert split["notes"] == [
        f"open interest split {shares} (assumed: the file holds only the sum)"
    ]
    candles, oi = load_csv(HOURLY).window(7 * 86_400_000, 1773918000000)
    maps = [build_map(candles, scaled(oi, s.share), s.params) for s in venue_slices()]
    expected = sum(m.long_usd.sum() for m in maps)
    assert sum(split["long_usd"]) == pytest.approx(expected, rel=1e-9)
    assert sum(split["long_usd"]) != pytest.approx(sum(whole["long_usd"]), rel=1e-6)
    chart = run(["map", "BTC", *args[2:], "--exchange", "all", "--out", "all.png"], tmp_path)
    assert chart.returncode == 0, chart.stderr
    assert chart.stdout.startswith("BTC (btc_agg_1h_2025-12_2026-03.csv) 7d map")
    assert "Summed over" in chart.stdout or "summed over" in chart.stdout
    png = (tmp_path / "all.png").read_bytes()
    assert colour_pixels(png, REALIZED_LONG) > 50, "the file's realized longs, drawn"


def test_offline_map_and_heatmap_import_neither_ccxt_nor_telegram(tmp_path: Path) -> None:
    """A fresh process: the test process has imported everything already."""
    code = (
        "import sys\n"
        "from liqmap.cli.main import main\n"
        f"codes = [main(['map', 'BTC', '--csv', {str(HOURLY)!r}, '--json']),\n"
        f"         main(['heatmap', 'BTC', '--csv', {str(HOURLY)!r}, '--out', 'x.png'])]\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = sorted(loaded & {'ccxt', 'telegram', 'apscheduler'})\n"
        "print(*codes, heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.stderr.strip().splitlines()[-1] == "0 0 []"


def test_live_map_against_the_fake_exchange(tmp_path: Path) -> None:
    with FakeOkx() as okx:
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        result = run(["map", "ETH", "--window", "1d"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("ETH-USDT-SWAP (okx) 1d map as of ")
        assert (tmp_path / "ETH-USDT-SWAP-1d.png").is_file()
        tiers = okx.seen("/api/v5/public/position-tiers")
        assert len(tiers) == 1 and tiers[0].query["tdMode"] == "isolated"
        okx.reset_log()
        again = run(["map", "ETH", "--window", "1d", "--json"], tmp_path, env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["source"] == "okx"
        assert okx.count("/api/v5/market/") + okx.count("/api/v5/rubik/") <= 2


def test_live_map_says_when_open_interest_came_coarser(tmp_path: Path) -> None:
    with FakeOkx() as okx:  # keeps the latest 1,440 rows: 5 days of 5m OI
        env = {"LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(tmp_path / "live.db")}
        result = run(["map", "BTC", "--window", "7d"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        notes = [line for line in result.stdout.splitlines() if line.startswith("note: ")]
        assert len(notes) == 1
        assert notes[0].startswith("note: okx has no 5m open interest of BTC-USDT-SWAP before ")
        assert notes[0].endswith("; using 1h open interest")
        again = run(["map", "BTC", "--window", "7d", "--json"], tmp_path, env)
        (note,) = json.loads(again.stdout)["notes"]  # its time moves with the clock
        assert note.startswith("okx has no 5m open interest of BTC-USDT-SWAP before ")
        assert note.endswith("; using 1h open interest")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "BTC", "--at", "2026-03-01"], "--at works with --csv only"),
        (["map", "BTC", "--csv", "{hourly}", "--step", "5m"], "--step does not apply to --csv"),
        (["map", "BTC", "--csv", "{hourly}", "--exchange", "bybit"], "except --exchange all"),
        (["map", "BTC", "--csv", "{hourly}", "--at", "soon"], "must be an ISO time"),
        (["map", "BTC", "--csv", "{hourly}", "--at", "2030-01-01"], "is outside it"),
        (["map", "BTC", "--csv", "{hourly}", "--out", "/nonexistent/dir/x.png"],
         "cannot write the chart to /nonexistent/dir/x.png"),
        (["map", "<b>", "--csv", "{hourly}"], "is not a symbol"),
        (["map", "BTC", "--csv", "missing.csv"], "cannot read missing.csv"),
        (["backtest", "--csv", "missing.csv"], "cannot read missing.csv"),
    ],
)  # fmt: skip
def test_bad_map_arguments_get_a_short_answer(
    tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.replace("{hourly}", str(HOURLY)) for a in args]
    result = run(args, tmp_path)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_json_output_is_strict_where_a_figure_is_undefined(tmp_path: Path) -> None:
    header, *rows = HOURLY.read_text().splitlines()[:401]
    column = header.split(",").index("liquidation_short_usd")
    quiet = [",".join("0" if i == column else cell for i, cell in enumerate(row.split(",")))
             for row in rows]  # fmt: skip
    no_shorts = tmp_path / "no_shorts.csv"
    no_shorts.write_text("\n".join([header, *quiet]) + "\n")
    result = run(["backtest", "--csv", str(no_shorts), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    data = json.loads(result.stdout, parse_constant=refuse)
    short = data["parts"]["all"]["short"]
    assert short["spearman"] is None and short["partial"] is None, "no short was liquidated"
    assert isinstance(data["parts"]["all"]["long"]["spearman"], float)


def test_backtest_prints_model_and_naive_figures_per_part(tmp_path: Path) -> None:
    lines = HOURLY.read_text().splitlines()
    small = tmp_path / "small.csv"
    small.write_text("\n".join(lines[:601]) + "\n")
    result = run(["backtest", "--csv", str(small), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["file"] == "small.csv"
    assert set(data["parts"]) == {"all", "fit", "check"}
    assert list(data["venues"]) == ["binance", "bybit", "okx", "all"]
    assert data["venues"]["okx"]["check_long"] == data["parts"]["check"]["long"]
    assert data["venue_split"].startswith("open interest split binance 50% · bybit 30%")
    check = data["parts"]["check"]
    assert check["hours"] == 108  # 600 bars, 168 of warm-up, the last quarter
    for side in ("long", "short", "naive_long", "naive_short"):
        assert set(check[side]) == {"spearman", "baseline", "partial", "lift", "hours",
                                    "entered_hours"}  # fmt: skip
    text = run(["backtest", "--csv", str(small)], tmp_path)
    assert text.returncode == 0
    assert "partial" in text.stdout and "naive" in text.stdout and "check: 108 hours" in text.stdout
    venues = text.stdout.split("\nby venue: ")[1].splitlines()
    assert [line.split()[0] for line in venues[2:]] == ["binance", "bybit", "okx", "all"]
    assert "n/a" in text.stdout, "no cluster entered: no lift"
    assert not re.search(r"\bnan\b", text.stdout)


def tiny_file(tmp_path: Path, name: str = "btc_tiny.csv", rows: int = 4) -> Path:
    """The first ``rows`` five-minute bars of the Binance file."""
    path = tmp_path / name
    path.write_text("\n".join(FIVE_MINUTE.read_text().splitlines()[: rows + 1]) + "\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "XYZ123"], "XYZ123 is not named in btc_agg_1h_2025-12_2026-03.csv: a history "
         "file holds no symbol, so its name says whose it is (e.g. btc_1h.csv)"),
        (["heatmap", "eth"], "ETH is not named in btc_agg_1h_2025-12_2026-03.csv: a history "
         "file holds no symbol, so its name says whose it is (e.g. btc_1h.csv)"),
        (["map", "binance:BTC"], "binance:BTC: --csv reads no exchange, only the file; give "
         "BTC, or all:BTC to split its open interest by venue"),
        (["heatmap", "BTC-USDT-SWAP"], "--csv takes the file's asset, such as BTC, not "
         "BTC-USDT-SWAP"),
        (["map", "BTC", "--at", "2025-12-04T06:30"], "no bar of btc_agg_1h_2025-12_2026-03.csv "
         "closes by 2025-12-04 06:30 UTC: its bars close from 2025-12-04 07:00 UTC to "
         "2026-04-01 00:00 UTC"),
    ],
)  # fmt: skip
def test_offline_refuses_what_the_file_cannot_answer_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run([*args, "--csv", str(HOURLY)], tmp_path)
    assert (result.returncode, result.stderr) == (1, f"error: {message}\n")


@pytest.mark.parametrize("command", ["map", "heatmap"])
def test_offline_names_the_window_the_file_covers(tmp_path: Path, command: str) -> None:
    tiny = tiny_file(tmp_path)
    result = run([command, "BTC", "--csv", str(tiny), "--window", "30d"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BTC (btc_tiny.csv) 20m ")
    assert "note: btc_tiny.csv covers only 20 minutes of the 30d window, from 2026-05-25 " \
        "15:55 UTC" in result.stdout  # fmt: skip
    assert (tmp_path / f"BTC-20m{'-heatmap' if command == 'heatmap' else ''}.png").is_file()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (None, "btc_binance_5m_2026-05-25_06-08.csv records no liquidations (its liquidation "
         "columns are all zero): the backtest has nothing to measure the map against"),
        (4, "btc_tiny.csv has 4 bars of 5m: the backtest needs 2,304 (a week to build the "
         "map, then a day to score)"),
    ],
)  # fmt: skip
def test_backtest_refuses_a_file_it_cannot_score_at_once(
    tmp_path: Path, rows: int | None, message: str
) -> None:
    path = FIVE_MINUTE if rows is None else tiny_file(tmp_path, rows=rows)
    if rows is not None:  # give the tiny file liquidations: only its length is wrong
        header, *lines = path.read_text().splitlines()
        path.write_text("\n".join([header, *(line.replace(",0,0,0,", ",5,7,12,") for line in
                                             lines)]) + "\n")  # fmt: skip
    result = run(["backtest", "--csv", str(path)], tmp_path)
    assert (result.returncode, result.stderr) == (1, f"error: {message}\n")


def test_backtest_names_the_bar_step_of_the_file(tmp_path: Path) -> None:
    header, *rows = HOURLY.read_text().splitlines()[:401]
    start = int(rows[0].split(",")[0])
    half_hours = [f"{start + i * 1_800_000}{row[row.index(',') :]}" for i, row in enumerate(rows)]
    path = tmp_path / "btc_30m.csv"
    path.write_text("\n".join([header, *half_hours]) + "\n")
    result = run(["backtest", "--csv", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "btc_30m.csv: map before each 30m bar vs that bar's realized liquidations\n"
    )
    assert "\ncheck: 16 bars of 30m, " in result.stdout, "400 bars, 336 of warm-up, a quarter"
    assert "\nentered bars " in result.stdout and "hour" not in result.stdout
