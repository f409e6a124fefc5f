"""The ``liqmap`` command line as a user runs it, against the fake OKX (in this process, through
``tests.support.cli``), and the console script itself."""

from __future__ import annotations

import io
import re
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from liqmap.cli.progress import ProgressLine
from tests.fakes.bybit import IP_BAN, FakeBybit
from tests.fakes.okx import FakeOkx
from tests.support.cli import LIQMAP, clean_environ, run


@pytest.fixture
def env(okx: FakeOkx, tmp_path: Path) -> dict[str, str]:
    return {"LIQMAP_OKX_URL": okx.url, "LIQMAP_DB": str(tmp_path / "cli.db")}


def test_the_console_script_runs_the_command_line_and_returns_its_status(tmp_path: Path) -> None:
    shown = subprocess.run([LIQMAP, "--version"], env=clean_environ(), cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (shown.returncode, shown.stdout) == (0, f"liqmap {version('liqmap-bot')}\n")
    refused = subprocess.run(
        [LIQMAP, "fetch", "BTC"], env=clean_environ() | {"LIQMAP_REFRESH_SECONDS": "abc"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("configuration error: LIQMAP_REFRESH_SECONDS")


def test_version_names_the_installed_package(tmp_path: Path) -> None:
    result = run(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"liqmap {version('liqmap-bot')}\n"


def test_fetch_fills_the_cache_then_refetches_nothing(
    okx: FakeOkx, env: dict[str, str], tmp_path: Path
) -> None:
    first = run(["fetch", "BTC", "--window", "1d"], tmp_path, env)
    assert first.returncode == 0, first.stderr
    assert "BTC-USDT-SWAP on okx, 1d at 1m:" in first.stdout
    assert "1,440 candles" in first.stdout
    assert "open-interest rows at 5m" in first.stdout
    assert okx.count("/api/v5/market/") > 0

    okx.reset_log()
    second = run(["fetch", "btc", "--window", "1d"], tmp_path, env)
    assert second.returncode == 0, second.stderr
    assert okx.count("/api/v5/market/") + okx.count("/api/v5/rubik/") <= 2


def test_fetch_reads_settings_from_dot_env(okx: FakeOkx, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"LIQMAP_OKX_URL={okx.url}\nLIQMAP_DB=fromenv.db\n")
    result = run(["fetch", "ETH", "--window", "1d", "--step", "1h"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "24 candles" in result.stdout
    assert (tmp_path / "fromenv.db").is_file()


@pytest.mark.fixed_clock  # the fake's market stands still, so the price set here is served
def test_price_of_several_symbols(okx: FakeOkx, env: dict[str, str], tmp_path: Path) -> None:
    okx.tape("ETH-USDT-SWAP").set_price(3333.3)
    result = run(["price", "BTC", "eth", "BTC-USD-SWAP"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[1].split()[:3] == ["ETH-USDT-SWAP", "okx", "3,333.30"]


@pytest.mark.parametrize(
    ("args", "extra_env", "code", "message"),
    [
        (["fetch", "BTCC"], {}, 1, "error: unknown instrument BTCC on okx; did you mean BTC?"),
        (["fetch", "kraken:BTC"], {}, 1, "unknown exchange kraken"),
        (["fetch", "BTC", "--window", "2d"], {}, 2, "invalid choice: '2d'"),
        (["fetch", "BTC"], {"LIQMAP_REFRESH_SECONDS": "abc"}, 2,
         "configuration error: LIQMAP_REFRESH_SECONDS must be a positive number of seconds, "
         "got 'abc'"),
        (["price", "BTC"], {"LIQMAP_OKX_URL": "http://127.0.0.1:9"}, 1,
         "error: okx: not reachable at http://127.0.0.1:9"),
        (["fetch", "BTC", "--exchange", "kraken"], {}, 2,
         "liqmap fetch: error: argument --exchange: must be one of okx, binance, bybit, "
         "hyperliquid, all, "
         "got 'kraken'; see liqmap fetch -h"),
        (["map", "BTC", "a\nb"], {}, 2,
         "liqmap: error: unrecognized arguments: a b; see liqmap -h"),
        (["fetch", "kra\nken:BTC"], {}, 1, "error: unknown exchange kra ken; supported: "),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_short_error(
    env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    extra_env: dict[str, str],
    code: int,
    message: str,
) -> None:
    result = run(args, tmp_path, env | extra_env)
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_progress_names_each_series_and_shows_every_tenth_once() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream, min_rows=100)
    progress("okx BTC-USDT-SWAP 1m candles", 10, 50)
    for done in (100, 150, 260, 1000):
        progress("okx BTC-USDT-SWAP 1m candles", done, 1000)
        progress("binance BTCUSDT 1m candles", done // 2, 500)
    progress("okx BTC-USDT-SWAP 1m candles", 500, 1000)
    assert stream.getvalue().splitlines() == [
        "  okx BTC-USDT-SWAP 1m candles: fetched 100/1,000 rows",
        "  binance BTCUSDT 1m candles: fetched 50/500 rows",
        "  okx BTC-USDT-SWAP 1m candles: fetched 260/1,000 rows",
        "  binance BTCUSDT 1m candles: fetched 130/500 rows",
        "  okx BTC-USDT-SWAP 1m candles: fetched 1,000/1,000 rows",
        "  binance BTCUSDT 1m candles: fetched 500/500 rows",
        "  okx BTC-USDT-SWAP 1m candles: fetched 500/1,000 rows",
    ], "under min_rows nothing; 150 is still the first tenth; a finished series starts again"


def test_a_bybit_ip_ban_is_one_error_line_saying_until_when(
    bybit: FakeBybit, env: dict[str, str], tmp_path: Path
) -> None:
    bybit.inject(IP_BAN, "/v5/market/instruments-info", times=None)
    result = run(["price", "bybit:BTC"], tmp_path, env | {"LIQMAP_BYBIT_URL": bybit.url})
    assert result.returncode == 1
    banned = r"IP banned by Bybit \(HTTP 403\), not called again until \d\d:\d\d UTC"
    assert re.fullmatch(f"error: bybit: {banned}", result.stderr.splitlines()[-1])
