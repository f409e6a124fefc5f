"""A webhook receiver on 127.0.0.1 over HTTPS (a self-signed certificate made per receiver):
it keeps every request and answers from a script, as a JSON receiver or Discord would.

Discord's side follows "Execute Webhook" (https://discord.com/developers/docs/resources/webhook#execute-webhook):
multipart/form-data with ``payload_json`` and ``files[n]``, ``?wait=true`` answered 200 with
the message; a 429 answers ``{"message", "retry_after", "global"}`` with a ``Retry-After``
header (https://discord.com/developers/docs/topics/rate-limits); a deleted webhook 404.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    """Multipart files by field name: filename, content type, bytes."""


@dataclass
class Scripted:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class WebhookReceiver:
    """``async with WebhookReceiver() as r``: ``r.url(path)``, ``r.client_ssl`` trusts it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Scripted] = []
        self._dir = tempfile.TemporaryDirectory()
        cert, key = _self_signed(Path(self._dir.name))
        self.server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_ssl.load_cert_chain(cert, key)
        self.client_ssl = ssl.create_default_context(cafile=str(cert))
        self._runner: web.AppRunner | None = None
        self.arrived: asyncio.Event | None = None
        """Set when a request has arrived (made in the running loop)."""
        self.port = 0

    def answer(self, *answers: Scripted) -> None:
        """Answer the next requests so, in order; then 200."""
        self.script.extend(answers)

    def url(self, path: str = "/hook") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> WebhookReceiver:
        self.arrived = asyncio.Event()
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.server_ssl)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp keeps the bound port only here
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._dir.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        got = Received(request.path, dict(request.query), dict(request.headers))
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    content_type = part.headers.get("Content-Type", "")
                    got.files[name] = (part.filename, content_type, bytes(data))  # type: ignore[union-attr]
                else:
                    got.fields[name] = bytes(data).decode()
        else:
            got.body = await request.read()
        self.received.append(got)
        if self.arrived is not None:
            self.arrived.set()
        scripted = self.script.pop(0) if self.script else Scripted(200, {"id": "1"})
        if scripted.delay_s:
            await asyncio.sleep(scripted.delay_s)
        return web.Response(
            status=scripted.status,
            text=json.dumps(scripted.body) if scripted.body is not None else "",
            content_type="application/json",
            headers=scripted.headers,
        )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "liqmap test receiver")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
