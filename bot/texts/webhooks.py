"""``/webhook``'s answers, the pause notice, and an alert as a webhook's plain text."""

from __future__ import annotations

from html import escape

from bot.texts.alerts import alert_text, digest_text
from bot.texts.html import plain
from liqmap.policies.webhook_targets import JSON, masked
from liqmap.signals.digest import Digest
from liqmap.signals.proximity import Alert
from storage.webhooks import MAX_WEBHOOKS, Webhook

WEBHOOK_TEXT_LIMIT = 2000
"""Discord's limit on a message's content."""
TOO_MANY = f"This chat has {MAX_WEBHOOKS} webhooks already: /webhook remove N first."
UNKNOWN_KIND = "unknown webhook kind: use discord or json."
NO_SUCH = "no such webhook: /webhook list shows their numbers."


def webhook_text(alert: Alert | Digest) -> str:
    """An alert or receipt as plain text (Telegram's caption without its markup)."""
    html = digest_text(alert) if isinstance(alert, Digest) else alert_text(alert)
    return plain(html, WEBHOOK_TEXT_LIMIT)


def added(hook: Webhook, number: int) -> str:
    lines = [f"Webhook {number} added ({hook.kind}): <code>{escape(masked(hook.url))}</code>"]
    lines.append("This chat's alerts and sweep receipts will be posted there too.")
    if hook.kind == JSON and hook.secret is not None:
        lines += [
            f"Signing secret (shown this once; keep it): <code>{hook.secret}</code>",
            "Each request carries X-Liqmap-Timestamp and X-Liqmap-Signature: sha256=HMAC-SHA256"
            " of the timestamp, a dot and the raw body.",
        ]
    return "\n".join(lines)


def listed(hooks: list[Webhook]) -> str:
    if not hooks:
        return "No webhooks. Add one: /webhook add https://… [discord|json]"
    lines = ["<b>Webhooks</b>"]
    for number, hook in enumerate(hooks, 1):
        state = f" — ⏸ paused: {escape(hook.paused_why or '')}" if hook.paused else ""
        lines.append(f"{number}. {hook.kind} <code>{escape(masked(hook.url))}</code>{state}")
    lines.append("Remove one: /webhook remove N")
    return "\n".join(lines)


def removed(hook: Webhook, number: int) -> str:
    return f"Webhook {number} removed: <code>{escape(masked(hook.url))}</code>"


def refused_target(reason: str) -> str:
    return f"Webhook refused: {escape(reason)}."


def paused_notice(number: int, why: str) -> str:
    return (
        f"⏸ Webhook {number} paused after repeated failures: {escape(why)}. "
        "Its alerts go to this chat only; /webhook list, then /webhook remove N and add it again."
    )
