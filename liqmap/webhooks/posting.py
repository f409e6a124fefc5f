"""Post one webhook: the host resolved once, its addresses vetted, the connection pinned to them.

A name is resolved at send time and every address it gives is checked
(``webhook_targets.vetted``); the connection then goes to those addresses only, through a
resolver that knows nothing else, with aiohttp's DNS cache off and redirects not followed
(a redirect could point inside). So a name answering 127.0.0.1, now or after it was added,
is refused, and no second lookup can change where the request goes.

Discord: "Execute Webhook", ``POST /webhooks/{id}/{token}?wait=true``, multipart/form-data
with ``payload_json`` (``content`` up to 2000 characters, ``attachments``) and the chart as
``files[0]``; ``wait=true`` makes Discord answer only once the message is saved (without it
"a message that is not saved does not return an error"); a 429 carries ``retry_after``
(seconds) in its JSON body and a ``Retry-After`` header
(https://discord.com/developers/docs/resources/webhook#execute-webhook,
https://discord.com/developers/docs/topics/rate-limits).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from liqmap import __version__
from liqmap.policies.webhook_targets import (
    NOT_ALLOWED,
    UNRESOLVED,
    TargetRefused,
    host_allowed,
    vetted,
)

Lookup = Callable[[str, int], Awaitable[list[str]]]
"""A host name and port to the addresses it resolves to."""
POST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
MAX_ANSWER_BYTES = 65_536
USER_AGENT = f"liqmap-bot/{__version__} (webhooks)"
SUPPRESS_NOTIFICATIONS = 1 << 12
"""Discord's message flag for a message that notifies no one (a webhook may set it)."""


@dataclass(frozen=True)
class Answer:
    """What became of one post."""

    status: int | None
    """The HTTP status, None when no answer came."""
    detail: str
    """One line for the log and the chat (never the URL)."""
    retry_after: float | None = None
    """Seconds the receiver asked to wait (a 429)."""
    maybe_delivered: bool = False
    """No answer, but the request may have reached the receiver (a read timeout, a cut)."""
    refused: bool = False
    """The address was refused before anything was sent (private, unresolved)."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def system_lookup(host: str, port: int) -> list[str]:
    """The system resolver's addresses for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class PinnedResolver(AbstractResolver):
    """Answers only for the one host it was given, with the addresses vetted for it."""

    def __init__(self, host: str, addresses: list[str]) -> None:
        self.host = host
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self.host:
            raise OSError(f"{host} was not vetted")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        return None


class WebhookPoster:
    """Posts to webhook URLs under the address rules; never raises for the network."""

    def __init__(
        self,
        private_allowed: bool = False,
        lookup: Lookup = system_lookup,
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = POST_TIMEOUT_S,
        allowed: tuple[str, ...] | None = None,
    ) -> None:
        self.private_allowed = private_allowed
        self.allowed = allowed
        """The hosts the operator allows now (``LIQMAP_WEBHOOKS_ALLOWED``): a stored webhook
        whose host left the list, or every one when the list is emptied, is refused at its
        next send; None: not checked here."""
        self.lookup = lookup
        self.ssl_context = ssl_context
        self.timeout_s = timeout_s

    async def post_json(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        return await self._post(url, body, headers | {"Content-Type": "application/json"}, {})

    async def post_discord(
        self, url: str, content: str, png: bytes | None, silent: bool = False
    ) -> Answer:
        """A Discord message; ``silent`` sets ``SUPPRESS_NOTIFICATIONS`` (as in quiet hours)."""
        payload: dict[str, Any] = {"content": content[:2000], "allowed_mentions": {"parse": []}}
        if silent:
            payload["flags"] = SUPPRESS_NOTIFICATIONS
        form = aiohttp.FormData()
        if png is not None:
            payload["attachments"] = [{"id": 0, "filename": "chart.png"}]
        form.add_field("payload_json", json.dumps(payload), content_type="application/json")
        if png is not None:
            form.add_field("files[0]", png, filename="chart.png", content_type="image/png")
        return await self._post(url, form, {}, {"wait": "true"})

    async def addresses(self, host: str, port: int) -> list[str]:
        """The vetted addresses of ``host`` now, or ``TargetRefused`` (also for a name that
        does not resolve, or a host the operator no longer allows)."""
        try:
            return await self._resolved(host, port)
        except (OSError, UnicodeError):
            raise TargetRefused(UNRESOLVED) from None

    async def _resolved(self, host: str, port: int) -> list[str]:
        """``addresses``, but a lookup that failed raises its ``OSError`` (tried again later)."""
        if self.allowed is not None and not host_allowed(_bare(host), self.allowed):
            raise TargetRefused(NOT_ALLOWED)
        if _literal(host):
            return vetted([host], self.private_allowed)
        return vetted(await self.lookup(host, port), self.private_allowed)

    async def _post(
        self, url: str, data: bytes | aiohttp.FormData, headers: dict[str, str],
        params: dict[str, str],
    ) -> Answer:  # fmt: skip
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        try:
            pinned = await self._resolved(host, port)
        except TargetRefused as exc:
            return Answer(None, str(exc), refused=True)
        except (OSError, UnicodeError) as exc:
            return Answer(None, f"could not resolve the host: {type(exc).__name__}")
        connector = aiohttp.TCPConnector(
            resolver=PinnedResolver(host, pinned), use_dns_cache=False, ssl=self.ssl_context or True
        )
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=CONNECT_TIMEOUT_S)
        session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )
        try:
            async with (
                session,
                session.post(
                    url, data=data, headers=headers, params=params, allow_redirects=False
                ) as answer,
            ):
                text = (await answer.content.read(MAX_ANSWER_BYTES)).decode("utf-8", "replace")
                return Answer(answer.status, f"HTTP {answer.status}", _retry_after(answer, text))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            return Answer(None, f"could not connect: {type(exc).__name__}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Answer(None, f"no answer: {type(exc).__name__}", maybe_delivered=True)


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _bare(host: str) -> str:
    """A host as the allowed list spells it: lower case, an IP address in its short form."""
    try:
        return str(vetted([host], private_allowed=True)[0])
    except TargetRefused:
        return host.lower().rstrip(".")


def _retry_after(answer: aiohttp.ClientResponse, text: str) -> float | None:
    """Seconds to wait: Discord's ``retry_after`` in the body, else ``Retry-After``."""
    if answer.status != 429:
        return None
    try:
        body = json.loads(text)
        value = float(body["retry_after"]) if isinstance(body, dict) else None
    except (ValueError, KeyError, TypeError):
        value = None
    if value is None:
        try:
            value = float(answer.headers.get("Retry-After", ""))
        except ValueError:
            value = None
    return None if value is None or not 0 <= value < 86_400 else value
