"""Standards verification at an issuer the registry names: discovery (OpenID Connect, then
RFC 8414), client authentication at the token endpoint with a secret (``client_secret_basic``
then ``client_secret_post``) or a private key (RFC 7523 ``private_key_jwt``), and the mapping
from answers to live / dead / unknown.

The mapping, in order: no answer, a redirect (never followed), 429, 5xx or an HTML page ->
unknown; 2xx with an access token -> live; ``invalid_client`` (400/401) or another 401 with a
JSON or empty body -> dead; 400 ``unauthorized_client`` / ``invalid_scope`` / ``invalid_grant``
/ ``unsupported_grant_type`` -> live, but only after a control request with a wrong credential
is refused (so a server that answers those *before* authenticating never yields a false live);
anything else -> unknown.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from scanner import keys
from scanner.registry import Client, Issuer, check_url
from scanner.verify.base import Credential, Outcome, dead, live, unknown
from scanner.verify.http import Answer, HttpClient, Memo
from scanner.verify.signing import (
    JWT_BEARER,
    algorithms_for,
    client_assertion,
    control_key,
    key_kind,
)

SECRET_METHODS = ("client_secret_basic", "client_secret_post")
AFTER_AUTHENTICATION = frozenset(
    {"unauthorized_client", "invalid_scope", "invalid_grant", "unsupported_grant_type"}
)
WELL_KNOWN_OPENID = "/.well-known/openid-configuration"
WELL_KNOWN_OAUTH = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True)
class ServerMetadata:
    """What verification (and revocation) need from an authorization server's metadata.
    Empty tuples mean the server did not say."""

    issuer: str
    token_endpoint: str
    auth_methods: tuple[str, ...] = ()
    signing_algs: tuple[str, ...] = ()
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    registration_endpoint: str | None = None


class IssuerChecks:
    """Verifiers for the issuers of one registry, sharing one discovery cache per run."""

    def __init__(self) -> None:
        self.discovery: Memo[str, ServerMetadata | Outcome] = Memo()
        self.jwks: Memo[str, tuple[dict[str, str | None], str | None]] = Memo()

    def verifier(self, issuer: Issuer, *, kid: str | None = None) -> IssuerVerifier:
        return IssuerVerifier(issuer, self, kid=kid)

    def metadata(self, issuer: Issuer, http: HttpClient) -> ServerMetadata | Outcome:
        if issuer.token_endpoint:
            return ServerMetadata(issuer=issuer.issuer, token_endpoint=issuer.token_endpoint)
        return self.discovery.get(issuer.issuer, lambda: discover(issuer.issuer, http))

    def registered_keys(
        self, client: Client, http: HttpClient, environ: Mapping[str, str] | None
    ) -> tuple[dict[str, str | None], str | None]:
        """Thumbprint -> kid of the keys the issuer holds for ``client`` (RFC 7592 read with
        the registration access token, or the registry's ``jwks_uri``), or why unknown."""
        key = f"{client.issuer}\0{client.client_id}"
        return self.jwks.get(key, lambda: registered_jwks(client, http, environ))


class IssuerVerifier:
    """Checks a credential at one registry issuer's token endpoint."""

    name = "oauth"

    def __init__(self, issuer: Issuer, checks: IssuerChecks, *, kid: str | None = None) -> None:
        self.issuer = issuer
        self.checks = checks
        self.kid = kid

    def cache_key(self, credential: Credential) -> Hashable:
        return ("oauth", self.issuer.issuer, credential.client_id, credential.digest)

    def verify(self, credential: Credential, http: HttpClient) -> Outcome:
        if not credential.client_id:
            return unknown("no client id to authenticate as")
        meta = self.checks.metadata(self.issuer, http)
        if isinstance(meta, Outcome):
            return meta
        if credential.kind == "private-key":
            return check_key(
                http,
                meta,
                credential.client_id,
                credential.key,
                kid=self.kid,
                scope=self.issuer.scope,
            )
        return check_secret(
            http, meta, credential.client_id, credential.secret, scope=self.issuer.scope
        )


# --------------------------------------------------------------------------- discovery


def well_known_urls(issuer: str) -> list[str]:
    """OpenID Connect discovery (appended to the issuer), then RFC 8414 (inserted before the
    issuer's path)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    urls = [issuer.rstrip("/") + WELL_KNOWN_OPENID]
    rfc8414 = f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_OAUTH}{path}"
    if rfc8414 not in urls:
        urls.append(rfc8414)
    return urls


def discover(issuer: str, http: HttpClient) -> ServerMetadata | Outcome:
    """The issuer's metadata, or an unknown outcome saying why there is none."""
    tried: list[str] = []
    for url in well_known_urls(issuer):
        answer = http.get(url)
        name = "openid-configuration" if url.endswith(WELL_KNOWN_OPENID) else "RFC 8414"
        if answer.status == 200 and answer.kind == "json" and isinstance(answer.body, Mapping):
            return metadata_from(answer.body, issuer)
        tried.append(f"{name} {answer.describe()}")
        if answer.failure or (answer.status or 0) >= 500 or answer.status == 429:
            break  # the server is unreachable or unwell: the other document will not help
    return unknown(f"discovery failed at {issuer}: {'; '.join(tried)}", transient=True)


def metadata_from(document: Mapping[str, Any], issuer: str) -> ServerMetadata | Outcome:
    """Validate a discovery document: it must name this issuer (OpenID Discovery 4.3, RFC
    8414 3.3) and a usable token endpoint."""
    named = document.get("issuer")
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        return unknown(f"discovery document at {issuer} names a different issuer")
    endpoint = document.get("token_endpoint")
    if not isinstance(endpoint, str):
        return unknown(f"discovery document at {issuer} has no token_endpoint")
    try:
        check_url(endpoint, "token_endpoint")
    except ValueError as exc:
        return unknown(f"discovery document at {issuer}: {exc}")
    return ServerMetadata(
        issuer=issuer,
        token_endpoint=endpoint,
        auth_methods=_strings(document.get("token_endpoint_auth_methods_supported")),
        signing_algs=_strings(document.get("token_endpoint_auth_signing_alg_values_supported")),
        revocation_endpoint=_optional_url(document.get("revocation_endpoint")),
        introspection_endpoint=_optional_url(document.get("introspection_endpoint")),
        registration_endpoint=_optional_url(document.get("registration_endpoint")),
    )


# --------------------------------------------------------------------------- token endpoint


def check_secret(
    http: HttpClient,
    meta: ServerMetadata,
    client_id: str,
    secret: str,
    *,
    scope: str | None = None,
    grant: Mapping[str, str] | None = None,
    judge: Callable[[Answer], Outcome] | None = None,
) -> Outcome:
    """Client authentication with ``client_secret_basic``, then ``client_secret_post``, in a
    ``client_credentials`` request (or the ``grant`` a provider needs), each answer mapped by
    ``judge`` (default: the standard mapping)."""
    methods = [m for m in SECRET_METHODS if not meta.auth_methods or m in meta.auth_methods]
    if not methods:
        return unknown("issuer supports neither client_secret_basic nor client_secret_post")
    form = dict(grant or {"grant_type": "client_credentials"})
    if scope:
        form["scope"] = scope
    judge = judge or classify

    def attempt(method: str, candidate: str) -> Outcome:
        form_auth, headers = secret_auth(client_id, candidate, method)
        return judge(http.post(meta.token_endpoint, data={**form, **form_auth}, headers=headers))

    return try_each(methods, attempt, secret, control_secret(), "secret")


def check_key(
    http: HttpClient,
    meta: ServerMetadata,
    client_id: str,
    key: Any,
    *,
    kid: str | None = None,
    scope: str | None = None,
) -> Outcome:
    """client_credentials authenticated by an RFC 7523 assertion signed with ``key``."""
    if key is None:
        return unknown("the key cannot be used to sign (encrypted or unreadable)")
    if meta.auth_methods and "private_key_jwt" not in meta.auth_methods:
        return unknown("issuer does not support private_key_jwt")
    algs = algorithms_for(key, meta.signing_algs or None)
    if not algs:
        return unknown("no signing algorithm for this key type that the issuer supports")

    def attempt(alg: str, signer: Any) -> Outcome:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(
                client_id, signer, alg, meta.token_endpoint, kid=kid
            ),
        }
        if scope:
            form["scope"] = scope
        return classify(http.post(meta.token_endpoint, data=form))

    return try_each(algs, attempt, key, control_key(key_kind(key)), "key")


def try_each(
    ways: Sequence[str],
    attempt: Callable[[str, Any], Outcome],
    credential: Any,
    control: Any,
    what: str,
) -> Outcome:
    """Try each way of presenting a credential (an auth method, a signing algorithm; "" when
    there is one way) until one is live. Dead only when every way was refused; a transient
    unknown stops at once (asking again would not help)."""
    results: list[tuple[str, Outcome]] = []
    for way in ways:
        outcome = attempt(way, credential)
        if outcome.status == "live":
            if outcome.needs_control:
                outcome = confirm(outcome, attempt(way, control), what)
            return Outcome(outcome.status, _with_way(outcome.reason, way))
        results.append((way, outcome))
        if outcome.transient:
            break
    reason = _joined([_with_way(o.reason, way) for way, o in results])
    if len(results) == len(ways) and all(o.status == "dead" for _, o in results):
        return dead(reason)
    return unknown(reason, transient=any(o.transient for _, o in results))


def _with_way(reason: str, way: str) -> str:
    return f"{reason} ({way})" if way else reason


def _joined(reasons: list[str]) -> str:
    """'token endpoint: A; token endpoint: B' -> 'token endpoint: A; B'."""
    heads = {r.split(": ", 1)[0] for r in reasons}
    if len(reasons) > 1 and len(heads) == 1 and all(": " in r for r in reasons):
        return f"{heads.pop()}: " + "; ".join(r.split(": ", 1)[1] for r in reasons)
    return "; ".join(reasons)


def confirm(outcome: Outcome, control: Outcome, what: str) -> Outcome:
    """A live-by-error-code outcome stands only if a wrong credential is refused."""
    if control.status == "dead":
        return live(f"{outcome.reason}; a wrong {what} is refused")
    if control.status == "live":
        return unknown(
            f"{outcome.reason}, but a wrong {what} gets the same answer "
            "(the server answers before authenticating the client)"
        )
    return unknown(f"{outcome.reason}; control request inconclusive: {control.reason}")


def classify(answer: Answer, where: str = "token endpoint") -> Outcome:
    """The standard mapping of a token endpoint answer (see the module docstring)."""
    if answer.failure:
        return unknown(f"{where}: {answer.failure}", transient=True)
    status = answer.status or 0
    if 300 <= status < 400:
        return unknown(f"{where}: {status} redirect, not followed", transient=True)
    if status == 429:
        after = f", Retry-After {answer.retry_after:g}s" if answer.retry_after is not None else ""
        return unknown(f"{where}: 429 rate limited{after}", transient=True)
    if status >= 500:
        return unknown(f"{where}: {status} server error", transient=True)
    if answer.kind == "html":
        return unknown(f"{where}: {status} HTML page, not an OAuth answer", transient=True)
    if 200 <= status < 300:
        body = answer.body
        if isinstance(body, Mapping) and isinstance(body.get("access_token"), str):
            return live(f"{where}: {status} token issued")
        return unknown(f"{where}: {status} without an access token")
    error = answer.error
    if error == "invalid_client" and status in (400, 401):
        return dead(f"{where}: {status} invalid_client")
    if status == 400 and error in AFTER_AUTHENTICATION:
        return live(f"{where}: 400 {error} after client authentication", needs_control=True)
    if status == 401 and (
        answer.kind == "json" or (answer.kind == "empty" and answer.www_authenticate)
    ):
        return dead(f"{where}: 401 {error or 'unauthorized'}")
    return unknown(f"{where}: {answer.describe()}")


def secret_auth(client_id: str, secret: str, method: str) -> tuple[dict[str, str], dict[str, str]]:
    """(form fields, headers) for ``client_secret_basic`` (RFC 6749 2.3.1: each part
    form-urlencoded, then base64) or ``client_secret_post``."""
    if method == "client_secret_basic":
        raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
        return {}, {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    return {"client_id": client_id, "client_secret": secret}, {}


def control_secret() -> str:
    """A random secret that no client has: what a control request presents."""
    return secrets.token_urlsafe(32)


# --------------------------------------------------------------------------- registered keys


def registered_jwks(
    client: Client, http: HttpClient, environ: Mapping[str, str] | None
) -> tuple[dict[str, str | None], str | None]:
    """Thumbprint -> kid for the keys registered for ``client``, or ({}, why not)."""
    if client.jwks_uri:
        answer = http.get(client.jwks_uri)
        listed = answer.body.get("keys") if isinstance(answer.body, Mapping) else None
    elif client.registration_client_uri:
        token = client.registration_access_token(environ)
        if token is None:
            return {}, f"{client.registration_access_token_env or 'registration token'} is not set"
        answer = http.get(
            client.registration_client_uri, headers={"Authorization": f"Bearer {token}"}
        )
        jwks = answer.body.get("jwks") if isinstance(answer.body, Mapping) else None
        listed = jwks.get("keys") if isinstance(jwks, Mapping) else None
    else:
        return {}, "no jwks_uri or registration_client_uri in the registry"
    if answer.status != 200 or not isinstance(listed, list):
        return {}, f"registered keys of {client.client_id}: {answer.describe()}"
    found: dict[str, str | None] = {}
    for jwk in listed:
        if isinstance(jwk, Mapping):
            try:
                kid = jwk.get("kid")
                found[keys.jwk_thumbprint(jwk)] = kid if isinstance(kid, str) else None
            except ValueError:
                continue
    return found, None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _optional_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return check_url(value, "endpoint")
    except ValueError:
        return None
