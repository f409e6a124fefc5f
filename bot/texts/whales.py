"""``/whales``: the largest real positions near price, as text."""

from __future__ import annotations

from html import escape

from bot.texts.common import TEXT_LIMIT, ago
from bot.texts.html import clip_html
from liqmap.formats import price_text, usd
from liqmap.market.instruments import Instrument
from liqmap.signals.whales import WHALE_RANGE_PCT, Whale, WhaleBoard, short_address


def no_scans(inst: Instrument) -> str:
    return (
        f"No positions scanned for {escape(inst.native_id)} yet: the scanner reads the "
        f"accounts of watched {escape(inst.exchange)} instruments; "
        f"<code>/subscribe {escape(inst.key)}</code> starts it."
    )


def whales_text(board: WhaleBoard, inst: Instrument, now: int, addresses: bool) -> str:
    """The rows, then what they leave out, the coverage of open interest and the reads' age;
    ``addresses``: show each account shortened."""
    head = (
        f"🐋 <b>{escape(inst.native_id)}</b> ({escape(inst.exchange)}) · price "
        f"<b>{price_text(board.price)}</b>"
    )
    within = f"{WHALE_RANGE_PCT:g}%"
    lines = [head]
    if board.rows:
        lines.append(f"The largest real positions liquidating within {within} of price:")
        lines += [_row(i, w, inst.base, addresses) for i, w in enumerate(board.rows, 1)]
    else:
        lines.append(f"No scanned position liquidates within {within} of price.")
    left = []
    if board.in_range > len(board.rows):
        left.append(f"{board.in_range - len(board.rows)} smaller within {within}")
    if board.further:
        left.append(f"{board.further} further away")
    if board.no_liquidation:
        left.append(f"{board.no_liquidation} without a liquidation price (cross margin)")
    if board.passed:
        left.append(f"{board.passed} whose liquidation price was passed since read")
    if left:
        lines.append("Not listed: " + ", ".join(left) + ".")
    lines.append(_coverage(board))
    lines.append(_age(board, now))
    return clip_html("\n".join(lines), TEXT_LIMIT)


def _row(index: int, whale: Whale, base: str, addresses: bool) -> str:
    """``1. 🟢 LONG 12.5 BTC ($750.0K) · 20× cross · liq 57,100 (4.8% below) · 0x1234…abcd``."""
    p = whale.position
    side = "🟢 LONG" if p.side == "long" else "🔴 SHORT"
    where = "below" if whale.distance_pct < 0 else "above"
    parts = [
        f"{index}. {side} {_coins(p.size)} {escape(base)} ({usd(p.value)})",
        f"{p.leverage:g}× {p.mode}",
        f"liq <b>{price_text(p.liquidation or 0.0)}</b> ({abs(whale.distance_pct):.1f}% {where})",
    ]
    if addresses:
        parts.append(f"<code>{escape(short_address(p.address))}</code>")
    if whale.stale:
        parts.append("⚠️ stale")
    return " · ".join(parts)


def _coins(size: float) -> str:
    return f"{size:,.0f}" if size >= 1000 else f"{size:,.4g}"


def _coverage(board: WhaleBoard) -> str:
    coverage = board.coverage
    if coverage is None:
        return (
            f"Coverage: the scanned positions hold {usd(board.scanned_usd)}; no open interest "
            "recorded yet to compare."
        )
    return (
        f"Coverage: the scanned positions hold {usd(board.scanned_usd)}, {coverage:.1%} of the "
        f"{usd(board.open_interest_usd or 0.0)} open interest."
    )


def _age(board: WhaleBoard, now: int) -> str:
    newest, oldest = ago(now - board.newest_read_ms), ago(now - board.oldest_read_ms)
    read = f"Read {newest}" if newest == oldest else f"Read {newest} (oldest {oldest})"
    if board.stale:
        read += (
            f"; ⚠️ {board.stale} stale: the latest scan pass did not read them again, they may "
            "have closed or moved"
        )
    return read + "."
