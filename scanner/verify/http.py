"""HTTP for verification: bounded time per answer, never a redirect followed, TLS always
verified (plain http only to loopback hosts, for tests), a per-host rate limit that honours
``Retry-After``, and a per-run cache so each check runs once.

An answer is reduced to what verdicts need (status, the JSON body, the kind of body); bodies
are never logged and never copied into reasons.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import requests

from scanner import __version__
from scanner.registry import check_url, is_loopback
from scanner.verify.base import VerifyOptions

log = logging.getLogger("leakstop.verify")

MAX_BODY_BYTES = 64 * 1024
MAX_RETRY_AFTER = 3600.0
USER_AGENT = f"leakstop/{__version__} (+credential verification)"
BodyKind = Literal["json", "html", "empty", "other"]
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class Answer:
    """What a server said (or why it said nothing)."""

    host: str
    status: int | None = None
    failure: str | None = None
    """Set when there is no usable HTTP answer: timeout, refused connection, TLS error..."""
    content_type: str = ""
    kind: BodyKind = "empty"
    body: Any = field(default=None, repr=False)
    """The parsed JSON body; None unless ``kind == "json"``."""
    retry_after: float | None = None
    www_authenticate: bool = False

    @property
    def error(self) -> str | None:
        """The OAuth ``error`` code, only if it looks like one (safe to quote in a reason)."""
        value = self.body.get("error") if isinstance(self.body, Mapping) else None
        if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
            return value
        return None

    @property
    def error_description(self) -> str:
        """The ``error_description`` for pattern matching only; never copy it into output."""
        value = self.body.get("error_description") if isinstance(self.body, Mapping) else None
        return value if isinstance(value, str) else ""

    def describe(self) -> str:
        """A short, secret-free summary: 'timed out after 10s', '500', '401 invalid_client'."""
        if self.failure:
            return self.failure
        text = str(self.status)
        if self.error:
            text += f" {self.error}"
        elif self.kind == "html":
            text += " HTML page"
        elif self.kind == "other":
            text += f" non-JSON answer ({self.content_type or 'no content type'})"
        return text


class HttpClient:
    """A thread-safe client for verification requests. One per run; close it when done."""

    def __init__(self, options: VerifyOptions | None = None) -> None:
        self.options = options or VerifyOptions()
        self.gate = HostGate(self.options.per_host_rate)
        self.sent: Counter[str] = Counter()
        """Requests sent per host (for summaries and tests)."""
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Answer:
        return self.request("POST", url, data=data, json_body=json_body, headers=headers, auth=auth)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", url, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Answer:
        """Send one request (plus one retry after a short 429). Never raises for network or
        server trouble: that is an Answer with ``failure`` or an error status."""
        try:
            check_url(url, "URL")
        except ValueError as exc:
            return Answer(host=_host(url), failure=f"refused to send: {exc}")
        host = _host(url)
        answer = self._send(method, url, host, data, json_body, headers, auth)
        if answer.status in (429, 503):
            wait = answer.retry_after if answer.retry_after is not None else 1.0
            self.gate.defer(host, wait)
            if (
                answer.status == 429
                and answer.retry_after is not None
                and answer.retry_after <= self.options.max_retry_after
            ):
                answer = self._send(method, url, host, data, json_body, headers, auth)
                if answer.status in (429, 503):
                    self.gate.defer(host, answer.retry_after or 1.0)
        return answer

    def wait_turn(self, url: str) -> None:
        """Wait for the host's rate limit, for requests sent by another library (PyGithub)."""
        host = _host(url)
        self.gate.wait(host)
        with self._lock:
            self.sent[host] += 1

    def tls_verify(self, url: str) -> bool | str:
        """What to pass as ``verify``: the CA bundle from the environment, else True."""
        if urlsplit(url).scheme == "http":
            return True
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # No .netrc credentials, no environment CA or proxy surprises: proxies are
            # passed explicitly below, and loopback traffic never goes through one.
            session.trust_env = False
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept"] = "application/json"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(
        self,
        method: str,
        url: str,
        host: str,
        data: Mapping[str, str] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
    ) -> Answer:
        timeout = self.options.timeout
        self.gate.wait(host)
        with self._lock:
            self.sent[host] += 1
        # Loopback (where plain http is allowed) never goes through a proxy: ``host`` carries
        # the port, so ask about the bare host name.
        loopback = is_loopback(urlsplit(url).hostname)
        proxies = {} if loopback else requests.utils.get_environ_proxies(url)
        started = time.monotonic()
        try:
            response = self._session().request(
                method,
                url,
                data=data,
                json=json_body,
                headers=dict(headers or {}),
                auth=auth,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
                verify=self.tls_verify(url),
                proxies=proxies,
            )
        except requests.RequestException as exc:
            answer = Answer(host=host, failure=transport_failure(exc, timeout))
            log.debug("%s %s -> %s", method, host, answer.describe())
            return answer
        try:
            body, failure = _read_body(response, started + timeout, timeout)
        finally:
            response.close()
        answer = _answer(host, response, body, failure)
        # Status and kind of body only: a hostile server could echo a credential as its
        # "error"; reasons are scrubbed later, logs must not need to be.
        log.debug("%s %s%s -> %s %s", method, host, urlsplit(url).path, answer.status, answer.kind)
        return answer


class HostGate:
    """Spaces requests to each host at most ``rate`` per second and holds a host back after
    it says Retry-After. Threads wait for their slot; slots are handed out in order."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + self.interval
        if slot > now:
            time.sleep(slot - now)

    def defer(self, host: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + max(0.0, seconds)
            self._next[host] = max(self._next.get(host, 0.0), until)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A per-run cache: the first caller for a key computes the value, concurrent callers for
    the same key wait for it instead of repeating the work."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
            return value

    def __len__(self) -> int:
        return len(self._values)


# --------------------------------------------------------------------------- helpers


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "?"
    host = parts.hostname or "?"
    return f"{host}:{port}" if port else host


def _read_body(
    response: requests.Response, deadline: float, timeout: float
) -> tuple[bytes, str | None]:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(8192):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_BODY_BYTES:
                break
            if time.monotonic() > deadline:
                return b"", f"answer took longer than {timeout:g}s"
    except requests.RequestException as exc:
        return b"", transport_failure(exc, timeout)
    if time.monotonic() > deadline:
        return b"", f"answer took longer than {timeout:g}s"
    return b"".join(chunks)[:MAX_BODY_BYTES], None


def _answer(host: str, response: requests.Response, raw: bytes, failure: str | None) -> Answer:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    answer = Answer(
        host=host,
        status=response.status_code,
        failure=failure,
        content_type=content_type,
        retry_after=_retry_after(response.headers.get("Retry-After")),
        www_authenticate="WWW-Authenticate" in response.headers,
    )
    text = raw.decode("utf-8", "replace").strip()
    if failure or not text:
        return answer
    if "html" in content_type or text[:1] == "<":
        return replace(answer, kind="html")
    if "json" in content_type or text[:1] in "{[":
        try:
            return replace(answer, kind="json", body=json.loads(text))
        except ValueError:
            pass
    return replace(answer, kind="other")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


def transport_failure(exc: requests.RequestException, timeout: float) -> str:
    """Why there was no answer, from the exception's type and cause, never its text (which
    may quote URLs or server data)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"connection timed out after {timeout:g}s"
    if isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.Timeout):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS verification failed"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy error"
    if isinstance(exc, requests.exceptions.ConnectionError):
        for cause in _causes(exc):
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, ConnectionResetError):
                return "connection reset"
            if isinstance(cause, TimeoutError):
                return f"timed out after {timeout:g}s"
            if "NameResolution" in type(cause).__name__ or "gaierror" in type(cause).__name__:
                return "host name not found"
        return "connection failed"
    return f"request failed ({type(exc).__name__})"


def _causes(exc: BaseException, limit: int = 16) -> list[BaseException]:
    """The exception and what it wraps (cause, context, urllib3's ``reason``, exception args),
    breadth first, each once."""
    seen: list[BaseException] = []
    queue: list[BaseException] = [exc]
    while queue and len(seen) < limit:
        current = queue.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested.extend(a for a in current.args if isinstance(a, BaseException))
        queue.extend(n for n in nested if isinstance(n, BaseException))
    return seen
