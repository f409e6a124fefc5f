"""What the bot writes: escaped, within Telegram's limits, and buttons that fit 64 bytes."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from bot.arguments import symbol_and_window
from bot.keyboards.common import CALLBACK_LIMIT
from bot.keyboards.maps import map_keyboard, parse_press
from bot.log_scrub import TokenScrubber, install
from bot.texts.alerts import alert_text
from bot.texts.common import ANSWER_LIMIT, CAPTION_LIMIT, COMMANDS, TEXT_LIMIT, help_text, problem
from bot.texts.html import clip_html, plain
from bot.texts.maps import clusters_text, map_caption
from liqmap.engine.clusters import Cluster
from liqmap.engine.model import LiquidationMap
from liqmap.engine.snapshot import MapSnapshot
from liqmap.errors import ExchangeUnavailable
from liqmap.signals.proximity import APPROACH, REAL, SWEPT, Alert


def snapshot(label: str = "BTC-USDT-SWAP") -> MapSnapshot:
    liq_map = LiquidationMap(100.0, 1_000_000, np.linspace(75, 125, 501), np.ones((5, 500)),
                             np.ones((5, 500)))  # fmt: skip
    clusters = [
        Cluster("long", 95.0, 96.0, 95.5, 2e6, 0.2, 2e6, 3.0, -4.0, "long@1"),
        Cluster("short", 103.0, 103.5, 103.2, 1e6, 0.1, 2e6, 2.5, 3.0, "short@2"),
    ]
    return MapSnapshot(label, "okx", "7d", "5m", liq_map, clusters)


def test_caption_has_price_nearest_clusters_and_data_age() -> None:
    caption = map_caption(snapshot(), now_ms=1_000_000 + 5 * 60_000, computed_at_ms=0)
    assert "Price <b>100.00</b>" in caption
    assert "🟢 Long liquidations: <b>95.00–96.00</b> · $2.0M · 4.0% below" in caption
    assert "🔴 Short liquidations: <b>103.00–103.50</b> · $1.0M · 3.0% above" in caption
    assert "(5 min ago)" in caption
    stale = map_caption(snapshot(), 3 * 3_600_000, 0, ExchangeUnavailable("okx", "down"))
    assert "data for BTC-USDT-SWAP is unavailable right now (okx: down)" in stale
    assert "computed 3 h ago" in stale


def test_caption_says_what_the_data_lacked() -> None:
    from dataclasses import replace

    noted = replace(snapshot(), notes=("okx has no 5m open interest <before> X; using 1h",))
    caption = map_caption(noted, 1_000_000, 0)
    assert "<i>okx has no 5m open interest &lt;before&gt; X; using 1h</i>" in caption


def test_user_text_is_escaped_everywhere() -> None:
    evil = snapshot("<b>X</b>&")
    assert "&lt;b&gt;X&lt;/b&gt;&amp;" in map_caption(evil, 0, 0)
    assert "<b>X</b>&" not in clusters_text(evil)
    assert problem("<script>") == "&lt;script&gt;"


def shown(text: str) -> str:
    """What Telegram shows of HTML ``text`` (the fake parses it as Telegram does, or fails)."""
    from tests.fakes.telegram import parse_formatted

    return parse_formatted(text, "HTML")[0]


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_texts_stay_within_telegram_limits() -> None:
    long_label = snapshot("X" * 3000)
    assert units(shown(map_caption(long_label, 0, 0))) <= CAPTION_LIMIT
    assert units(shown(clusters_text(long_label))) <= TEXT_LIMIT
    assert units(shown(problem("y" * 10_000))) <= 300
    assert units(shown(help_text())) < TEXT_LIMIT
    assert (CAPTION_LIMIT, TEXT_LIMIT, ANSWER_LIMIT) == (1024, 4096, 200)


def test_clipping_never_cuts_inside_a_tag_an_entity_or_an_emoji() -> None:
    text = ("<b>" + "x" * 10 + "</b> &amp; &lt;b&gt; <i>a 🎉🎉 <code>z</code></i>") * 40
    for limit in range(1, 120):
        clipped = clip_html(text, limit)
        visible = shown(clipped)  # parses: every tag closed, every entity whole
        assert units(visible) <= limit, limit
        assert visible.endswith("…")
        assert "\ufffd" not in visible
    assert clip_html("short <b>one</b>", 100) == "short <b>one</b>"


def test_a_pop_up_answer_is_plain_text_within_its_limit() -> None:
    answer = plain(problem("unknown instrument <ETH> " * 30), ANSWER_LIMIT)
    assert answer.startswith("unknown instrument <ETH> ") and "&lt;" not in answer
    assert units(answer) <= ANSWER_LIMIT and answer.endswith("…")
    for name, _ in COMMANDS:
        assert f"/{name}" in help_text()
    assert "type the bot's @name and a symbol there" in help_text(), "inline sharing"


def test_buttons_round_trip_within_64_bytes() -> None:
    keyboard = map_keyboard("binance:1000SHIBUSDT_261225", "30d")
    buttons = [b for row in keyboard.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["1d", "7d", "• 30d •", "🔄 Refresh", "🔔 Subscribe"]
    for button in buttons:
        assert len(button.callback_data.encode()) <= CALLBACK_LIMIT
        press = parse_press(button.callback_data)
        assert press is not None and press.instrument == "binance:1000SHIBUSDT_261225"
    assert parse_press("garbage") is None
    assert parse_press("w|2d|okx:BTC") is None
    assert parse_press(None) is None


def test_map_arguments() -> None:
    assert symbol_and_window(["BTC"]) == ("BTC", "7d")
    assert symbol_and_window(["BTC", "30D"]) == ("BTC", "30d")
    assert symbol_and_window(["1d", "eth"]) == ("eth", "1d")
    assert symbol_and_window([]) is None
    assert symbol_and_window(["BTC", "ETH"]) is None
    assert symbol_and_window(["1d", "7d"]) is None


def test_the_token_never_reaches_a_log() -> None:
    token = "123456:SECRET-token-abcdefghijklmnop"
    record = logging.LogRecord(
        "httpx", logging.INFO, "x", 1, "POST %s", (f"https://h/bot{token}/getMe",), None
    )
    assert TokenScrubber(token).filter(record)
    assert token not in record.getMessage() and "<token>" in record.getMessage()
    install(token)
    assert logging.getLogger("httpx").level == logging.WARNING


def test_the_webhook_secret_never_reaches_a_log_either() -> None:
    token, secret = "123456:SECRET-token-abcdefghijklmnop", "Wh-secret_0123456789"
    scrubber = TokenScrubber(token, secret)
    record = logging.LogRecord("telegram.ext.Updater", logging.DEBUG, "x", 1,
                               "secret %s for %s", (secret, token), None)  # fmt: skip
    assert scrubber.filter(record)
    assert record.getMessage() == "secret <secret> for <token>"
    try:
        raise RuntimeError(f"header was {secret}")
    except RuntimeError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, "x", 1, "failed", None, sys.exc_info())
    assert scrubber.filter(failed)
    assert failed.exc_text is not None and secret not in failed.exc_text


def test_status_names_an_exchange_banning_this_ip_and_until_when() -> None:
    from bot.texts.status import status_text

    ban = "IP banned by Bybit (HTTP 403), not called again until 12:10 UTC"
    text = status_text(60_000, 1, 0, [], [], bans={"bybit": ban})
    assert text.split("Recent exchange errors</b>\n", 1)[1].splitlines() == [f"bybit: {ban}"]
    assert status_text(60_000, 1, 0, [], []).endswith("Recent exchange errors</b>\nnone")


def test_status_says_how_old_the_scanned_positions_are_and_when_the_scanner_is_behind() -> None:
    from bot.texts.status import scanner_lines, status_text
    from liqmap.market.scan_passes import ScanPass, scan_age

    minute, period = 60_000, 10 * 60_000
    now = 1_800_000_000_000
    done = ScanPass(7, now - 4 * minute, now - 2 * minute, 1234, 3, 1, 2470.0)
    fresh = scanner_lines(scan_age(done, None, now, period), period)
    assert fresh == [
        "last pass began 4 min ago: 1,234 accounts in 2 min, 3 positions skipped, 1 failed, "
        "weight 2,470"
    ]
    late = scan_age(replace(done, started_ms=now - 35 * minute), None, now, period)
    assert scanner_lines(late, period)[-1] == (
        "⚠️ behind: data 35 min old, a pass is due every 10 min"
    )
    running = ScanPass(8, now - 12 * minute, None)
    long_pass = scanner_lines(scan_age(done, running, now, period), period)
    assert long_pass[1:] == [
        "a pass running for 12 min", "⚠️ behind: data 4 min old, a pass is due every 10 min"
    ]  # fmt: skip
    never = scanner_lines(scan_age(None, ScanPass(1, now - 40_000, None), now, period), period)
    assert never == ["a pass running for 40 s"]
    text = status_text(60_000, 1, 0, [], [], scanner=fresh)
    assert "<b>Real positions</b> (Hyperliquid scanner)\nlast pass began 4 min ago" in text
    assert "(Hyperliquid scanner)\nno pass yet" in status_text(60_000, 1, 0, [], [])


def test_a_real_cluster_alert_says_it_is_real_with_its_positions_and_coverage() -> None:
    near = Alert(APPROACH, "hyperliquid:BTC", "BTC", "hyperliquid", "short", 61_000.0, 61_200.0,
                 3.2e6, 40.0, 60_700.0, 60_600.0, 0.49, False, "7d", layer=REAL, positions=1,
                 coverage=0.123)  # fmt: skip
    text = alert_text(near)
    assert text.splitlines() == [
        "🔺🐋 <b>BTC</b> (hyperliquid) is near a real SHORT liquidation cluster",
        "Real positions <b>61,000–61,200</b> · 1 position · $3.2M",
        "Price <b>60,700</b>, 0.49% away, rising toward it",
        "Short liquidations above could fuel a squeeze if price reaches them.",
        "<i>real positions as scanned, 12.3% of open interest</i>",
    ]
    swept = replace(near, kind=SWEPT, positions=4, coverage=None, price=61_300.0)
    lines = alert_text(swept).splitlines()
    assert lines[0] == "💥 <b>BTC</b> (hyperliquid) swept a real SHORT liquidation cluster"
    assert lines[1] == "Real positions <b>61,000–61,200</b> · 4 positions · $3.2M"
    assert lines[-1] == "<i>real positions as scanned; no open interest recorded yet to compare</i>"
