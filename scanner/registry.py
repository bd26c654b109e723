"""The client registry (``--registry registry.toml``): the issuers an organisation runs and the
clients registered at them, with owners and hashes of their credentials, never plaintext.

Verification contacts only the issuers named here (or a provider's fixed public endpoint), and
secrets such as RFC 7592 registration access tokens only ever come from environment variables
the file names. See INTERFACE.md for the format.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scanner.errors import LeakstopError


class RegistryError(LeakstopError):
    """The registry file cannot be read or is malformed (exit code 2)."""


# Revocation actions the revoke stage knows; a provider action is "provider:NAME".
REVOKE_ACTIONS = ("rfc7592-delete", "rfc7592-rotate", "notify", "none")

_ISSUER_KEYS = frozenset({"name", "issuer", "token_endpoint", "scope"})
_CLIENT_KEYS = frozenset(
    {
        "client_id",
        "issuer",
        "owner",
        "provider",
        "secret_sha256",
        "jwk_thumbprints",
        "jwks_uri",
        "registration_client_uri",
        "registration_access_token_env",
        "revoke",
        "tenant_id",
        "domain",
        "app_id",
        # revocation (leakstop revoke): where things go and which credentials to use
        "secret_sink",
        "notify_repo",
        "admin_token_env",
        "github_token_env",
        "tokens_env",
        "key_id",
    }
)
# Keys that would hold a plaintext credential: refused with a pointer to the *_env form.
_PLAINTEXT = re.compile(r"(?i)(secret|token|password|passwd|credential|private_key)$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url SHA-256, no padding
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SINK = re.compile(
    r"^(?:file:(?P<path>/.+)"
    r"|github:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|github-org:(?P<org>[A-Za-z0-9_.-]+):(?P<org_name>[A-Za-z_][A-Za-z0-9_]*))$"
)
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REVOKE = re.compile(r"^(?:rfc7592-delete|rfc7592-rotate|notify|none|provider:[a-z0-9][a-z0-9-]*)$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Issuer:
    """An authorization server: discovery base URL, or an explicit token endpoint."""

    name: str
    issuer: str
    token_endpoint: str | None = None
    scope: str | None = None
    """Sent with client_credentials checks where the server requires one (e.g. Entra)."""


@dataclass(frozen=True)
class Client:
    """A registered client and what is known about its credentials."""

    client_id: str
    issuer: str | None = None
    """The ``name`` of an [[issuer]]; None for clients checked by a provider plugin."""
    owner: str | None = None
    provider: str | None = None
    """A provider plugin (google, github, azure, okta, auth0, slack, salesforce, github-app)."""
    secret_sha256: tuple[str, ...] = ()
    """Lower-case hex SHA-256 of each registered secret."""
    jwk_thumbprints: tuple[str, ...] = ()
    """RFC 7638 thumbprints (base64url SHA-256) of each registered public key."""
    jwks_uri: str | None = None
    registration_client_uri: str | None = None
    registration_access_token_env: str | None = None
    revoke: str | None = None
    tenant_id: str | None = None
    domain: str | None = None
    app_id: str | None = None
    secret_sink: str | None = None
    """Where a rotated secret (and a rotated registration access token) is delivered:
    ``file:/abs/path`` (created 0600, never overwritten), ``github:owner/repo:NAME`` or
    ``github-org:org:NAME`` (a GitHub Actions secret)."""
    notify_repo: str | None = None
    """``owner/repo`` where ``revoke = "notify"`` opens its issue (else the finding's repo)."""
    admin_token_env: str | None = None
    """Environment variable holding the provider admin token (Auth0 Management API, Okta API
    token, Keycloak admin bearer token, Microsoft Graph token)."""
    github_token_env: str | None = None
    """Environment variable holding the GitHub token for a github sink, a notify issue or
    GitHub's credential revocation API (default ``GITHUB_TOKEN``)."""
    tokens_env: str | None = None
    """Environment variable holding tokens issued to this client (whitespace-separated), to
    revoke (RFC 7009, or GitHub's credential revocation API) before the client is shut."""
    key_id: str | None = None
    """The provider's id of the leaked secret (Okta secret id, Entra password keyId)."""

    def env_value(self, name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
        """The value of an environment variable the registry names, or None when unset."""
        if not name:
            return None
        env = os.environ if environ is None else environ
        return env.get(name) or None

    def registration_access_token(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The RFC 7592 registration access token from the environment variable the registry
        names, or None when the registry names none or the variable is unset or empty."""
        if not self.registration_access_token_env:
            return None
        env = os.environ if environ is None else environ
        return env.get(self.registration_access_token_env) or None


@dataclass(frozen=True)
class Registry:
    """Issuers and clients, validated; look-ups by issuer name and client id."""

    issuers: tuple[Issuer, ...] = ()
    clients: tuple[Client, ...] = ()
    path: Path | None = None

    @cached_property
    def _issuers_by_name(self) -> dict[str, Issuer]:
        return {i.name: i for i in self.issuers}

    @cached_property
    def _clients_by_id(self) -> dict[str, tuple[Client, ...]]:
        by_id: dict[str, list[Client]] = {}
        for c in self.clients:
            by_id.setdefault(c.client_id, []).append(c)
        return {k: tuple(v) for k, v in by_id.items()}

    def issuer(self, name: str) -> Issuer | None:
        return self._issuers_by_name.get(name)

    def issuer_of(self, client: Client) -> Issuer | None:
        return self._issuers_by_name.get(client.issuer) if client.issuer else None

    def clients_with_id(self, client_id: str) -> tuple[Client, ...]:
        return self._clients_by_id.get(client_id, ())


def load_registry(path: Path) -> Registry:
    """Read and validate a registry file. Raises RegistryError naming the file and entry."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RegistryError(f"{path}: registry is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    return parse_registry(data, str(path), path=path)


def parse_registry(data: Mapping[str, Any], where: str, *, path: Path | None = None) -> Registry:
    """Validate the parsed TOML of a registry (``where`` names it in error messages)."""
    unknown = set(data) - {"issuer", "client"}
    if unknown:
        raise RegistryError(f"{where}: unknown top-level keys {sorted(unknown)}")
    issuers = tuple(
        _issuer(entry, f"{where}: [[issuer]] {i + 1}")
        for i, entry in enumerate(_tables(data.get("issuer", []), f"{where}: issuer"))
    )
    names: set[str] = set()
    for issuer in issuers:
        if issuer.name in names:
            raise RegistryError(f"{where}: issuer name {issuer.name!r} is defined twice")
        names.add(issuer.name)
    clients = tuple(
        _client(entry, f"{where}: [[client]] {i + 1}", names)
        for i, entry in enumerate(_tables(data.get("client", []), f"{where}: client"))
    )
    seen: set[tuple[str | None, str | None, str]] = set()
    for client in clients:
        key = (client.issuer, client.provider, client.client_id)
        if key in seen:
            raise RegistryError(
                f"{where}: client {client.client_id!r} is registered twice at the same issuer"
            )
        seen.add(key)
    return Registry(issuers=issuers, clients=clients, path=path)


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses, the only hosts allowed plain http."""
    if not host:
        return False
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(value: str, what: str) -> str:
    """An absolute https URL (http only for loopback hosts), without credentials or fragment.
    Raises ValueError with a reason that never echoes user-info."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{what} must be an absolute https:// URL")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(f"{what} must use https (plain http only for 127.0.0.1 / localhost)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not carry credentials")
    if parts.fragment:
        raise ValueError(f"{what} must not have a #fragment")
    return value


# --------------------------------------------------------------------------- entries


def _tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise RegistryError(f"{where}: expected an array of tables ([[...]])")
    return value


def _check_keys(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in entry:
        if key not in allowed and _PLAINTEXT.search(key):
            raise RegistryError(
                f"{where}: {key!r}: plaintext secrets are never read from the registry; store "
                "a hash (secret_sha256, jwk_thumbprints) or name an environment variable "
                "(registration_access_token_env)"
            )
    unknown = set(entry) - allowed
    if unknown:
        raise RegistryError(
            f"{where}: unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _issuer(entry: Mapping[str, Any], where: str) -> Issuer:
    _check_keys(entry, _ISSUER_KEYS, where)
    name = _string(entry, "name", where, required=True)
    assert name is not None
    where = f"{where} ({name})"
    issuer = _url(entry, "issuer", where, required=True)
    assert issuer is not None
    return Issuer(
        name=name,
        issuer=issuer.rstrip("/"),
        token_endpoint=_url(entry, "token_endpoint", where),
        scope=_string(entry, "scope", where),
    )


def _client(entry: Mapping[str, Any], where: str, issuer_names: set[str]) -> Client:
    _check_keys(entry, _CLIENT_KEYS, where)
    client_id = _string(entry, "client_id", where, required=True)
    assert client_id is not None
    where = f"{where} ({client_id})"
    issuer = _string(entry, "issuer", where)
    if issuer is not None and issuer not in issuer_names:
        raise RegistryError(f"{where}: issuer {issuer!r} is not defined by any [[issuer]]")
    hashes = _strings(entry, "secret_sha256", where)
    for h in hashes:
        if not _SHA256.match(h):
            raise RegistryError(f"{where}: secret_sha256 entries must be 64 hex digits")
    thumbprints = _strings(entry, "jwk_thumbprints", where)
    for t in thumbprints:
        if not _THUMBPRINT.match(t):
            raise RegistryError(
                f"{where}: jwk_thumbprints entries must be RFC 7638 SHA-256 thumbprints "
                "(43 base64url characters)"
            )
    env = _string(entry, "registration_access_token_env", where)
    if env is not None and not _ENV_NAME.match(env):
        raise RegistryError(f"{where}: registration_access_token_env must name a variable")
    for key in ("admin_token_env", "github_token_env", "tokens_env"):
        value = _string(entry, key, where)
        if value is not None and not _ENV_NAME.match(value):
            raise RegistryError(f"{where}: {key} must name an environment variable")
    sink = _string(entry, "secret_sink", where)
    if sink is not None and not SINK.match(sink):
        raise RegistryError(
            f"{where}: secret_sink must be file:/absolute/path, github:owner/repo:NAME or "
            "github-org:org:NAME"
        )
    notify_repo = _string(entry, "notify_repo", where)
    if notify_repo is not None and not _REPO.match(notify_repo):
        raise RegistryError(f"{where}: notify_repo must be owner/repo")
    revoke = _string(entry, "revoke", where)
    if revoke is not None and not _REVOKE.match(revoke):
        raise RegistryError(
            f"{where}: revoke must be one of {', '.join(REVOKE_ACTIONS)} or provider:NAME"
        )
    return Client(
        client_id=client_id,
        issuer=issuer,
        owner=_string(entry, "owner", where),
        provider=_string(entry, "provider", where),
        secret_sha256=tuple(h.lower() for h in hashes),
        jwk_thumbprints=thumbprints,
        jwks_uri=_url(entry, "jwks_uri", where),
        registration_client_uri=_url(entry, "registration_client_uri", where),
        registration_access_token_env=env,
        revoke=revoke,
        tenant_id=_string(entry, "tenant_id", where),
        domain=_string(entry, "domain", where),
        app_id=_string(entry, "app_id", where, allow_int=True),
        secret_sink=sink,
        notify_repo=notify_repo,
        admin_token_env=_string(entry, "admin_token_env", where),
        github_token_env=_string(entry, "github_token_env", where),
        tokens_env=_string(entry, "tokens_env", where),
        key_id=_string(entry, "key_id", where),
    )


def _string(
    entry: Mapping[str, Any],
    key: str,
    where: str,
    *,
    required: bool = False,
    allow_int: bool = False,
) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise RegistryError(f"{where}: {key} is required")
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistryError(f"{where}: {key} must be a list of strings")
    return tuple(v.strip() for v in value)


def _url(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = _string(entry, key, where, required=required)
    if value is None:
        return None
    try:
        return check_url(value, key)
    except ValueError as exc:
        raise RegistryError(f"{where}: {exc}") from None
