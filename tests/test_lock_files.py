"""The lock files pin what pyproject.toml asks for: a dependency added without locking again, or
a pin outside its declared range, fails here rather than in someone's install."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(text) for text in PROJECT["dependencies"]]
DEV = [Requirement(text) for text in PROJECT["optional-dependencies"]["dev"]]


def pins(name: str) -> dict[str, list[tuple[Version, str]]]:
    """Package -> its pinned versions in a lock file, each with its hashes, as a ``==`` line."""
    found: dict[str, list[tuple[Version, str]]] = {}
    text = (ROOT / name).read_text()
    for match in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(.*?)(?=^\S|\Z)", text, re.M | re.S):
        package, version, rest = match.groups()
        found.setdefault(canonicalize_name(package), []).append((Version(version), rest))
    return found


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)],
)
def test_every_declared_dependency_is_pinned_within_its_range_with_hashes(
    lock: str, wanted: list[Requirement]
) -> None:
    pinned = pins(lock)
    for requirement in wanted:
        versions = pinned.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in {lock}: lock again (README)"
        for version, rest in versions:
            assert requirement.specifier.contains(version), f"{lock}: {requirement} vs {version}"
            assert "--hash=sha256:" in rest, f"{lock}: {requirement.name} has no hash"


def test_ccxt_stays_below_its_next_minor_release() -> None:
    ccxt = next(r for r in RUNTIME if r.name == "ccxt")
    (version,) = [v for v, _ in pins("requirements.lock")["ccxt"]]
    upper = Version(f"{version.major}.{version.minor + 1}")
    assert not ccxt.specifier.contains(upper)
    assert ccxt.specifier.contains(version)


def test_the_dev_lock_holds_the_runtime_lock() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    for package, versions in runtime.items():
        assert [v for v, _ in dev.get(package, [])] == [v for v, _ in versions], package
