"""``/accuracy``: the live figures, and how the alerted clusters fared."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from bot.texts.common import TEXT_LIMIT, span_text
from bot.texts.html import clip_html
from liqmap.evaluation.live_accuracy import HISTORY, LiveAccuracy
from liqmap.formats import utc
from liqmap.signals.receipts import HitRate


def accuracy_text(accuracy: LiveAccuracy, extra_lines: Sequence[str] = ()) -> str:
    """``/accuracy``: the live figures per side with the hours they rest on and the time
    recorded, or what is still missing; then notes, and ``extra_lines`` (HTML, e.g. how
    alerted clusters fared)."""
    sample, score = accuracy.sample, accuracy.score
    name = accuracy.label.partition(":")[2]
    lines = [
        f"<b>{escape(name)}</b> · {escape('+'.join(accuracy.venues))} · live accuracy",
        f"Liquidations recorded for {span_text(sample.recorded_ms)} in the {HISTORY} to "
        f"{utc(sample.end_ms)}",
    ]
    if score is None:
        lines.append(not_enough(sample.shortfall or ""))
    else:
        lines.append(
            f"The map before each hour against that hour's liquidations, over <b>{score.hours}"
            f"</b> hours recorded whole ({utc(score.start_ms)} to {utc(score.end_ms)}):"
        )
        for side, title in ((score.long, "🟢 Longs"), (score.short, "🔴 Shorts")):
            lines.append(
                f"{title}: partial <b>{figure(side.partial)}</b> · Spearman "
                f"{figure(side.spearman)} (price move alone {figure(side.baseline)}) · "
                f"cluster lift {figure(side.lift, '.1f', '×')}"
            )
        lines.append(
            "<i>Partial: how well the map ranks the hours beyond what the price move explains "
            "(0 = no better). Lift: liquidations in hours that entered a top-3 cluster over "
            "hours of like move that did not.</i>"
        )
    lines.extend(f"<i>{escape(note)}</i>" for note in accuracy.notes)
    lines.extend(extra_lines)
    return clip_html("\n".join(lines), TEXT_LIMIT)


def hit_rate_lines(rate: HitRate) -> list[str]:
    """How alerted clusters fared once swept, from the sweep receipts."""
    if rate.swept == 0:
        return [f"🧾 No alerted cluster was swept in the {HISTORY} yet."]
    clusters = f"{rate.swept} alerted cluster{'s' * (rate.swept != 1)}"
    if rate.rate is None:
        return [f"🧾 {clusters} swept; none recorded whole with liquidations, so none judged."]
    return [
        f"🧾 {clusters} swept in the {HISTORY}: {rate.judged} judged, <b>{rate.hits} hit"
        f"{'s' * (rate.hits != 1)} ({rate.rate:.0%})</b>",
        "<i>Hit: the cluster's band took more of the sweep's recorded liquidations than its "
        "share of the sweep's price range. Judged: recorded whole, with liquidations on its "
        "side.</i>",
    ]


def not_recorded_here(instrument: str, exchange: str, recorded: Sequence[str]) -> str:
    """No live figures ever: the recorder does not watch ``exchange`` (Hyperliquid)."""
    venues = ", ".join(recorded[:-1]) + f" and {recorded[-1]}" if len(recorded) > 1 else recorded[0]
    return (
        f"No live accuracy for {escape(instrument)}: liqmap records liquidations on "
        f"{escape(venues)} only, not on {escape(exchange)}."
    )


def not_enough(detail: str) -> str:
    """No live figures yet, and why: ``12 of 48 hours needed``."""
    return f"⏳ Not enough data yet: {escape(detail)}."


def figure(value: float, spec: str = ".2f", unit: str = "") -> str:
    """A score, or ``n/a`` where the hours leave it undefined."""
    return "n/a" if np.isnan(value) else format(value, spec) + unit
