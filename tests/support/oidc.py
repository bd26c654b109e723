"""A real OAuth 2.0 authorization server for leakstop's tests, and pytest fixtures for it.

The server is panva's ``oidc-provider`` (a certified implementation written independently of
leakstop), run by ``tests/oidc_server/server.mjs`` as ``node`` subprocess bound to 127.0.0.1 on an
ephemeral port. See ``tests/oidc_server/README.md`` for what it enables and what it does.

Load the fixtures from ``tests/conftest.py`` with::

    pytest_plugins = ["tests.support.oidc"]

Fixtures:

* ``oidc_server`` (session): stock secret policy -- an RFC 7592 PUT never changes client_secret.
* ``oidc_server_rotating`` (session): a PUT that omits client_secret gets a new client_secret.
* ``oidc_server_factory`` (function): ``factory(**OidcServer kwargs) -> OidcServer`` for servers
  with other options (short token TTL, initial access token...); stopped after the test.

Without ``node`` or without ``npm ci --prefix tests/oidc_server`` the fixtures skip the test, or
fail it when the environment variable ``CI`` or ``LEAKSTOP_REQUIRE_OIDC`` is set. Each
pytest-xdist worker starts its own servers, each on its own port.

Every client secret and key used here is generated at run time by the server or by the helpers.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pytest
import requests

SERVER_DIR = Path(__file__).resolve().parents[1] / "oidc_server"
SERVER_SCRIPT = SERVER_DIR / "server.mjs"
INSTALL_COMMAND = "npm ci --prefix tests/oidc_server"
REQUIRE_ENV_VARS = ("CI", "LEAKSTOP_REQUIRE_OIDC")
HOST = "127.0.0.1"
HTTP_TIMEOUT = 10.0

SecretMethod = Literal["client_secret_basic", "client_secret_post"]
TokenMethod = Literal["client_secret_basic", "client_secret_post", "none"]
SecretRotation = Literal["keep", "rotate"]

# Fields a client must not send in an RFC 7592 PUT (oidc-provider answers 400 otherwise).
_PUT_FORBIDDEN = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class OidcServerError(RuntimeError):
    """The server could not be started, or an API call did not answer as the helper expects."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RegisteredClient:
    """A client as the server registered it (RFC 7591 response, or RFC 7592 GET/PUT response)."""

    client_id: str
    client_secret: str | None
    registration_access_token: str
    registration_client_uri: str
    metadata: dict[str, Any] = field(repr=False)

    @property
    def token_endpoint_auth_method(self) -> str:
        return str(self.metadata.get("token_endpoint_auth_method", "client_secret_basic"))

    @classmethod
    def from_response(cls, response: requests.Response) -> RegisteredClient:
        """Build from a 201 registration or 200 RFC 7592 GET/PUT response (raises otherwise)."""
        if response.status_code not in (200, 201):
            raise OidcServerError(
                f"{response.request.method} {response.url} -> {response.status_code}: "
                f"{response.text[:500]}"
            )
        body = response.json()
        return cls(
            client_id=body["client_id"],
            client_secret=body.get("client_secret"),
            registration_access_token=body["registration_access_token"],
            registration_client_uri=body["registration_client_uri"],
            metadata=body,
        )


@dataclass(frozen=True)
class SigningKey:
    """A freshly generated private key for ``private_key_jwt`` and its public JWK."""

    alg: str
    private_key: Any = field(repr=False)
    public_jwk: dict[str, Any]

    @property
    def kid(self) -> str:
        return str(self.public_jwk["kid"])


def generate_signing_key(alg: str = "ES256") -> SigningKey:
    """Generate a key for ``alg``: RS256/PS256 (RSA-2048), ES256 (P-256), EdDSA/Ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    private_key: Any
    if alg in ("RS256", "PS256"):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    elif alg == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    elif alg in ("EdDSA", "Ed25519"):
        private_key = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        raise ValueError(f"unsupported alg {alg!r}")
    public_jwk = {**jwk, "use": "sig", "kid": uuid.uuid4().hex}
    return SigningKey(alg=alg, private_key=private_key, public_jwk=public_jwk)


def make_client_assertion(
    client_id: str,
    private_key: Any,
    alg: str,
    audience: str,
    *,
    kid: str | None = None,
    lifetime: int = 60,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """A ``private_key_jwt`` client assertion (RFC 7523): iss = sub = client_id, aud, jti, exp.

    ``alg`` may be the fully specified ``"Ed25519"`` (RFC 9864) as well as ``"EdDSA"``.
    """
    import jwt
    from jwt.algorithms import OKPAlgorithm

    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + lifetime,
        **(extra_claims or {}),
    }
    headers = {"kid": kid} if kid else None
    jws = jwt.PyJWS()
    if alg == "Ed25519" and "Ed25519" not in jws.get_algorithms():
        jws.register_algorithm("Ed25519", OKPAlgorithm())
    return jws.encode(json.dumps(claims).encode(), private_key, algorithm=alg, headers=headers)


# --------------------------------------------------------------------------- availability


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def oidc_required() -> bool:
    """True when a missing server must fail the run (``CI`` or ``LEAKSTOP_REQUIRE_OIDC`` set)."""
    return any(_env_flag(name) for name in REQUIRE_ENV_VARS)


def node_executable() -> str | None:
    return os.environ.get("LEAKSTOP_NODE") or shutil.which("node")


def unavailable_reason() -> str | None:
    """Why the server cannot be started here, or None when it can."""
    if node_executable() is None:
        return "`node` is not on PATH (Node.js >= 20 is needed for the OIDC test server)"
    if not (SERVER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return (
            f"the OIDC test server's packages are not installed: run `{INSTALL_COMMAND}` "
            "from the repository root"
        )
    return None


def skip_or_fail_if_unavailable() -> None:
    """``pytest.skip`` (or ``pytest.fail`` under CI / LEAKSTOP_REQUIRE_OIDC) when unavailable."""
    reason = unavailable_reason()
    if reason is None:
        return
    message = f"OIDC TEST SERVER UNAVAILABLE: {reason}"
    if oidc_required():
        pytest.fail(f"{message} (required: CI or LEAKSTOP_REQUIRE_OIDC is set)", pytrace=False)
    pytest.skip(f"{message}; these tests did NOT run")


# --------------------------------------------------------------------------- server


class OidcServer:
    """One ``node server.mjs`` process on 127.0.0.1 and a small HTTP client for it."""

    def __init__(
        self,
        secret_rotation: SecretRotation = "keep",  # noqa: S107 (a policy name)
        *,
        initial_access_token: str | None = None,
        token_ttl: int | None = None,
        port: int = 0,
        verbose: bool | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        if secret_rotation not in ("keep", "rotate"):
            raise ValueError(f"secret_rotation must be 'keep' or 'rotate', not {secret_rotation!r}")
        self.secret_rotation: SecretRotation = secret_rotation
        self.initial_access_token = initial_access_token
        self.token_ttl = token_ttl
        self.requested_port = port
        # verbose: provider events go to the server log, which is then kept after stop()
        self.verbose = _env_flag("LEAKSTOP_OIDC_VERBOSE") if verbose is None else verbose
        self.startup_timeout = startup_timeout
        self.issuer: str = ""
        self.port: int = 0
        self.startup_seconds: float | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._discovery: dict[str, Any] | None = None
        self._observer: RegisteredClient | None = None
        self.http = requests.Session()
        self.http.trust_env = False  # never route loopback traffic through an env proxy

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def command(self) -> list[str]:
        node = node_executable()
        if node is None:
            raise OidcServerError("node is not on PATH")
        cmd = [
            node,
            str(SERVER_SCRIPT),
            "--port",
            str(self.requested_port),
            "--secret-rotation",
            self.secret_rotation,
            "--exit-on-stdin-close",
        ]
        if self.initial_access_token:
            cmd += ["--initial-access-token", self.initial_access_token]
        if self.token_ttl is not None:
            cmd += ["--token-ttl", str(self.token_ttl)]
        if self.verbose:
            cmd.append("--verbose")
        return cmd

    def start(self) -> OidcServer:
        if self._proc is not None:
            raise OidcServerError("already started")
        reason = unavailable_reason()
        if reason is not None:
            raise OidcServerError(reason)
        fd, log_name = tempfile.mkstemp(prefix="leakstop-oidc-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log_name)
        self._log_file = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_")}
        started = time.monotonic()
        self._proc = subprocess.Popen(
            self.command(),
            cwd=SERVER_DIR,
            stdin=subprocess.PIPE,  # the server exits when this pipe closes (e.g. we die)
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env=env,
            start_new_session=True,  # a terminal ^C reaches pytest, which then stops us
        )
        _LIVE_SERVERS.add(self)
        try:
            line = self._read_listening_line(started + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.issuer = line.split(" ", 1)[1].strip().rstrip("/")
        self.port = int(self.issuer.rsplit(":", 1)[1])
        if not self.issuer.startswith(f"http://{HOST}:"):
            self.stop()
            raise OidcServerError(f"unexpected issuer {self.issuer!r}")
        return self

    def _read_listening_line(self, deadline: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise OidcServerError(
                        f"no LISTENING line within {self.startup_timeout}s{self._log_tail()}"
                    )
                if not sel.select(timeout=min(remaining, 0.5)):
                    if self._proc.poll() is not None:
                        break
                    continue
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace")
        if not line.startswith("LISTENING http://"):
            self._proc.wait(timeout=5)
            raise OidcServerError(
                f"server exited (rc={self._proc.returncode}) before listening; "
                f"stdout={buf[:200]!r}{self._log_tail()}"
            )
        return line

    def _log_tail(self, limit: int = 2000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        if self._log_file is not None:
            self._log_file.flush()
        text = self.log_path.read_text("utf-8", "replace")[-limit:]
        return f"\n--- server log ({self.log_path}) ---\n{text}" if text else ""

    def log_text(self) -> str:
        """Everything the server wrote to stderr so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text("utf-8", "replace")

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop the server (stdin EOF, then SIGTERM, then SIGKILL). Returns its exit code."""
        proc, self._proc = self._proc, None
        _LIVE_SERVERS.discard(self)
        self.http.close()
        rc: int | None = None
        if proc is not None:
            if proc.stdin:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                rc = proc.wait(timeout=timeout / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    rc = proc.wait(timeout=timeout / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.log_path is not None and not self.verbose:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
            self.log_path = None
        return rc

    def __enter__(self) -> OidcServer:
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"OidcServer(issuer={self.issuer!r}, secret_rotation={self.secret_rotation!r}, "
            f"pid={self.pid})"
        )

    # -- endpoints ---------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.issuer}/{path.lstrip('/')}"

    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            response = self.http.get(
                self.url("/.well-known/openid-configuration"), timeout=HTTP_TIMEOUT
            )
            response.raise_for_status()
            self._discovery = response.json()
        return self._discovery

    @property
    def token_endpoint(self) -> str:
        return str(self.discovery()["token_endpoint"])

    @property
    def registration_endpoint(self) -> str:
        return str(self.discovery()["registration_endpoint"])

    @property
    def introspection_endpoint(self) -> str:
        return str(self.discovery()["introspection_endpoint"])

    @property
    def revocation_endpoint(self) -> str:
        return str(self.discovery()["revocation_endpoint"])

    # -- RFC 7591 / 7592 ---------------------------------------------------------------

    def register(
        self, metadata: Mapping[str, Any], *, initial_access_token: str | None = None
    ) -> requests.Response:
        """Raw RFC 7591 registration request (uses the server's initial access token if any)."""
        headers = {}
        iat = initial_access_token or self.initial_access_token
        if iat:
            headers["Authorization"] = f"Bearer {iat}"
        return self.http.post(
            self.registration_endpoint, json=dict(metadata), headers=headers, timeout=HTTP_TIMEOUT
        )

    def register_client(self, metadata: Mapping[str, Any]) -> RegisteredClient:
        """Register a client_credentials client with ``metadata`` merged over the defaults."""
        body = {"grant_types": ["client_credentials"], "response_types": [], **metadata}
        return RegisteredClient.from_response(self.register(body))

    def register_secret_client(
        self, auth_method: SecretMethod = "client_secret_basic", **metadata: Any
    ) -> RegisteredClient:
        return self.register_client({"token_endpoint_auth_method": auth_method, **metadata})

    def register_jwt_client(
        self, public_jwk: Mapping[str, Any], alg: str, **metadata: Any
    ) -> RegisteredClient:
        """Register a ``private_key_jwt`` client whose assertions must be signed with ``alg``."""
        return self.register_client(
            {
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": alg,
                "jwks": {"keys": [dict(public_jwk)]},
                **metadata,
            }
        )

    @staticmethod
    def _rat_headers(client: RegisteredClient, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or client.registration_access_token}"}

    def read_client(
        self, client: RegisteredClient, *, registration_access_token: str | None = None
    ) -> requests.Response:
        """RFC 7592 GET on the registration_client_uri."""
        return self.http.get(
            client.registration_client_uri,
            headers=self._rat_headers(client, registration_access_token),
            timeout=HTTP_TIMEOUT,
        )

    def update_client(
        self,
        client: RegisteredClient,
        changes: Mapping[str, Any] | None = None,
        *,
        send_secret: bool = False,
        registration_access_token: str | None = None,
    ) -> requests.Response:
        """RFC 7592 PUT: the client's current metadata with ``changes`` applied.

        The body leaves out the fields RFC 7592 forbids, and ``client_secret`` unless
        ``send_secret`` (then the current secret is sent, which the server must match).
        Build the updated client with ``RegisteredClient.from_response(response)``.
        """
        body = {k: v for k, v in client.metadata.items() if k not in _PUT_FORBIDDEN}
        body.pop("client_secret", None)
        if send_secret and client.client_secret is not None:
            body["client_secret"] = client.client_secret
        body.update(changes or {})
        return self.http.put(
            client.registration_client_uri,
            json=body,
            headers=self._rat_headers(client, registration_access_token),
            timeout=HTTP_TIMEOUT,
        )

    def delete_client(
        self, client: RegisteredClient, *, registration_access_token: str | None = None
    ) -> requests.Response:
        """RFC 7592 DELETE (204 on success)."""
        return self.http.delete(
            client.registration_client_uri,
            headers=self._rat_headers(client, registration_access_token),
            timeout=HTTP_TIMEOUT,
        )

    # -- token endpoint and client authentication ---------------------------------------

    @staticmethod
    def client_auth(
        client_id: str | None,
        secret: str | None,
        method: TokenMethod = "client_secret_basic",
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(form fields, headers) that authenticate ``client_id`` with ``secret`` by ``method``.

        ``method="none"`` sends only ``client_id`` (if given): no client authentication.
        """
        form: dict[str, str] = {}
        headers: dict[str, str] = {}
        if method == "client_secret_basic":
            if client_id is None or secret is None:
                raise ValueError("client_secret_basic needs client_id and secret")
            raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        elif method == "client_secret_post":
            if client_id is None or secret is None:
                raise ValueError("client_secret_post needs client_id and secret")
            form.update(client_id=client_id, client_secret=secret)
        elif method == "none":
            if client_id is not None:
                form["client_id"] = client_id
        else:
            raise ValueError(f"unsupported method {method!r}")
        return form, headers

    def token(
        self,
        client_id: str | None,
        secret: str | None,
        method: TokenMethod = "client_secret_basic",
        *,
        scope: str | None = None,
        **params: str,
    ) -> requests.Response:
        """client_credentials token request authenticated with a client secret."""
        form, headers = self.client_auth(client_id, secret, method)
        form.update(grant_type="client_credentials", **params)
        if scope:
            form["scope"] = scope
        return self.http.post(self.token_endpoint, data=form, headers=headers, timeout=HTTP_TIMEOUT)

    def client_assertion(
        self,
        client_id: str,
        private_key: Any,
        alg: str,
        *,
        kid: str | None = None,
        audience: str | None = None,
        lifetime: int = 60,
    ) -> str:
        """A private_key_jwt assertion for this server (aud defaults to the issuer)."""
        return make_client_assertion(
            client_id, private_key, alg, audience or self.issuer, kid=kid, lifetime=lifetime
        )

    def token_with_assertion(
        self, assertion: str, *, scope: str | None = None, **params: str
    ) -> requests.Response:
        """client_credentials token request authenticated with a client assertion."""
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            **params,
        }
        if scope:
            form["scope"] = scope
        return self.http.post(self.token_endpoint, data=form, timeout=HTTP_TIMEOUT)

    def token_jwt(
        self,
        client_id: str,
        private_key: Any,
        alg: str,
        *,
        kid: str | None = None,
        scope: str | None = None,
    ) -> requests.Response:
        """client_credentials token request authenticated by ``private_key_jwt``."""
        return self.token_with_assertion(
            self.client_assertion(client_id, private_key, alg, kid=kid), scope=scope
        )

    def access_token(self, client: RegisteredClient, *, scope: str | None = None) -> str:
        """Get an access token for a secret client (raises unless 200)."""
        if client.client_secret is None:
            raise OidcServerError(f"client {client.client_id} has no secret")
        method = client.token_endpoint_auth_method
        if method not in ("client_secret_basic", "client_secret_post"):
            raise OidcServerError(f"client {client.client_id} authenticates with {method}")
        response = self.token(
            client.client_id,
            client.client_secret,
            method,  # type: ignore[arg-type]
            scope=scope,
        )
        if response.status_code != 200:
            raise OidcServerError(f"token request -> {response.status_code}: {response.text}")
        return str(response.json()["access_token"])

    # -- RFC 7662 / RFC 7009 ------------------------------------------------------------

    def observer(self) -> RegisteredClient:
        """A client of this server's own, used to introspect tokens by default."""
        if self._observer is None:
            self._observer = self.register_secret_client(
                "client_secret_basic", client_name="leakstop-test-observer"
            )
        return self._observer

    def _authed_post(
        self,
        url: str,
        form: dict[str, str],
        as_client: RegisteredClient | None,
        client_id: str | None,
        secret: str | None,
        method: TokenMethod,
    ) -> requests.Response:
        if client_id is None and as_client is not None:
            client_id, secret = as_client.client_id, as_client.client_secret
            if as_client.token_endpoint_auth_method == "client_secret_post":
                method = "client_secret_post"
        auth_form, headers = self.client_auth(client_id, secret, method)
        return self.http.post(
            url, data={**form, **auth_form}, headers=headers, timeout=HTTP_TIMEOUT
        )

    def introspect(
        self,
        token: str,
        *,
        as_client: RegisteredClient | None = None,
        client_id: str | None = None,
        secret: str | None = None,
        method: TokenMethod = "client_secret_basic",
        token_type_hint: str | None = None,
    ) -> requests.Response:
        """RFC 7662 introspection, by default authenticated as ``observer()``."""
        if client_id is None and as_client is None:
            as_client = self.observer()
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        return self._authed_post(
            self.introspection_endpoint, form, as_client, client_id, secret, method
        )

    def is_active(self, token: str) -> bool:
        response = self.introspect(token)
        response.raise_for_status()
        return bool(response.json().get("active"))

    def revoke(
        self,
        token: str,
        *,
        as_client: RegisteredClient | None = None,
        client_id: str | None = None,
        secret: str | None = None,
        method: TokenMethod = "client_secret_basic",
        token_type_hint: str | None = "access_token",  # noqa: S107
    ) -> requests.Response:
        """RFC 7009 revocation. The stock policy lets a client revoke only its own tokens."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        return self._authed_post(
            self.revocation_endpoint, form, as_client, client_id, secret, method
        )


# Servers still running when the interpreter exits (a crashed session, ^C) are stopped here;
# the server itself also exits when its stdin closes or its parent process goes away.
_LIVE_SERVERS: set[OidcServer] = set()


@atexit.register
def _stop_live_servers() -> None:
    for server in list(_LIVE_SERVERS):
        with contextlib.suppress(Exception):
            server.stop()


# --------------------------------------------------------------------------- fixtures


def _started(**kwargs: Any) -> OidcServer:
    skip_or_fail_if_unavailable()
    return OidcServer(**kwargs).start()


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcServer]:
    """Session server with the stock secret policy: RFC 7592 PUT keeps client_secret."""
    server = _started(secret_rotation="keep")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oidc_server_rotating() -> Iterator[OidcServer]:
    """Session server where an RFC 7592 PUT without client_secret issues a new client_secret."""
    server = _started(secret_rotation="rotate")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oidc_server_factory() -> Iterator[Callable[..., OidcServer]]:
    """``factory(**OidcServer kwargs) -> started OidcServer``; all are stopped after the test."""
    servers: list[OidcServer] = []

    def factory(**kwargs: Any) -> OidcServer:
        server = _started(**kwargs)
        servers.append(server)
        return server

    try:
        yield factory
    finally:
        for server in servers:
            server.stop()
