"""How a JSON webhook is signed, so its receiver can tell it came from this service.

The body is signed with the webhook's secret (HMAC-SHA256) together with the time it was
sent: ``X-Liqmap-Signature: sha256=<hex of HMAC(secret, "<timestamp>." + body)>`` and
``X-Liqmap-Timestamp: <unix seconds>``. A receiver recomputes the HMAC over the raw body it
got, compares in constant time, and refuses a timestamp far from its own clock, so a
recorded request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Liqmap-Signature"
TIMESTAMP_HEADER = "X-Liqmap-Timestamp"
DELIVERY_HEADER = "X-Liqmap-Delivery"


def new_secret() -> str:
    """A fresh secret for a JSON webhook: 32 random bytes in hex."""
    return secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Liqmap-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, header: str, now_s: int, leeway_s: int = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within ``leeway_s``."""
    if not timestamp.isdigit() or abs(now_s - int(timestamp)) > leeway_s:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)
