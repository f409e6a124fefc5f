"""Every command, whatever its arguments: it succeeds, or it exits non-zero with one line on
stderr (one per venue when every venue of a sum is down). Offline on generated history files,
live against exchanges at a closed port without retries; ``run`` and ``record`` only with
arguments they refuse, as they would not end by themselves."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqmap.cli.arguments import positive_seconds
from liqmap.cli.tuning import Tuning
from liqmap.exchanges.csv_source import COLUMNS
from liqmap.market.timeframes import DAY_MS, STEPS, WINDOWS
from liqmap.market.venues import CENTRALIZED, VENUES
from liqmap.policies.retry import RetryPolicy
from tests.fakes.http import free_port
from tests.support.cli import run
from tests.support.fast import FAST_CCXT

NO_RETRY = Tuning(exchange_retry=RetryPolicy(attempts=1), ccxt_config=FAST_CCXT)
CLOSED = f"http://127.0.0.1:{free_port()}"
ENV = {f"LIQMAP_{name.upper()}_URL": CLOSED for name in VENUES} | {"LIQMAP_DB": "cli.db"}


def mostly(usual: list[str], other: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One of ``usual`` four times in five, else ``other``."""
    return st.integers(0, 4).flatmap(lambda n: st.sampled_from(usual) if n else other)


symbols = mostly(
    ["BTC", "btc", "eth", "all:BTC", "binance:BTC", "BTC-USDT-SWAP", "XYZ123"], st.text(max_size=12)
)
windows = mostly(list(WINDOWS), st.text(max_size=4))
steps = mostly(list(STEPS), st.text(max_size=4))
exchanges = mostly([*VENUES, "all", "ALL"], st.text(max_size=8))
garbage = st.one_of(
    st.sampled_from(["", "nan", "inf", "-1", "0", "1e14", "1e30", "abc", "0x10", "1,5", "12.5"]),
    st.floats().map(repr),
    st.text(max_size=6),
)


def instants(first: int, end: int) -> st.SearchStrategy[str]:
    """ISO times in and around ``[first, end]`` (ms), and some that are not times."""
    near = st.integers(first - DAY_MS, end + DAY_MS).map(lambda ms: utc_iso(ms))
    return mostly(["2026-05-25T16:00", "1970-01-01"], near | st.text(max_size=16))


def utc_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


@st.composite
def rows(draw: st.DrawFn) -> list[list[str]]:
    """Bars that hold together (a random walk within its bounds), one time in three with a
    defect: garbage in a cell, a time out of order, a figure beyond any market."""
    count = draw(st.integers(0, 40))
    step = int(draw(mostly(["60000", "300000", "3600000"], st.sampled_from(["86400000", "7000"]))))
    ts = draw(st.integers(1_500_000_000_000, 1_800_000_000_000))
    price, oi = draw(st.floats(1e-6, 1e7)), draw(st.floats(0, 1e12))
    table = []
    for _ in range(count):
        close = price * draw(st.floats(0.9, 1.1))
        high = max(price, close) * draw(st.floats(1.0, 1.1))
        low = min(price, close) / draw(st.floats(1.0, 1.1))
        oi_close = oi * draw(st.floats(0.9, 1.1))
        liquidations = [draw(st.floats(0, 1e9)) for _ in range(2)]
        table.append([str(x) for x in (ts, price, high, low, close, *liquidations, oi, oi_close)])
        ts, price, oi = ts + step, close, oi_close
    if table and draw(st.integers(0, 2)) == 0:
        row = draw(st.sampled_from(table))
        row[draw(st.integers(0, len(row) - 1))] = draw(garbage)
    return table


@st.composite
def history_files(draw: st.DrawFn, folder: Path) -> tuple[str, int, int]:
    """A file in the format of data/README.md (or something near it) named after an asset,
    and the first and last times it holds (ms)."""
    name = draw(st.sampled_from(["btc_gen.csv", "eth-5m.csv", "history.csv"]))
    path = folder / name
    shape = draw(mostly(["rows"], st.sampled_from(["empty", "header", "binary", "none"])))
    table = draw(rows()) if shape == "rows" else []
    if shape == "none":
        path.unlink(missing_ok=True)
    elif shape == "binary":
        path.write_bytes(draw(st.binary(max_size=64)))
    else:
        text = "" if shape == "empty" else "\n".join(",".join(r) for r in [COLUMNS, *table])
        path.write_text(text + "\n", encoding="utf-8")
    times = [int(row[0]) for row in table if row[0].isdigit()] or [1_700_000_000_000]
    return name, min(times), max(times)


def option(
    draw: st.DrawFn, flag: str, values: st.SearchStrategy[str], one_in: int = 3
) -> list[str]:
    """``flag`` with one of ``values``, one time in ``one_in``."""
    return [flag, draw(values)] if draw(st.integers(1, one_in)) == 1 else []


@st.composite
def command_lines(draw: st.DrawFn, folder: Path) -> list[str]:
    """A command line of any command but run and record, or one they refuse (without
    ``-v``, which logs more lines by design)."""
    command = draw(st.sampled_from(["map", "heatmap", "backtest", "fetch", "price", "refused"]))
    if command in ("map", "heatmap"):
        args = [command]
        if draw(st.integers(0, 3)):
            name, first, end = draw(history_files(folder))
            asset = re.split(r"[_.-]", name)[0]
            args += [draw(mostly([asset, asset.upper(), f"all:{asset}"], symbols)), "--csv", name]
            args += option(draw, "--at", instants(first, end))
        else:
            args += [draw(symbols)]
        args += option(draw, "--window", windows)
        args += option(draw, "--exchange", exchanges, 6) + option(draw, "--step", steps, 6)
        args += ["--json"] if command == "map" and draw(st.booleans()) else ["--out", "x.png"]
    elif command == "backtest":
        if draw(st.booleans()):
            args = ["backtest", "--csv", draw(history_files(folder))[0]]
        else:
            args = ["backtest", "--db", *draw(st.lists(symbols, max_size=2))]
        args += option(draw, "--exchange", exchanges, 6) + (
            ["--json"] if draw(st.booleans()) else []
        )
    elif command == "fetch":
        args = ["fetch", draw(symbols), *option(draw, "--window", windows)]
        args += option(draw, "--exchange", exchanges) + option(draw, "--step", steps)
    elif command == "price":
        args = ["price", *draw(st.lists(symbols, max_size=3))]
        args += option(draw, "--exchange", exchanges)
    else:
        args = draw(refused_services())
    return args


def refused(seconds: str) -> bool:
    try:
        positive_seconds(seconds)
    except Exception:
        return True
    return False


@st.composite
def refused_services(draw: st.DrawFn) -> list[str]:
    """``run`` or ``record`` with arguments that stop them before they start."""
    if draw(st.booleans()):
        return ["run", draw(st.text(min_size=1, max_size=8).filter(lambda t: t != "--"))]
    seconds = draw(st.text(max_size=6).filter(refused))
    return ["record", *draw(st.lists(symbols, max_size=2)), "--for", seconds]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_command_succeeds_or_fails_in_one_line(tmp_path: Path, data: st.DataObject) -> None:
    args = data.draw(command_lines(tmp_path), label="args")
    result = run(args, tmp_path, ENV, NO_RETRY)
    if result.returncode == 0:
        return
    lines = result.stderr.splitlines()
    every_venue_down = [f"error: {name}: not reachable at {CLOSED}" for name in CENTRALIZED]
    assert len(lines) == 1 or lines == every_venue_down, result.stderr
