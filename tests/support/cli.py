"""Running the ``liqmap`` command line as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LIQMAP = str(Path(sys.executable).with_name("liqmap"))
"""The console script of the environment running the tests."""


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIQMAP_", "TELEGRAM_"))}
    return subprocess.run(
        [LIQMAP, *args], cwd=cwd, env=clean | (env or {}), capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
