"""The running service's heartbeat: a file beside the database holding when it last beat.

``liqmap run`` rewrites it every few seconds from its event loop and removes it when it stops;
``liqmap doctor`` reads it, so a loop that hangs turns the container health check red.
"""

from __future__ import annotations

import os
from pathlib import Path

from liqmap.checks import CheckResult

HEARTBEAT_SECONDS = 10.0
"""How often the service beats."""
STALE_AFTER_S = 90.0
"""A heartbeat older than this means the service has stalled (nine beats missed)."""


def heartbeat_path(db_path: Path) -> Path:
    """``liqmap.db-heartbeat`` beside ``liqmap.db``."""
    return db_path.with_name(f"{db_path.name}-heartbeat")


def beat(path: Path, now_ms: int) -> None:
    """Record a beat at ``now_ms`` (written whole, then moved into place)."""
    part = path.with_name(f"{path.name}.part")
    part.write_text(f"{now_ms}\n")
    os.replace(part, path)


def clear(path: Path) -> None:
    """The service stopped: no heartbeat to judge."""
    path.unlink(missing_ok=True)


def check_heartbeat(path: Path, now_ms: int, stale_after_s: float = STALE_AFTER_S) -> CheckResult:
    """Whether the service beating into ``path`` is alive: passes when it beat within
    ``stale_after_s``, or when there is no heartbeat (no service running here: it removes the
    file when it stops)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return CheckResult("service", True, "no heartbeat: liqmap run is not running here")
    except OSError as exc:
        return CheckResult("service", False, f"cannot read {path}: {exc.strerror}")
    try:
        age_ms = now_ms - int(text.strip())
    except ValueError:
        return CheckResult("service", False, f"{path} holds no time: {text[:40]!r}")
    age = f"{max(age_ms, 0) / 1000:.0f} s"
    if age_ms > stale_after_s * 1000:
        return CheckResult(
            "service", False,
            f"liqmap run last beat {age} ago (stalled: more than {stale_after_s:g} s); "
            "restart it",
        )  # fmt: skip
    return CheckResult("service", True, f"liqmap run beat {age} ago")
