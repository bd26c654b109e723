"""Loopback fakes for verification tests: a tiny HTTP server whose answers a test scripts, a
listening socket that records whether anyone connected, and builders for findings and
registries. Every secret and key is generated at run time."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from scanner.models import Finding, Origin, make_fingerprint
from scanner.registry import Registry, parse_registry


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    """bytes, str, or anything JSON-serialisable (sent as application/json)."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds before answering."""
    drip: float = 0.0
    """Seconds between body bytes (a server that keeps a connection busy)."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


Handler = Callable[[Seen], Reply]


class FakeServer:
    """An HTTP server on 127.0.0.1 answering every request with ``handler(seen)``."""

    def __init__(self, handler: Handler | Reply) -> None:
        self.handler: Handler = handler if callable(handler) else (lambda _seen: handler)
        self.requests: list[Seen] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers), body, time.monotonic())
                fake.requests.append(seen)
                reply = fake.handler(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                payload, content_type = _encode(reply.body)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": content_type, **reply.headers}
                    for name, value in headers.items():
                        if value:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if not reply.drip:
                        self.wfile.write(payload)
                    for i in range(len(payload) if reply.drip else 0):
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _encode(body: Any) -> tuple[bytes, str]:
    if isinstance(body, bytes):
        return body, "application/octet-stream" if body else ""
    if isinstance(body, str):
        kind = "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain"
        return body.encode(), kind
    return json.dumps(body).encode(), "application/json"


class Listener:
    """A listening socket nobody should connect to: ``contacted`` says whether anyone did."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def contacted(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def discovery(issuer: str, **extra: Any) -> dict[str, Any]:
    """A minimal OpenID discovery document for a fake issuer."""
    return {"issuer": issuer, "token_endpoint": f"{issuer}/token", **extra}


def oauth_server(token: Handler | Reply) -> FakeServer:
    """A fake issuer: discovery at /.well-known/openid-configuration, ``token`` at /token."""
    server: FakeServer

    def handle(seen: Seen) -> Reply:
        if seen.path == "/.well-known/openid-configuration":
            return Reply(200, discovery(server.url))
        if seen.path == "/token":
            return token(seen) if callable(token) else token
        return Reply(404, {"error": "not_found"})

    server = FakeServer(handle)
    return server


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def finding(
    secret: str,
    *,
    client_id: str | None = None,
    kind: str = "client-secret",
    provider: str = "generic",
    rule_id: str = "generic-client-secret",
    attributes: Mapping[str, str] | None = None,
    path: str = "app/settings.py",
    root: str | None = None,
    encrypted: bool = False,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        kind=kind,  # type: ignore[arg-type]
        provider=provider,
        origin=Origin(source="file", path=path, root=root),
        line=1,
        column=1,
        secret=secret,
        fingerprint=make_fingerprint(rule_id, secret),
        client_id=client_id,
        encrypted=encrypted,
        attributes=tuple(sorted((attributes or {}).items())),
    )


def registry(
    issuers: Mapping[str, str] | None = None,
    clients: list[dict[str, Any]] | None = None,
    **issuer_options: Any,
) -> Registry:
    """A registry from plain dicts: ``issuers`` maps name -> issuer URL."""
    data = {
        "issuer": [{"name": n, "issuer": u, **issuer_options} for n, u in (issuers or {}).items()],
        "client": clients or [],
    }
    return parse_registry(data, "test registry")
