"""Settings that keep tests fast: quick retries, no request spacing, short timeouts."""

from __future__ import annotations

from liqmap.policies.retry import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=4, first_delay=0.01, factor=2.0, max_delay=0.05)
FAST_CCXT = {"rateLimit": 1, "timeout": 3000, "timeout_on_exit": 0}
