"""The real layer in a map's caption: how many real positions liquidate on the map, how much
of the open interest was scanned, how old the reads are, and where the densest real bins sit."""

from __future__ import annotations

from html import escape

from bot.texts.common import ago
from liqmap.engine.max_pain import max_pain
from liqmap.engine.snapshot import MapSnapshot
from liqmap.formats import price_text, usd
from liqmap.market.scan_passes import BEHIND_PERIODS
from liqmap.market.timeframes import MINUTE_MS
from liqmap.market.venues import VENUES

SCAN_PERIOD_MS = 10 * MINUTE_MS
"""The scanner's default period (``LIQMAP_SCAN_SECONDS``)."""


def real_lines(
    snapshot: MapSnapshot, now_ms: int, scan_period_ms: int = SCAN_PERIOD_MS
) -> list[str]:
    """The caption's lines on the real positions of a venue that publishes them: none for a
    venue that does not, one line saying how to start where none were scanned yet. Reads
    older than the scanner's ``BEHIND_PERIODS`` periods are said to be behind, as /status
    says of the scanner."""
    venue = VENUES.get(snapshot.source)
    if venue is None or not venue.positions_public:
        return []
    real = snapshot.real
    if real is None:
        key = escape(f"{snapshot.source}:{snapshot.label}")
        return [
            f"🟣 No real positions of {escape(snapshot.label)} scanned yet: /subscribe {key} has "
            "the service scan them, or run liqmap scan ADDRESS."
        ]
    scanned = (
        f"scanned {real.coverage:.1%} of open interest"
        if real.coverage is not None
        else "coverage unknown (no open interest recorded yet)"
    )
    if real.positions == 0:
        return [f"🟣 Real: no scanned position liquidates on this map; {scanned}"]
    lines = [
        f"🟣 Real: {real.positions:,} positions liquidate on this map, {usd(real.total_usd)}; "
        f"{scanned}"
    ]
    age = now_ms - real.read_ms
    stale = f", {real.stale:,} stale (not in the latest scan pass)" if real.stale else ""
    if age > BEHIND_PERIODS * scan_period_ms:
        lines.append(
            f"⚠️ Real positions read {ago(age)} at the oldest: the scan is behind, they may "
            f"have moved{stale}"
        )
    else:
        lines.append(f"Real positions read {ago(age)} at the oldest{stale}")
    pain = max_pain(real.as_map(snapshot.price, snapshot.as_of_ms))
    parts = [
        f"{name} <b>{price_text(at.low)}–{price_text(at.high)}</b> {usd(at.usd)}"
        if at
        else f"{name} none"
        for name, at in (("longs", pain.long), ("shorts", pain.short))
    ]
    lines.append("🟣 Densest real: " + " · ".join(parts))
    return lines
