"""The Hyperliquid leaderboard, where it answers: accounts with their account value.

It is not part of Hyperliquid's documented API. Hyperliquid's web app reads it with a GET of
``https://stats-data.hyperliquid.xyz/Mainnet/leaderboard``; third parties record its shape
(monjurkuet/cryptoOS, ``data-sources/hyperliquid/docs/API_LEADERBOARD.md``: ``{"leaderboardRows":
[{"ethAddress": "0x...", "accountValue": "48857952.33...", "windowPerformances": [...], "prize":
0, "displayName": ...}]}``, some 30,000 rows, 25 MB). Being undocumented, it may move, refuse
or change shape at any time: every such answer is ``LeaderboardGone``, whose message is the
note to show, never a failure of the service.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

import aiohttp

from liqmap.exchanges.trade_addresses import account_address

MAX_BYTES = 256 * 2**20
"""An answer larger than this is not the leaderboard (it is about 25 MB)."""
READ_SECONDS = 120.0


@dataclass(frozen=True)
class Leader:
    """One account the leaderboard lists, with its account value in USD."""

    address: str
    account_value: float


@dataclass(frozen=True)
class Leaderboard:
    """The accounts of one answer; rows that are not an account with a value, skipped."""

    leaders: tuple[Leader, ...]
    skipped: int = 0


class LeaderboardGone(Exception):
    """No leaderboard to read: refused, gone, unreachable or unreadable; the message says so."""


async def read_leaderboard(url: str, read_seconds: float = READ_SECONDS) -> Leaderboard:
    """The leaderboard at ``url``, or ``LeaderboardGone``. The answer is parsed in a worker
    thread: at its usual size that takes a while, and nothing else should wait for it."""
    timeout = aiohttp.ClientTimeout(total=read_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            if answer.status != 200:
                raise LeaderboardGone(f"the leaderboard answered HTTP {answer.status}")
            body = await answer.content.read(MAX_BYTES + 1)
    except TimeoutError:  # before OSError, of which it is one
        raise LeaderboardGone(f"the leaderboard gave no answer within {read_seconds:g}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        raise LeaderboardGone(f"the leaderboard is not reachable ({reason})") from exc
    if len(body) > MAX_BYTES:
        raise LeaderboardGone(f"the leaderboard answered more than {MAX_BYTES // 2**20} MB")
    return await asyncio.to_thread(parse_leaderboard, body)


def parse_leaderboard(body: bytes) -> Leaderboard:
    """The accounts of a leaderboard answer; ``LeaderboardGone`` for one without rows."""
    try:
        raw: Any = json.loads(body, object_hook=_slim)
    except ValueError:
        raise LeaderboardGone("the leaderboard answered something that is not JSON") from None
    rows = raw.get("leaderboardRows") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        raise LeaderboardGone("the leaderboard answered without leaderboardRows")
    leaders: dict[str, Leader] = {}
    skipped = 0
    for row in rows:
        leader = _leader(row)
        if leader is None:
            skipped += 1
        else:
            leaders[leader.address] = leader
    return Leaderboard(tuple(leaders.values()), skipped)


def _slim(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Each JSON object as it is decoded: a row keeps only its address and value, the answer
    its rows; the rest (the performance figures) is dropped at once, so a 25 MB answer never
    stands in memory as Python objects whole."""
    if "leaderboardRows" in entry:
        return entry
    if "ethAddress" in entry or "accountValue" in entry:
        return {"ethAddress": entry.get("ethAddress"), "accountValue": entry.get("accountValue")}
    return None


def _leader(row: object) -> Leader | None:
    if not isinstance(row, dict):
        return None
    address = account_address(row.get("ethAddress"))
    value = row.get("accountValue")
    if address is None or not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return Leader(address, number) if math.isfinite(number) and number >= 0 else None
