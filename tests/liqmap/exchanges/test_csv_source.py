"""The shared CSV files load into the same arrays the exchanges give; bad files are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqmap.errors import DataFormatError
from liqmap.exchanges.csv_source import load_csv
from liqmap.market.timeframes import HOUR_MS
from tests.support.data import FIVE_MINUTE, HOURLY

HEADER = (
    "timestamp,datetime_utc,price_open,price_high,price_low,price_close,"
    "liquidation_long_usd,liquidation_short_usd,liquidation_total_usd,oi_open,oi_close"
)


def test_the_hourly_file_with_realized_liquidations() -> None:
    history = load_csv(HOURLY)
    candles, oi, liq = history.candles, history.open_interest, history.liquidations
    assert history.step_ms == HOUR_MS
    assert len(candles) == 2821 and len(liq) == 2821
    # first row of the file, as published
    assert candles.ts[0] == 1764828000000
    assert (candles.open[0], candles.high[0], candles.low[0], candles.close[0]) == (
        92979.25, 93371.12, 92824.32, 93140.74,
    )  # fmt: skip
    assert liq.long_usd[0] == pytest.approx(42620.5427)
    assert liq.short_usd[0] == pytest.approx(1499665.49438)
    # OI: each bar's open snapshot, then the last bar's close one step later
    assert len(oi) == 2822
    assert oi.usd[0] == 8206829667 and oi.ts[0] == candles.ts[0]
    assert oi.ts[-1] == candles.ts[-1] + HOUR_MS
    assert np.isnan(candles.volume).all()
    assert np.all(np.diff(candles.ts) > 0)
    assert (liq.long_usd > 0).mean() > 0.9


def test_the_five_minute_binance_file() -> None:
    history = load_csv(FIVE_MINUTE)
    assert history.step_ms == 300_000
    assert len(history.candles) == 4032
    assert set(np.diff(history.candles.ts).tolist()) == {300_000}
    assert history.candles.close[0] == 77587.2
    assert history.open_interest.usd[0] == pytest.approx(7719003148.8787)
    assert history.liquidations.long_usd.sum() == 0


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


ROW = "{ts},x,100,101,99,100.5,10,20,30,1000,1001"


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([ROW.format(ts=0)], HEADER.replace(",oi_close", ""),
         "bad.csv: missing column(s) oi_close"),
        ([], HEADER, "needs at least 2 rows"),
        ([ROW.format(ts=0), "60000,x,100,abc,99,100,1,1,2,5,5"], HEADER,
         "bad.csv line 3: price_high is not a valid number ('abc')"),
        ([ROW.format(ts=60000), ROW.format(ts=0)], HEADER,
         "bad.csv line 3: timestamps must increase"),
        ([ROW.format(ts=0), "60000,x,100,98,99,100,1,1,2,5,5"], HEADER,
         "bad.csv line 3: price_low/high do not bound open and close"),
        ([ROW.format(ts=0), "60000,x,100,101,99,100,-1,1,2,5,5"], HEADER,
         "liquidation_long_usd is not a valid number ('-1')"),
        ([ROW.format(ts=0), "60000,x,100,101,99,100,1,1,2,5"], HEADER,
         "oi_close is not a valid number (None)"),
        ([ROW.format(ts=0), "60000,x,100,101,99,100,1,1,2,1e30,5"], HEADER,
         "bad.csv line 3: oi_open of 1e+30 USD is beyond any market"),
        ([ROW.format(ts=0), "60000,x,100,2e9,99,100,1,1,2,5,5"], HEADER,
         "bad.csv line 3: price_high of 2e+09 is beyond any market"),
        ([ROW.format(ts=0), "60000,x,100,101,99,100,1,3e13,2,5,5"], HEADER,
         "bad.csv line 3: liquidation_short_usd of 3e+13 USD is beyond any market"),
        ([ROW.format(ts=0), ROW.format(ts="1e20")], HEADER,
         "bad.csv line 3: timestamp 1e20 is not a time in milliseconds"),
        ([ROW.format(ts=0), ROW.format(ts="60000.5")], HEADER,
         "bad.csv line 3: timestamp 60000.5 is not a time in milliseconds"),
    ],
)  # fmt: skip
def test_bad_files_are_named_with_line_and_column(
    tmp_path: Path, rows: list[str], header: str, message: str
) -> None:
    with pytest.raises(DataFormatError) as caught:
        load_csv(write(tmp_path, *rows, header=header))
    assert message in str(caught.value)


def test_a_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot read"):
        load_csv(tmp_path / "absent.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(DataFormatError):
        load_csv(binary)


def test_the_files_realized_liquidations_sit_at_each_bars_low_and_high() -> None:
    history = load_csv(HOURLY)
    candles, _ = history.window(2 * 3_600_000)
    view = history.realized(candles)
    first = history.candles.ts.searchsorted(candles.ts[0])
    expected = history.liquidations.long_usd[first : first + 2].sum()
    assert view.total("long") == pytest.approx(expected)
    assert {r.price for r in view.rows if r.side == "long"} <= set(candles.low.tolist())
    assert {r.price for r in view.rows if r.side == "short"} <= set(candles.high.tolist())
    assert view.covered == 1.0 and "low (longs) and high (shorts)" in view.coverage_text
