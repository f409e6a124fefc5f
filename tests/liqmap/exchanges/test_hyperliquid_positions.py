"""Real positions of Hyperliquid accounts: ``clearinghouseState`` from the fake
(tests/fakes/hyperliquid.py, the documented answer) through ``MarketData.account``, and the
parser keeping only what is a position."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap.exchanges.ccxt_client import MalformedData
from liqmap.exchanges.market_data import MAX_PRICE
from liqmap.exchanges.positions import parse_clearinghouse_state
from tests.conftest import Adapter
from tests.fakes.clock import Clock
from tests.fakes.hyperliquid import FakeHyperliquid, liquidation_price, maintenance_rate

pytestmark = pytest.mark.fixed_clock

ADDRESS = "0x31ca8395cf837de08b24da3f660e77761dfb974b"
DOCUMENTED = {
    "coin": "BTC", "szi": "0.5", "entryPx": "43000.0", "positionValue": "21625.0",
    "returnOnEquity": "5.25", "unrealizedPnl": "125.0",
    "leverage": {"type": "cross", "value": 20}, "liquidationPx": "38500.0",
    "marginUsed": "4312.50", "maxLeverage": 40,
    "cumFunding": {"allTime": "25.75", "sinceChange": "2.50", "sinceOpen": "5.25"},
}  # fmt: skip
"""A position as the docs' example shows it (Info endpoint, perpetuals account summary)."""


def answer(*positions: object, time: object = 1_700_000_000_000) -> dict[str, Any]:
    return {"assetPositions": [{"type": "oneWay", "position": p} for p in positions],
            "time": time}  # fmt: skip


async def test_an_account_is_read_with_every_position_the_fake_opened(
    hyperliquid: FakeHyperliquid, adapter: Adapter, clock: Clock
) -> None:
    (address,) = hyperliquid.open_accounts(1, seed=3)
    opened = {p.coin: p for p in hyperliquid.accounts[address]}
    async with adapter(hyperliquid=hyperliquid.url) as market:
        read = await market.account(address)
    assert read.skipped == 0 and read.read_ms == clock()
    assert {p.coin for p in read.positions} == set(opened)
    for position in read.positions:
        made = opened[position.coin]
        perp = next(p for p in hyperliquid.perps if p.name == made.coin)
        assert position.side == ("long" if made.szi > 0 else "short")
        assert (position.size, position.entry) == (abs(made.szi), made.entry)
        assert (position.leverage, position.mode) == (made.leverage, made.mode)
        mark = hyperliquid.tape(made.coin).last_price()
        assert position.value == pytest.approx(abs(made.szi) * mark)
        expected = liquidation_price(made.entry, made.leverage, made.szi > 0,
                                     maintenance_rate(perp))  # fmt: skip
        if expected > 0:
            assert position.liquidation == pytest.approx(expected, rel=1e-4)
        else:
            assert position.liquidation is None, "a 1x long cannot be liquidated"
    asked = [json.loads(r.body) for r in hyperliquid.seen("/info")]
    assert asked[-1] == {"type": "clearinghouseState", "user": address}


def test_the_documented_position_is_read_as_it_is_written() -> None:
    read = parse_clearinghouse_state(ADDRESS, answer(DOCUMENTED), 1)
    (position,) = read.positions
    assert (position.coin, position.side, position.size, position.entry) == (
        "BTC", "long", 0.5, 43000.0
    )  # fmt: skip
    assert (position.leverage, position.mode, position.margin) == (20, "cross", 4312.5)
    assert (position.value, position.liquidation, position.read_ms) == (
        21625.0, 38500.0, 1_700_000_000_000
    )  # fmt: skip
    short = parse_clearinghouse_state(ADDRESS, answer(DOCUMENTED | {"szi": "-0.5"}), 1)
    assert short.positions[0].side == "short" and short.positions[0].size == 0.5


def test_a_null_liquidation_price_is_kept_as_none() -> None:
    read = parse_clearinghouse_state(ADDRESS, answer(DOCUMENTED | {"liquidationPx": None}), 1)
    assert read.positions[0].liquidation is None and read.skipped == 0


def test_an_answer_without_positions_is_malformed_not_an_empty_account() -> None:
    for raw in (None, [], {"time": 1}, {"assetPositions": None}):
        with pytest.raises(MalformedData):
            parse_clearinghouse_state(ADDRESS, raw, 1)
    assert parse_clearinghouse_state(ADDRESS, answer(), 5).positions == ()


NOT_A_NUMBER = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5).filter(lambda t: not _is_number(t)),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers()),
)  # fmt: skip
ABSURD_PRICE = st.one_of(
    st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e10", str(MAX_PRICE * 2)]),
    st.floats(max_value=0) | st.floats(min_value=MAX_PRICE, exclude_min=True),
)
NOT_A_SIZE = st.one_of(st.sampled_from(["0", "0.0", "-0", "nan", "inf"]), NOT_A_NUMBER)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


MALFORMED = st.one_of(
    st.fixed_dictionaries({"szi": NOT_A_SIZE}),
    st.fixed_dictionaries({"liquidationPx": ABSURD_PRICE}),
    st.fixed_dictionaries({"entryPx": ABSURD_PRICE | NOT_A_NUMBER}),
    st.fixed_dictionaries({"coin": st.one_of(st.none(), st.just(""), st.integers())}),
    st.fixed_dictionaries({"leverage": st.one_of(
        st.none(), st.just({"type": "portfolio", "value": 5}),
        st.just({"type": "cross", "value": 0}), st.just({"type": "isolated"}),
        st.builds(lambda v: {"type": "cross", "value": v}, NOT_A_NUMBER),
    )}),
    st.fixed_dictionaries({"positionValue": NOT_A_NUMBER | st.just("-5")}),
    st.fixed_dictionaries({"marginUsed": NOT_A_NUMBER}),
)  # fmt: skip
"""One field of the documented position spoiled: the position is no longer one we can use."""
JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.just({"type": "oneWay"}))
"""An item of ``assetPositions`` that is no position at all."""


@settings(max_examples=300, deadline=None)
@given(
    spoiled=st.lists(MALFORMED, min_size=1, max_size=4),
    good=st.integers(min_value=0, max_value=3),
    junk=st.lists(JUNK, max_size=3),
)
def test_a_malformed_position_is_skipped_and_counted_never_kept(
    spoiled: list[dict[str, object]], good: int, junk: list[object]
) -> None:
    raw = answer(*[DOCUMENTED | s for s in spoiled], *[DOCUMENTED] * good)
    raw["assetPositions"].extend(junk)
    read = parse_clearinghouse_state(ADDRESS, raw, 1)
    assert len(read.positions) == good
    assert read.skipped == len(spoiled) + len(junk)
    for position in read.positions:
        assert position.size > 0 and 0 < position.entry <= MAX_PRICE
        assert position.liquidation is None or 0 < position.liquidation <= MAX_PRICE


def test_the_fake_weighs_an_account_read_2_of_its_1200_a_minute(
    hyperliquid: FakeHyperliquid,
) -> None:
    def post(body: dict[str, str]) -> int:
        request = urllib.request.Request(
            f"{hyperliquid.url}/info", json.dumps(body).encode(), method="POST"
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    account = {"type": "clearinghouseState", "user": ADDRESS}
    assert [post({"type": "meta"}) for _ in range(59)] == [200] * 59, "59 x 20 = 1180"
    assert [post(account) for _ in range(10)] == [200] * 10, "10 x 2 = 20"
    assert post(account) == 429
