"""How long a queued alert may wait, and how long a map stays current, for every alert job."""

ALERT_TTL_MS = 15 * 60_000
"""An alert not delivered within this time (an outage) is dropped, not sent late."""
MIN_STALE_MS = 2 * 60_000
"""A map is current for at least this long, however short the refresh interval."""
