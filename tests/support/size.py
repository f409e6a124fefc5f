"""How big the heaviest tests run: a CI size by default, full size with ``LIQMAP_TEST_SIZE``."""

from __future__ import annotations

import os
from typing import TypeVar

VARIABLE = "LIQMAP_TEST_SIZE"
SIZES = ("ci", "full")

T = TypeVar("T")


def chosen_size() -> str:
    """``ci`` (unset or empty) or ``full``; any other value is refused, not taken as ``ci``."""
    size = os.environ.get(VARIABLE, "").strip().lower() or "ci"
    if size not in SIZES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(SIZES)}, not {size!r}")
    return size


def sized(ci: T, full: T) -> T:
    """``full`` when the tests run at full size, else ``ci``."""
    return full if chosen_size() == "full" else ci
