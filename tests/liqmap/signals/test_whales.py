"""The whales board: positions liquidating near price on their own side, largest first, and
counts of everything it leaves out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from liqmap.market.positions import KnownPosition, Position
from liqmap.signals.whales import WHALE_ROWS, short_address, whale_board


def held(address: str, side: str, value: float, liquidation: float | None, read_ms: int = 5,
         stale: bool = False) -> KnownPosition:  # fmt: skip
    position = Position(address, "BTC", side, value / 100.0, 100.0, 10.0, "cross", value / 10,
                        value, liquidation, read_ms)  # fmt: skip
    return KnownPosition(position, 1, stale)


def test_the_rows_are_the_largest_near_price_and_the_rest_is_counted() -> None:
    known = [
        held("0xsmall", "long", 1e5, 95.0),
        held("0xbig", "short", 9e5, 108.0, stale=True),
        held("0xmid", "long", 5e5, 91.0),
        held("0xfar", "long", 8e6, 80.0),
        held("0xpassed", "short", 7e6, 99.0),
        held("0xsafe", "long", 6e6, None, read_ms=2),
    ]
    board = whale_board("BTC", known, 100.0, open_interest_usd=1e8)
    assert [w.position.address for w in board.rows] == ["0xbig", "0xmid", "0xsmall"]
    assert [round(w.distance_pct, 6) for w in board.rows] == [8.0, -9.0, -5.0]
    assert [w.stale for w in board.rows] == [True, False, False]
    assert (board.in_range, board.further, board.no_liquidation, board.passed) == (3, 1, 1, 1)
    assert board.stale == 1 and board.scanned_usd == 1e5 + 9e5 + 5e5 + 8e6 + 7e6 + 6e6
    assert board.coverage == board.scanned_usd / 1e8
    assert (board.oldest_read_ms, board.newest_read_ms) == (2, 5)
    assert whale_board("BTC", known, 100.0, None).coverage is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["long", "short"]),
            st.floats(1.0, 1e9),
            st.one_of(st.none(), st.floats(0.01, 1e6)),
        ),
        max_size=40,
    ),
    st.floats(1.0, 1e5),
)
def test_every_stored_position_is_a_row_or_counted_once(positions: list, price: float) -> None:
    known = [held(f"0x{i:040x}", s, v, liq) for i, (s, v, liq) in enumerate(positions)]
    board = whale_board("BTC", known, price, 1e9)
    counted = board.in_range + board.further + board.no_liquidation + board.passed
    assert counted == len(known)
    assert len(board.rows) == min(board.in_range, WHALE_ROWS)
    values = [w.position.value for w in board.rows]
    assert values == sorted(values, reverse=True)
    for w in board.rows:
        assert abs(w.distance_pct) <= 10.0
        assert (w.distance_pct < 0) == (w.position.side == "long")


def test_addresses_are_shortened_to_their_ends() -> None:
    assert short_address("0x1234567890abcdef1234567890abcdef1234abcd") == "0x1234…abcd"
    assert short_address("0x12") == "0x12"
