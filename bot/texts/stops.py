"""``/stop``: where a stop-loss sits among the clusters, and what to consider instead."""

from __future__ import annotations

from html import escape

from bot.texts.common import CAPTION_LIMIT, ago, unavailable, usage
from bot.texts.html import clip_html
from bot.texts.maps import cluster_text
from liqmap.engine.clusters import LONG
from liqmap.engine.snapshot import MapSnapshot
from liqmap.engine.stops import StopCheck, StopProblem, Verdict
from liqmap.errors import ExchangeError
from liqmap.formats import price_text, usd, utc

STOP_VERDICT = {
    Verdict.INSIDE: "⚠️ Inside a dense cluster of {side} liquidations",
    Verdict.BEFORE: (
        "⚠️ Just before a dense cluster of {side} liquidations: a cascade into it would run "
        "your stop"
    ),
}
STOP_EMPTY_MAP = "No open-interest build-up in this window: no map to judge a stop on."
STOP_PROBLEM = {
    StopProblem.WRONG_SIDE: "A {position}'s stop goes {where} the price ({price}).",
    StopProblem.OFF_MAP: "That stop is farther from the price ({price}) than the map reaches.",
}


def stop_text(
    check: StopCheck,
    snapshot: MapSnapshot,
    now_ms: int,
    computed_at_ms: int,
    error: ExchangeError | None = None,
) -> str:
    """Caption of a /stop chart: where the stop sits among the clusters, and what to consider
    instead."""
    position = check.position
    lines = [
        f"<b>{escape(snapshot.label)}</b> · {escape(snapshot.source)} · {snapshot.window} map",
        f"{position.capitalize()} stop <b>{price_text(check.stop)}</b> ({check.stop_pct:+.2f}%)"
        f" · price {price_text(check.price)}",
        f"Liquidations between price and your stop: ~{usd(check.stop_usd)}",
    ]
    if check.cluster is None or check.suggestion is None:
        lines.append(f"✅ Clear of the dense clusters of {position} liquidations")
    else:
        lines.append(
            STOP_VERDICT[check.verdict].format(side=position) + f": {cluster_text(check.cluster)}"
        )
        lines.append(
            f"💡 Consider <b>{price_text(check.suggestion)}</b> ({check.suggestion_pct:+.2f}%),"
            f" just beyond it: ~{usd(check.suggestion_usd)} of liquidations from price to there,"
            f" {usd(check.beyond_stop_usd)} of them past your stop"
        )
    lines.append(f"Data to {utc(snapshot.as_of_ms)} ({ago(now_ms - snapshot.as_of_ms)})")
    lines.append("<i>Estimated from open interest, not exact positions.</i>")
    if error is not None:
        lines.append(
            f"⚠️ {unavailable(snapshot.label, error)}; "
            f"this map was computed {ago(now_ms - computed_at_ms)}"
        )
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def stop_problem_text(problem: StopProblem, position: str, price: float) -> str:
    where = "below" if position == LONG else "above"
    reason = STOP_PROBLEM[problem].format(position=position, where=where, price=price_text(price))
    return f"{reason}\n{usage('stop')}"
