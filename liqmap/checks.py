"""The outcome of one health check, as ``liqmap doctor`` prints it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: passed or not, and what it found, in a few words."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``ok    database  liqmap.db: ...``; further lines of the detail indented below. A
        name of ten letters or more (``hyperliquid``) is still followed by a space."""
        first, *more = self.detail.splitlines() or [""]
        head = f"{'ok' if self.ok else 'FAIL':<6}{self.name:<9} {first}"
        return "\n".join([head, *(f"{'':16}{line}" for line in more)])
