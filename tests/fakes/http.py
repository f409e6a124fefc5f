"""A threaded HTTP server on 127.0.0.1 with a request log and injectable faults."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    at: float = 0.0
    """When it arrived (``time.time()``)."""


@dataclass(frozen=True)
class Fault:
    """What the server answers instead of the real thing."""

    status: int = 500
    body: str = "internal error"
    content_type: str = "text/plain"
    disconnect: bool = False
    delay: float = 0.0


@dataclass
class _Injected:
    fault: Fault
    path: str
    remaining: int | None
    passing: int


Handler = Callable[[Request], tuple[int, Any]]


@dataclass
class FakeServer:
    """Serve ``routes`` (path -> handler returning (status, JSON-able body)) on a free port."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    _faults: deque[_Injected] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    answer_delay: float = 0.0
    """Seconds every request waits before it is answered (a network round trip); 0: none."""

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    def start(self, port: int = 0) -> FakeServer:
        """Serve on ``port`` (0: a free one). Starting again on the port of a stopped server
        ends an outage without changing the URL its clients know."""
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else Nagle + delayed ACK add ~40 ms per answer

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------

    def inject(self, fault: Fault, path: str = "", times: int | None = 1, after: int = 0) -> None:
        """Answer ``times`` requests under ``path`` with ``fault`` (None: until cleared),
        after letting ``after`` of them through normally."""
        with self._lock:
            self._faults.append(_Injected(fault, path, times, after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, path: str = "") -> int:
        """How many requests the server saw under ``path``."""
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path))

    def seen(self, path: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path)]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- serving -------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for injected in self._faults:
                if path.startswith(injected.path):
                    if injected.passing > 0:
                        injected.passing -= 1
                        return None
                    if injected.remaining is not None:
                        injected.remaining -= 1
                        if injected.remaining <= 0:
                            self._faults.remove(injected)
                    return injected.fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            body=body,
            headers={k.lower(): v for k, v in handler.headers.items()},
            at=time.time(),
        )
        with self._lock:
            self.requests.append(request)
        if self.answer_delay:
            time.sleep(self.answer_delay)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.disconnect:
                handler.close_connection = True
                handler.connection.close()
                return
            self._send(handler, fault.status, fault.body.encode(), fault.content_type)
            return
        route = self.routes.get(request.path)
        if route is None:
            self._send(handler, 404, b'{"error":"not found"}', "application/json")
            return
        status, payload = route(request)
        self._send(handler, status, json.dumps(payload).encode(), "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client goes away mid-request (a timeout, a restart): that is what
    the fakes' faults provoke. Takes a burst of new connections at once (a backlog of 5, the
    default, drops some of a hundred clients connecting together)."""

    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for connection-refused tests)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
