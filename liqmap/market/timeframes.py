"""Candle steps and map windows: names a trader types, lengths in milliseconds."""

from __future__ import annotations

from liqmap.errors import UnsupportedRequest

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

STEPS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": DAY_MS,
}

WINDOWS: dict[str, int] = {"1d": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS}

DEFAULT_STEP: dict[str, str] = {"1d": "1m", "7d": "5m", "30d": "15m"}
"""Candle step a map of each window is built at unless asked otherwise."""


def step_ms(step: str) -> int:
    """Length of a candle step such as ``5m``; raises a clear error for anything else."""
    try:
        return STEPS[step.strip().lower()]
    except (KeyError, AttributeError):
        raise UnsupportedRequest(f"step must be one of {', '.join(STEPS)}, got {step!r}") from None


def window_ms(window: str) -> int:
    """Length of a map window such as ``7d``; raises a clear error for anything else."""
    try:
        return WINDOWS[window.strip().lower()]
    except (KeyError, AttributeError):
        raise UnsupportedRequest(
            f"window must be one of {', '.join(WINDOWS)}, got {window!r}"
        ) from None


def step_name(ms: int) -> str:
    """The name of a step length, e.g. 300000 -> ``5m``."""
    for name, length in STEPS.items():
        if length == ms:
            return name
    raise UnsupportedRequest(f"no step is {ms} ms long")


def floor_to(ts_ms: int, step: int) -> int:
    """Start of the step that contains ``ts_ms``."""
    return ts_ms - ts_ms % step


def duration_text(ms: int) -> str:
    """A short human duration: ``5 days``, ``3 hours``, ``90 minutes``."""
    for unit, length in (("day", DAY_MS), ("hour", HOUR_MS), ("minute", MINUTE_MS)):
        if ms >= length and ms % length == 0:
            count = ms // length
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{ms / 1000:g} seconds"
