"""IANA time zones from the ``tzdata`` package, never from the host's files.

The host's zone files differ between machines, containers and upgrades, and list names that
are not places (``localtime`` is the server's own zone). ``tzdata`` is a dependency, so a
zone accepted here loads the same wherever the service runs. A chat's stored name that
tzdata does not ship (saved before this rule, or dropped by an upgrade) counts as UTC.
"""

from __future__ import annotations

import functools
from importlib import resources
from zoneinfo import ZoneInfo

NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})
"""Names a zone directory may hold that are no place a chat could be in."""
FALLBACK = "UTC"


@functools.cache
def zone_names() -> frozenset[str]:
    """The zones a chat may choose: those tzdata lists in its ``zones`` file, but for
    ``NOT_PLACES``."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listed.split()) - NOT_PLACES


def is_zone(name: str) -> bool:
    return name in zone_names()


def zone_or_utc(name: str) -> ZoneInfo:
    """The zone ``name``, or UTC when tzdata ships no such zone."""
    return load_zone(name if is_zone(name) else FALLBACK)


@functools.cache
def load_zone(name: str) -> ZoneInfo:
    """A zone of ``zone_names()``, read from tzdata's own file once."""
    with resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).open("rb") as file:
        return ZoneInfo.from_file(file, key=name)
