"""The real layer in a map's caption: count, USD and coverage together, how old the reads are
(plainly when the scan is behind), how many are stale, and one line on how to start where no
position was scanned yet; within Telegram's caption limit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.texts.common import CAPTION_LIMIT
from bot.texts.maps import map_caption
from liqmap.engine.clusters import Cluster
from liqmap.engine.model import LiquidationMap
from liqmap.engine.real_layer import RealLevel, bin_real
from liqmap.engine.snapshot import MapSnapshot
from liqmap.errors import ExchangeUnavailable
from liqmap.market.timeframes import MINUTE_MS
from tests.bot.texts.test_texts import shown, units

AS_OF = 1_800_000_000_000
EDGES = np.linspace(75, 125, 501)


def hyperliquid_map(*levels: RealLevel, coverage: float | None = 0.073) -> MapSnapshot:
    liq_map = LiquidationMap(100.0, AS_OF, EDGES, np.ones((5, 500)), np.ones((5, 500)))
    clusters = [Cluster("long", 95.0, 96.0, 95.5, 2e6, 0.2, 2e6, 3.0, -4.0, "long@1")]
    real = bin_real(EDGES, levels, coverage) if levels or coverage is not None else None
    return MapSnapshot("BTC", "hyperliquid", "1d", "1m", liq_map, clusters, real=real)


def levels() -> list[RealLevel]:
    return [
        RealLevel("long", 96.04, 6e7, AS_OF - 4 * MINUTE_MS),
        RealLevel("long", 91.3, 1.5e7, AS_OF - MINUTE_MS, stale=True),
        RealLevel("short", 104.51, 1e7, AS_OF - 2 * MINUTE_MS),
        RealLevel("short", 300.0, 5e8, AS_OF),
    ]


def test_the_caption_gives_the_real_count_usd_coverage_age_and_stale_positions() -> None:
    caption = map_caption(hyperliquid_map(*levels()), now_ms=AS_OF, computed_at_ms=AS_OF)
    assert "🟣 Real: 3 positions liquidate on this map, $85.0M; scanned 7.3% of open interest" in (
        caption
    )
    assert "Real positions read 4 min ago at the oldest, 1 stale (not in the latest scan pass)" in (
        caption
    )
    assert (
        "🟣 Densest real: longs <b>96.00–96.10</b> $60.0M · shorts <b>104.50–104.60</b> $10.0M"
        in (caption)
    )
    assert "behind" not in caption


def test_reads_older_than_the_scanner_s_behind_mark_are_called_behind() -> None:
    late = AS_OF + 10 * MINUTE_MS  # the oldest read is 14 min old
    on_time = map_caption(hyperliquid_map(*levels()), now_ms=late, computed_at_ms=AS_OF)
    assert "Real positions read 14 min ago at the oldest, 1 stale" in on_time
    assert "behind" not in on_time, "within two of the default 10 min periods"
    fast_scanner = 5 * MINUTE_MS
    caption = map_caption(hyperliquid_map(*levels()), late, AS_OF, scan_period_ms=fast_scanner)
    assert (
        "⚠️ Real positions read 14 min ago at the oldest: the scan is behind, they may have "
        "moved, 1 stale (not in the latest scan pass)"
    ) in caption


def test_unknown_coverage_and_no_position_in_range_are_said_so() -> None:
    unknown = map_caption(hyperliquid_map(*levels(), coverage=None), AS_OF, AS_OF)
    assert "$85.0M; coverage unknown (no open interest recorded yet)" in unknown
    far = hyperliquid_map(RealLevel("short", 300.0, 5e8, AS_OF), coverage=0.2)
    caption = map_caption(far, AS_OF, AS_OF)
    assert (
        "🟣 Real: no scanned position liquidates on this map; scanned 20.0% of open interest"
        in (caption)
    )
    assert "read" not in caption and "Densest real" not in caption


def test_a_hyperliquid_map_with_nothing_scanned_says_how_to_start_in_one_line() -> None:
    caption = map_caption(hyperliquid_map(coverage=None), AS_OF, AS_OF)
    real = [line for line in caption.splitlines() if "🟣" in line]
    assert real == [
        "🟣 No real positions of BTC scanned yet: /subscribe hyperliquid:BTC has the service "
        "scan them, or run liqmap scan ADDRESS."
    ]


def test_a_venue_that_hides_positions_gets_no_real_line() -> None:
    okx = replace(hyperliquid_map(*levels()), source="okx")
    assert "🟣" not in map_caption(okx, AS_OF, AS_OF)
    assert "🟣" not in map_caption(replace(okx, real=None), AS_OF, AS_OF)


def test_the_real_lines_fit_the_caption_beside_notes_and_an_error() -> None:
    many = [RealLevel("long", 96.04, 2e11, 0, stale=True) for _ in range(3)] * 40_000
    snapshot = replace(
        hyperliquid_map(*many, coverage=12.5),
        notes=("built from 23.9 h of recorded open interest (1,434 snapshots)",),
    )
    error = ExchangeUnavailable("hyperliquid", "not reachable at http://127.0.0.1:1")
    caption = map_caption(snapshot, AS_OF + 400 * 86_400_000, AS_OF, error)
    assert units(shown(caption)) <= CAPTION_LIMIT
    assert "…" not in shown(caption), "nothing clipped"
    assert "120,000 positions" in caption and "120,000 stale" in caption
    assert "scanned 1250.0% of open interest" in caption


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            RealLevel, st.sampled_from(["long", "short"]), st.floats(0.0, 400.0),
            st.floats(1e-6, 1e15), st.integers(0, 2 * AS_OF), st.booleans(),
        ),
        max_size=30,
    ),
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.integers(0, 4 * AS_OF),
)  # fmt: skip
def test_any_real_layer_gives_a_caption_within_the_limit(
    levels: list[RealLevel], coverage: float | None, now_ms: int
) -> None:
    caption = map_caption(hyperliquid_map(*levels, coverage=coverage), now_ms, AS_OF)
    assert units(shown(caption)) <= CAPTION_LIMIT
    assert "🟣" in caption
