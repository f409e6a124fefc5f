"""What the background jobs send: alerts (near, swept, building), sweep receipts and
the daily digest."""

from __future__ import annotations

from html import escape

from bot.texts.common import CAPTION_LIMIT, TEXT_LIMIT, span_text
from bot.texts.html import clip_html
from liqmap.engine.clusters import LONG, SHORT
from liqmap.formats import local_time, price_text, usd
from liqmap.signals.digest import Digest
from liqmap.signals.growing_clusters import BUILDING
from liqmap.signals.proximity import REAL, RECEIPT, SWEPT, Alert
from liqmap.signals.receipts import Receipt
from liqmap.signals.time_zones import zone_or_utc

MEANING = {
    LONG: "Long liquidations below could accelerate a drop if price reaches them.",
    SHORT: "Short liquidations above could fuel a squeeze if price reaches them.",
}
SWEPT_MEANING = {
    LONG: "Longs there were likely liquidated: the drop may exhaust or cascade further.",
    SHORT: "Shorts there were likely liquidated: the squeeze may exhaust or extend.",
}


def alert_text(alert: Alert) -> str:
    """An alert's caption: instrument, cluster side, range, USD, distance, price, meaning."""
    side = "LONG" if alert.side == LONG else "SHORT"
    band = f"{price_text(alert.low)}–{price_text(alert.high)}"
    head = f"<b>{escape(alert.label)}</b> ({escape(alert.source)})"
    if alert.kind == RECEIPT and alert.receipt is not None:
        return receipt_text(head, side, band, alert.usd, alert.receipt)
    if alert.layer == REAL:
        return clip_html(real_alert_text(alert, head, side, band), CAPTION_LIMIT)
    if alert.kind == BUILDING:
        lines = [building_line(alert, side, band), f"Price <b>{price_text(alert.price)}</b>"]
        lines.append(MEANING[alert.side])
    elif alert.kind == SWEPT:
        lines = [
            f"💥 {head} swept a dense {side} liquidation cluster",
            f"Cluster <b>{band}</b> · {usd(alert.usd)}",
            f"Price <b>{price_text(alert.price)}</b>, through it",
            SWEPT_MEANING[alert.side],
        ]
    else:
        lines = [
            f"{_arrow(alert)} {head} is near a dense {side} liquidation cluster",
            f"Cluster <b>{band}</b> · {usd(alert.usd)} · {alert.strength:.1f}× avg density",
            _price_near(alert),
            MEANING[alert.side],
        ]
    lines.append(f"<i>{alert.window} map · estimated, not exact positions</i>")
    return clip_html("\n".join(lines), CAPTION_LIMIT)


def real_alert_text(alert: Alert, head: str, side: str, band: str) -> str:
    """An alert about a cluster of real positions' liquidation prices: how many, their USD, and
    the share of open interest the scanned positions cover."""
    count = alert.positions or 0
    held = f"{count} position{'s' * (count != 1)} · {usd(alert.usd)}"
    if alert.kind == SWEPT:
        lines = [
            f"💥 {head} swept a real {side} liquidation cluster",
            f"Real positions <b>{band}</b> · {held}",
            f"Price <b>{price_text(alert.price)}</b>, through it",
            SWEPT_MEANING[alert.side],
        ]
    else:
        lines = [
            f"{_arrow(alert)}🐋 {head} is near a real {side} liquidation cluster",
            f"Real positions <b>{band}</b> · {held}",
            _price_near(alert),
            MEANING[alert.side],
        ]
    lines.append(f"<i>{coverage_text(alert.coverage)}</i>")
    return "\n".join(lines)


def _arrow(alert: Alert) -> str:
    return "🔻" if alert.side == LONG else "🔺"


def _price_near(alert: Alert) -> str:
    """``Price <b>…</b>, 0.40% away, falling toward it``."""
    where = "inside it" if alert.distance_pct == 0 else f"{alert.distance_pct:.2f}% away"
    moving = {"falling": "falling toward it", "rising": "rising toward it"}.get(
        alert.direction, "near it"
    )
    return f"Price <b>{price_text(alert.price)}</b>, {where}, {moving}"


def coverage_text(coverage: float | None) -> str:
    """``real positions as scanned, 7.3% of open interest``, or why no share."""
    if coverage is None:
        return "real positions as scanned; no open interest recorded yet to compare"
    return f"real positions as scanned, {coverage:.1%} of open interest"


def building_line(alert: Alert, side: str, band: str) -> str:
    """``📈 BTC-USDT-SWAP (okx): a LONG cluster 61,200–61,900 grew 85% in 15 min to $42M,
    1.9% below price``."""
    head = f"<b>{escape(alert.label)}</b> ({escape(alert.source)})"
    over = span_text(alert.over_ms or 0)
    what = (
        f"grew {alert.grown_pct:.0f}% in {over} to {usd(alert.usd)}"
        if alert.grown_pct is not None
        else f"formed in {over}: {usd(alert.usd)}, {alert.strength:.1f}× avg density"
    )
    where = "below" if alert.side == LONG else "above"
    near = "price inside it" if alert.distance_pct == 0 else f"{alert.distance_pct:.1f}% {where}"
    return f"📈 {head}: a {side} cluster <b>{band}</b> {what}, {near} price"


def receipt_text(head: str, side: str, band: str, estimated: float, receipt: Receipt) -> str:
    """The follow-up of a sweep: what the map estimated against what was recorded."""
    lines = [f"🧾 {head} {side} cluster <b>{band}</b> swept"]
    if receipt.covered == 0:
        lines += [
            f"Estimated {usd(estimated)} · no recorded liquidations to compare: the recorder "
            "was not watching then"
        ]
        return "\n".join(lines)
    sampled = f"; {', '.join(receipt.sampled)} sampled" if receipt.sampled else ""
    lines.append(
        f"Estimated {usd(estimated)} · recorded liquidations <b>{usd(receipt.recorded_usd)}</b> "
        f"in the sweep ({', '.join(receipt.venues)}{sampled})"
    )
    if not receipt.judged:
        why = (
            f"the recorder watched {receipt.covered:.0%} of the sweep"
            if receipt.covered < 0.999
            else f"no {side.lower()} liquidations were recorded during the sweep"
        )
        lines.append(f"<i>Not judged: {why}.</i>")
    else:
        verdict = "the map pointed at them" if receipt.hit else "less than its share"
        lines.append(
            f"The band took {receipt.share:.0%} of the recorded {side.lower()} liquidations in "
            f"{receipt.band_share:.0%} of the sweep's price range: {verdict}."
        )
    return "\n".join(lines)


def digest_text(digest: Digest) -> str:
    """The daily digest: nearest clusters per subscription, then the last 24 hours."""
    zone = zone_or_utc(digest.tz)
    lines = [f"☀️ <b>Daily digest</b> · {local_time(digest.made_at, zone)}"]
    if not digest.watched:
        lines.append("No maps yet: /subscribe BTC to see its nearest clusters here.")
    for watched in digest.watched:
        lines.append(
            f"\n<b>{escape(watched.label)}</b> ({escape(watched.source)}) · price "
            f"<b>{price_text(watched.price)}</b> · data to {local_time(watched.as_of_ms, zone)}"
        )
        for level in watched.levels:
            name = "🟢 Longs" if level.side == LONG else "🔴 Shorts"
            where = "below" if level.side == LONG else "above"
            lines.append(
                f"{name} <b>{price_text(level.low)}–{price_text(level.high)}</b> · "
                f"{usd(level.usd)} · {abs(level.distance_pct):.1f}% {where}"
            )
    lines.append(f"\n<b>Last 24 h</b>: {digest.alerts} alert{'s' * (digest.alerts != 1)} sent")
    if not digest.swept:
        lines.append("Nothing swept.")
    for alert in digest.swept:
        band = f"<b>{price_text(alert.low)}–{price_text(alert.high)}</b>"
        head = f"{escape(alert.label)} {alert.side.upper()} {band}"
        if alert.kind == RECEIPT and alert.receipt is not None:
            lines.append(
                f"🧾 {head}: {usd(alert.receipt.recorded_usd)} recorded, {usd(alert.usd)} estimated"
            )
        else:
            lines.append(f"💥 {head} · {usd(alert.usd)} swept")
    return clip_html("\n".join(lines), TEXT_LIMIT)
