"""A map as plain text for a terminal and as JSON for other tools."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from liqmap.engine.clusters import LONG, Cluster
from liqmap.engine.max_pain import PainBin, max_pain
from liqmap.engine.snapshot import MapSnapshot
from liqmap.formats import price_text, usd, utc
from liqmap.market.venues import VENUES


def cluster_line(cluster: Cluster) -> str:
    """``64,051-65,007  $78.6M  4.8% below``."""
    where = "below" if cluster.side == LONG else "above"
    distance = (
        "price is inside"
        if cluster.distance_pct == 0
        else f"{abs(cluster.distance_pct):.1f}% {where}"
    )
    return f"{price_text(cluster.low)}-{price_text(cluster.high)}  {usd(cluster.usd)}  {distance}"


def summary(snapshot: MapSnapshot) -> str:
    """A few lines a trader reads at a glance."""
    lines = [
        f"{snapshot.label} ({snapshot.source}) {snapshot.window} map as of "
        f"{utc(snapshot.as_of_ms)}, price {price_text(snapshot.price)}"
    ]
    if snapshot.liq_map.is_empty:
        lines.append("no open-interest build-up in this window: nothing to map")
    else:
        for side, name in ((LONG, "long"), ("short", "short")):
            nearest = snapshot.nearest(side)
            text = cluster_line(nearest) if nearest else "none"
            lines.append(f"nearest {name} liquidation cluster: {text}")
        pain = max_pain(snapshot.liq_map)
        lines.append(f"max pain: longs {_pain_text(pain.long)}, shorts {_pain_text(pain.short)}")
    if snapshot.venues:
        shares = ", ".join(f"{v.exchange} {v.share:.0%}" for v in snapshot.venues)
        lines.append(f"summed over exchanges: {shares}")
    lines.extend(_real_lines(snapshot))
    lines.extend(f"note: {note}" for note in snapshot.notes)
    return "\n".join(lines)


def _real_lines(snapshot: MapSnapshot) -> list[str]:
    """The real layer's summary where the venue publishes positions: how many liquidate on
    the map and their USD per side, the share of the open interest scanned, when they were
    read and how many are stale, the densest real bin per side."""
    venue = VENUES.get(snapshot.source)
    if venue is None or not venue.positions_public:
        return []
    real = snapshot.real
    if real is None:
        return [
            f"real positions: none of {snapshot.label} scanned yet (liqmap scan ADDRESS, or "
            "liqmap run for a watched instrument)"
        ]
    scanned = (
        f"scanned {real.coverage:.1%} of open interest"
        if real.coverage is not None
        else "coverage unknown (no open interest recorded)"
    )
    if real.positions == 0:
        return [f"real positions: none liquidates on this map; {scanned}"]
    pain = max_pain(real.as_map(snapshot.price, snapshot.as_of_ms))
    return [
        f"real positions: {real.positions:,} liquidate on this map, {usd(real.total_usd)} "
        f"(longs {usd(float(real.long_usd.sum()))}, shorts {usd(float(real.short_usd.sum()))}); "
        f"{scanned}",
        f"real positions read {utc(real.read_ms)} at the oldest, {real.stale:,} stale (not in "
        "the latest scan pass)",
        f"densest real: longs {_pain_text(pain.long)}, shorts {_pain_text(pain.short)}",
    ]


def _pain_text(pain: PainBin | None) -> str:
    """``64,051-64,115 $12.3M``, or ``none``."""
    return f"{price_text(pain.low)}-{price_text(pain.high)} {usd(pain.usd)}" if pain else "none"


def as_json(snapshot: MapSnapshot) -> dict[str, Any]:
    """Bins, USD per side, clusters, price and time, for other tools."""
    liq_map = snapshot.liq_map
    return {
        "instrument": snapshot.label,
        "source": snapshot.source,
        "window": snapshot.window,
        "step": snapshot.step,
        "notes": list(snapshot.notes),
        "venues": [{"exchange": v.exchange, "share": v.share} for v in snapshot.venues],
        "price": liq_map.price,
        "as_of": datetime.fromtimestamp(liq_map.as_of_ms / 1000, UTC).isoformat(),
        "as_of_ms": liq_map.as_of_ms,
        "bin_width": float(liq_map.edges[1] - liq_map.edges[0]) if len(liq_map.edges) > 1 else 0.0,
        "bins": [round(float(c), 8) for c in liq_map.centers],
        "long_usd": [round(float(v), 2) for v in liq_map.long_usd],
        "short_usd": [round(float(v), 2) for v in liq_map.short_usd],
        "clusters": [
            {
                "side": c.side,
                "low": c.low,
                "high": c.high,
                "center": c.center,
                "usd": c.usd,
                "share": c.share,
                "density": c.density,
                "strength": c.strength,
                "distance_pct": c.distance_pct,
                "key": c.key,
            }
            for c in snapshot.clusters
        ],
        "max_pain": max_pain(liq_map).as_json(),
        **_real_json(snapshot),
    }


def _real_json(snapshot: MapSnapshot) -> dict[str, Any]:
    """The real layer on the same bins (null without one) and what it was read from."""
    real = snapshot.real
    if real is None:
        return dict.fromkeys(
            ("real_long_usd", "real_short_usd", "coverage", "real_positions", "real_stale",
             "real_read_ms"),
        )  # fmt: skip
    return {
        "real_long_usd": [round(float(v), 2) for v in real.long_usd],
        "real_short_usd": [round(float(v), 2) for v in real.short_usd],
        "coverage": real.coverage,
        "real_positions": real.positions,
        "real_stale": real.stale,
        "real_read_ms": real.read_ms or None,
    }
