"""Where a chat's webhook may point: the operator's host list and the guard against SSRF.

A webhook makes the service send HTTP requests to an address a chat names, so a careless
rule would let any chat reach the machine's own services or the operator's network. The
rules, checked here without any network:

- only ``https://`` URLs of RFC 3986's characters, without user names or passwords, at most
  ``MAX_URL_LENGTH`` long;
- the host must match ``LIQMAP_WEBHOOKS_ALLOWED`` (a comma list of host names; ``*.`` in
  front matches any sub-domain, not the name itself): empty means webhooks are off;
- every address the host resolves to must be public (``ipaddress``' ``is_global``, and not
  multicast, reserved, loopback, link-local, private or unspecified; an IPv6 address carrying
  an IPv4 one (mapped, 6to4, NAT64, Teredo) is judged by that IPv4 address), unless the
  operator allows private ones.

The addresses are checked when a request is sent (``vetted``), not only when the webhook is
added, since a name may resolve elsewhere later; the adapter connects to the vetted addresses
only.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2000
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
"""What RFC 3986 lets a URL hold; anything else (spaces, markup, other scripts) is refused
rather than guessed at: a host in another script is written in its ``xn--`` form."""
DISCORD = "discord"
JSON = "json"
KINDS = (DISCORD, JSON)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""IPv6 addresses that a NAT64 gateway turns into the IPv4 address in their last 32 bits."""
DISCORD_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")


class TargetRefused(ValueError):
    """A webhook URL or address the rules refuse; the message is one line for the chat."""


NOT_HTTPS = "only https:// webhook URLs are accepted"
BAD_URL = "that is not a webhook URL (https://host/path)"
NOT_ALLOWED = "that host is not among the webhook hosts the operator allows"
PRIVATE = "that address is private, loopback or otherwise not public"
UNRESOLVED = "that host name does not resolve"
OFF = "the operator has not enabled webhooks (LIQMAP_WEBHOOKS_ALLOWED)"


@dataclass(frozen=True)
class Target:
    """A webhook URL the rules accept, normalised: scheme and host lower case, no fragment."""

    url: str
    host: str
    port: int
    literal: bool
    """The host is an IP address, not a name."""


def allowed_hosts(raw: str) -> tuple[str, ...]:
    """``LIQMAP_WEBHOOKS_ALLOWED`` as patterns (``discord.com``, ``*.example.org``, or an IP
    address); raises ``ValueError`` naming a pattern that is not a host name."""
    patterns = []
    for item in raw.split(","):
        pattern = item.strip().lower().rstrip(".")
        if not pattern:
            continue
        address = _address(pattern.strip("[]"))
        if address is not None:
            patterns.append(str(address))
            continue
        name = pattern.removeprefix("*.")
        labels = name.split(".")
        if not all(_label(label) for label in labels) or "*" in name:
            raise ValueError(f"has {item.strip()!r}, which is not a host name or *.domain")
        patterns.append(pattern)
    return tuple(patterns)


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``host`` (lower case) matches a pattern: equal, or a sub-domain of a ``*.``."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def target(raw: str, patterns: tuple[str, ...], private_allowed: bool = False) -> Target:
    """The URL a chat typed, checked and normalised, or ``TargetRefused`` with why."""
    if not patterns:
        raise TargetRefused(OFF)
    text = raw.strip()
    if not text or len(text) > MAX_URL_LENGTH or not URL_CHARACTERS.issuperset(text):
        raise TargetRefused(BAD_URL)
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise TargetRefused(BAD_URL) from None
    if parts.scheme.lower() != "https":
        raise TargetRefused(NOT_HTTPS if parts.scheme else BAD_URL)
    if not host or parts.username is not None or parts.password is not None or port == 0:
        raise TargetRefused(BAD_URL)
    try:
        host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        raise TargetRefused(BAD_URL) from None
    literal = _address(host)
    if literal is None and not all(_label(label) for label in host.split(".")):
        raise TargetRefused(BAD_URL)
    if literal is not None and not private_allowed and not public(literal):
        raise TargetRefused(PRIVATE)
    if not host_allowed(host if literal is None else str(literal), patterns):
        raise TargetRefused(NOT_ALLOWED)
    netloc = f"[{host}]" if isinstance(literal, ipaddress.IPv6Address) else host
    if port is not None and port != 443:
        netloc = f"{netloc}:{port}"
    url = urlunsplit(("https", netloc, parts.path or "/", parts.query, ""))
    return Target(url, host, port or 443, literal is not None)


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may be sent to ``address`` without the operator's allowance."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if address in NAT64:
            mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.teredo is not None:
            mapped = address.teredo[1]
        if mapped is not None:
            return public(mapped)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def vetted(addresses: list[str], private_allowed: bool = False) -> list[str]:
    """The resolved ``addresses`` a request may go to: all of them when every one is public
    (or private ones are allowed), else ``TargetRefused``: one private answer refuses the
    name, so a name cannot mix a public address with an inner one."""
    parsed = [_address(text.split("%", 1)[0]) for text in addresses]
    if not parsed or any(a is None for a in parsed):
        raise TargetRefused(UNRESOLVED)
    if not private_allowed and not all(a is not None and public(a) for a in parsed):
        raise TargetRefused(PRIVATE)
    return [str(a) for a in parsed]


def is_discord(url: str) -> bool:
    """A Discord webhook URL (``https://discord.com/api/webhooks/ID/TOKEN``)."""
    parts = urlsplit(url)
    return (parts.hostname or "") in DISCORD_HOSTS and "/webhooks/" in parts.path


def masked(url: str) -> str:
    """The URL as shown to a chat or a log: the path's last part (a Discord webhook's token,
    often a secret elsewhere too) and the query replaced by ``…``."""
    parts = urlsplit(url)
    head, _, last = parts.path.rpartition("/")
    path = f"{head}/…" if len(last) > 4 else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, "…" if parts.query else "", ""))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label.isascii()
        and all(c.isalnum() or c == "-" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
    )
