"""The Hyperliquid leaderboard against the fake's (shape and evidence in
``tests/fakes/hyperliquid.py``): its accounts with their account value where it answers, and
``LeaderboardGone`` with the note to show where it is refused, unreachable or unreadable."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap.exchanges.leaderboard import (
    Leader,
    LeaderboardGone,
    parse_leaderboard,
    read_leaderboard,
)
from tests.fakes.http import Fault, free_port
from tests.fakes.hyperliquid import LEADERBOARD_PATH, FakeHyperliquid

A = "0x" + "a" * 40


def account_value(fake: FakeHyperliquid, address: str) -> float:
    """What the account's ``clearinghouseState`` says it is worth."""
    return float(fake.state(address)["marginSummary"]["accountValue"])  # type: ignore[index]


async def test_the_leaderboard_lists_each_account_with_its_account_value(
    hyperliquid: FakeHyperliquid,
) -> None:
    addresses = hyperliquid.open_accounts(5)
    board = await read_leaderboard(hyperliquid.leaderboard_url)
    assert board.skipped == 0
    assert sorted(board.leaders, key=lambda x: x.address) == sorted(
        (Leader(a, pytest.approx(account_value(hyperliquid, a))) for a in addresses),
        key=lambda x: x.address,
    )
    assert all(leader.account_value > 0 for leader in board.leaders)
    assert [r.method for r in hyperliquid.seen(LEADERBOARD_PATH)] == ["GET"]


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        (Fault(status=404, body="Not Found"), "the leaderboard answered HTTP 404"),
        (Fault(status=403, body="<html>denied</html>"), "the leaderboard answered HTTP 403"),
        (Fault(status=200, body="<html>moved</html>", content_type="text/html"),
         "the leaderboard answered something that is not JSON"),
        (Fault(status=200, body='{"rows": []}', content_type="application/json"),
         "the leaderboard answered without leaderboardRows"),
        (Fault(disconnect=True), "the leaderboard is not reachable ("),
    ],
)  # fmt: skip
async def test_a_leaderboard_that_is_gone_says_why(
    hyperliquid: FakeHyperliquid, fault: Fault, note: str
) -> None:
    hyperliquid.open_accounts(2)
    hyperliquid.inject(fault, LEADERBOARD_PATH, times=None)
    with pytest.raises(LeaderboardGone) as gone:
        await read_leaderboard(hyperliquid.leaderboard_url)
    assert str(gone.value).startswith(note)


async def test_a_leaderboard_nobody_listens_for_is_not_reachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/Mainnet/leaderboard"
    with pytest.raises(LeaderboardGone, match=r"^the leaderboard is not reachable \(.+\)$"):
        await read_leaderboard(url)


async def test_a_leaderboard_too_slow_to_answer_is_gone(hyperliquid: FakeHyperliquid) -> None:
    hyperliquid.inject(Fault(delay=2.0), LEADERBOARD_PATH)
    with pytest.raises(LeaderboardGone, match=r"^the leaderboard gave no answer within 0\.3s$"):
        await read_leaderboard(hyperliquid.leaderboard_url, read_seconds=0.3)


bad_rows = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.fixed_dictionaries({"ethAddress": st.text(max_size=44), "accountValue": st.just("1.0")}),
    st.fixed_dictionaries({"ethAddress": st.just(A),
                           "accountValue": st.sampled_from(["-1", "nan", "inf", "x", None,
                                                            True, [], "1e999"])}),
)  # fmt: skip


@given(st.lists(bad_rows, max_size=10), st.floats(0, 1e12))
def test_each_row_that_is_not_an_account_with_a_value_is_skipped_and_counted(
    bad: list[object], value: float
) -> None:
    good = {"ethAddress": A.upper().replace("0X", "0x"), "accountValue": repr(value),
            "windowPerformances": [], "prize": 0, "displayName": None}  # fmt: skip
    body = json.dumps({"leaderboardRows": [*bad, good]}).encode()
    board = parse_leaderboard(body)
    assert board.skipped == len(bad)
    assert board.leaders == (Leader(A, value),)
