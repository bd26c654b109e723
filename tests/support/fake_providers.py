"""Loopback fakes of the provider APIs ``leakstop revoke`` talks to, replaying each one's
documented requests and answers, error answers included: Auth0 Management API, Okta app client
secrets, Keycloak admin REST, Microsoft Graph (plus Entra's token endpoint for re-checks),
and GitHub (Actions secrets sealed with a real libsodium key pair, issues, credential
revocation). Each keeps state, so a rotation really changes which secret authenticates at its
token endpoint. Every secret and token is generated at run time.

Each fake has ``fail``: a dict from an operation name to a ``Reply`` answered instead (once
per request while set), to replay the provider's error answers.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from nacl.public import PrivateKey, SealedBox

from tests.verify.fakes import FakeServer, Reply, Seen

# ---------------------------------------------------------------- documented error answers

AUTH0_ERRORS = {
    401: {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"},
    403: {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: update:client_keys",
        "errorCode": "insufficient_scope",
    },
    404: {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The client does not exist",
        "errorCode": "inexistent_client",
    },
    429: {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    },
}
OKTA_ERRORS = {
    401: {"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []},
    403: {
        "errorCode": "E0000006",
        "errorSummary": "You do not have permission to perform the requested action",
        "errorCauses": [],
    },
    404: {
        "errorCode": "E0000007",
        "errorSummary": "Not found: Resource not found: app (AppInstance)",
        "errorCauses": [],
    },
    429: {
        "errorCode": "E0000047",
        "errorSummary": "API call exceeded rate limit due to too many requests.",
    },
}
KEYCLOAK_ERRORS = {
    401: {"error": "HTTP 401 Unauthorized"},
    403: {"error": "unknown_error"},
    404: {"error": "Could not find client"},
}
GRAPH_ERRORS = {
    401: {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}},
    403: {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
        }
    },
    404: {
        "error": {
            "code": "Request_ResourceNotFound",
            "message": "Resource 'x' does not exist or one of its queried reference-property "
            "objects are not present.",
        }
    },
}


def new_secret(n: int = 32) -> str:
    return secrets.token_urlsafe(n)


def _bearer(seen: Seen) -> str | None:
    value = seen.headers.get("Authorization") or seen.headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token if scheme in ("Bearer", "SSWS", "token") else None


def _basic(seen: Seen) -> tuple[str, str] | None:
    value = seen.headers.get("Authorization") or ""
    if not value.startswith("Basic "):
        return None
    raw = base64.b64decode(value[6:]).decode()
    user, _, password = raw.partition(":")
    return unquote(user), unquote(password)


def _client_auth(seen: Seen) -> tuple[str | None, str | None]:
    basic = _basic(seen)
    if basic:
        return basic
    form = seen.form
    return form.get("client_id"), form.get("client_secret")


@dataclass
class Fake:
    """Common state: the admin token, scripted failures, the server."""

    admin_token: str = field(default_factory=new_secret)
    fail: dict[str, Reply] = field(default_factory=dict)
    server: FakeServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = FakeServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def handle(self, seen: Seen) -> Reply:
        raise NotImplementedError

    def failure(self, operation: str) -> Reply | None:
        return self.fail.get(operation)

    def calls(self, method: str | None = None) -> list[Seen]:
        return [s for s in self.server.requests if method is None or s.method == method]


# ---------------------------------------------------------------- Auth0


@dataclass
class FakeAuth0(Fake):
    """Management API ``POST /api/v2/clients/{id}/rotate-secret`` and ``/oauth/token``."""

    clients: dict[str, str] = field(default_factory=dict)
    rotate_delay: float = 0.0
    """Seconds the rotation's answer takes (after the rotation happened)."""

    def handle(self, seen: Seen) -> Reply:
        path = urlsplit(seen.path).path
        if path == "/oauth/token" and seen.method == "POST":
            client_id, secret = _client_auth(seen)
            if client_id in self.clients and self.clients[client_id] == secret:
                return Reply(200, {"access_token": new_secret(), "token_type": "Bearer"})
            return Reply(401, {"error": "access_denied", "error_description": "Unauthorized"})
        if path.startswith("/api/v2/clients/") and path.endswith("/rotate-secret"):
            if (reply := self.failure("rotate")) is not None:
                return reply
            if _bearer(seen) != self.admin_token:
                return Reply(401, AUTH0_ERRORS[401])
            client_id = unquote(path.split("/")[4])
            if client_id not in self.clients:
                return Reply(404, AUTH0_ERRORS[404])
            self.clients[client_id] = new_secret(48)
            return Reply(
                200,
                {
                    "client_id": client_id,
                    "client_secret": self.clients[client_id],
                    "name": "app",
                    "app_type": "non_interactive",
                },
                delay=self.rotate_delay,
            )
        return Reply(404, AUTH0_ERRORS[404])


# ---------------------------------------------------------------- Okta


@dataclass
class FakeOkta(Fake):
    """``/api/v1/apps/{app}/credentials/secrets`` (list, add, deactivate, delete) and the org
    authorization server's ``/oauth2/v1/token`` (an unknown code: 400 invalid_grant for an
    authenticated client, 401 invalid_client otherwise)."""

    apps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    max_secrets: int = 2

    def add_app(self, app_id: str) -> str:
        secret = new_secret(48)
        self.apps[app_id] = [self._secret_entry(secret)]
        return secret

    def _secret_entry(self, secret: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        return {
            "id": "ocs" + secrets.token_hex(8),
            "status": "ACTIVE",
            "client_secret": secret,
            "secret_hash": secrets.token_urlsafe(16),
            "created": now,
            "lastUpdated": now,
        }

    def active(self, app_id: str) -> list[str]:
        return [s["client_secret"] for s in self.apps[app_id] if s["status"] == "ACTIVE"]

    def handle(self, seen: Seen) -> Reply:
        path = urlsplit(seen.path).path
        if path == "/oauth2/v1/token":
            client_id, secret = _client_auth(seen)
            if client_id in self.apps and secret in self.active(client_id):
                return Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "The authorization code is invalid or has expired.",
                    },
                )
            return Reply(
                401,
                {
                    "errorCode": "invalid_client",
                    "error": "invalid_client",
                    "error_description": "The client secret supplied is invalid.",
                },
            )
        parts = path.strip("/").split("/")
        if parts[:3] != ["api", "v1", "apps"] or parts[4:6] != ["credentials", "secrets"]:
            return Reply(404, OKTA_ERRORS[404])
        operation = {
            ("GET", 6): "list",
            ("POST", 6): "add",
            ("POST", 9): "deactivate",
            ("DELETE", 7): "delete",
        }.get((seen.method, len(parts)), "?")
        if (reply := self.failure(operation)) is not None:
            return reply
        if _bearer(seen) != self.admin_token:
            return Reply(401, OKTA_ERRORS[401])
        app = unquote(parts[3])
        if app not in self.apps:
            return Reply(404, OKTA_ERRORS[404])
        listed = self.apps[app]
        if operation == "list":
            return Reply(
                200, [{**s, "client_secret": _okta_mask(s["client_secret"])} for s in listed]
            )
        if operation == "add":
            if len(listed) >= self.max_secrets:
                return Reply(
                    400,
                    {
                        "errorCode": "E0000001",
                        "errorSummary": "Api validation failed: client_secret",
                        "errorCauses": [
                            {"errorSummary": "You can create up to two client secrets."}
                        ],
                    },
                )
            entry = self._secret_entry(new_secret(48))
            listed.append(entry)
            return Reply(201, dict(entry))
        entry = next((s for s in listed if s["id"] == parts[6]), None)
        if entry is None:
            return Reply(404, OKTA_ERRORS[404])
        if operation == "deactivate" and parts[7:] == ["lifecycle", "deactivate"]:
            entry["status"] = "INACTIVE"
            return Reply(200, {**entry, "client_secret": _okta_mask(entry["client_secret"])})
        if operation == "delete":
            if entry["status"] == "ACTIVE":
                return Reply(
                    400,
                    {
                        "errorCode": "E0000001",
                        "errorSummary": "Api validation failed: Cannot delete an active secret",
                    },
                )
            listed.remove(entry)
            return Reply(204)
        return Reply(404, OKTA_ERRORS[404])


def _okta_mask(secret: str) -> str:
    return secret[:12] + "......" + secret[-20:]


# ---------------------------------------------------------------- Keycloak


@dataclass
class FakeKeycloak(Fake):
    """A realm: discovery and token endpoint under ``/realms/{realm}``; admin REST under
    ``/admin/realms/{realm}``: find a client by clientId, regenerate its secret."""

    realm: str = "test"
    clients: dict[str, dict[str, str]] = field(default_factory=dict)
    """clientId -> {"id": internal uuid, "secret": ...}"""

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.realm}"

    def add_client(self, client_id: str) -> str:
        secret = new_secret()
        self.clients[client_id] = {"id": str(uuid.uuid4()), "secret": secret}
        return secret

    def handle(self, seen: Seen) -> Reply:
        parts = urlsplit(seen.path)
        path = parts.path
        realm = f"/realms/{self.realm}"
        if path == f"{realm}/.well-known/openid-configuration":
            return Reply(
                200,
                {
                    "issuer": self.issuer,
                    "token_endpoint": f"{self.issuer}/protocol/openid-connect/token",
                },
            )
        if path == f"{realm}/protocol/openid-connect/token":
            client_id, secret = _client_auth(seen)
            known = self.clients.get(client_id or "")
            if known and known["secret"] == secret:
                return Reply(200, {"access_token": new_secret(), "token_type": "Bearer"})
            return Reply(
                401,
                {"error": "unauthorized_client", "error_description": "Invalid client credentials"},
            )
        admin = f"/admin{realm}/clients"
        if not path.startswith(admin):
            return Reply(404, {"error": "RESTEASY003210: Could not find resource"})
        operation = "find" if path == admin else "regenerate"
        if (reply := self.failure(operation)) is not None:
            return reply
        if _bearer(seen) != self.admin_token:
            return Reply(401, KEYCLOAK_ERRORS[401])
        if operation == "find":
            wanted = parse_qs(parts.query).get("clientId", [""])[0]
            found = [
                {"id": c["id"], "clientId": cid, "enabled": True}
                for cid, c in self.clients.items()
                if cid == wanted
            ]
            return Reply(200, found)
        internal = path[len(admin) + 1 :].removesuffix("/client-secret")
        for c in self.clients.values():
            if c["id"] == internal and seen.method == "POST" and path.endswith("/client-secret"):
                c["secret"] = new_secret()
                return Reply(200, {"type": "secret", "value": c["secret"]})
        return Reply(404, KEYCLOAK_ERRORS[404])


# ---------------------------------------------------------------- Microsoft Graph + Entra


@dataclass
class FakeGraph(Fake):
    """Graph ``/v1.0/applications(appId='...')`` (read, addPassword, removePassword) and
    Entra's ``/{tenant}/oauth2/v2.0/token``, on one server (point ``graph`` at ``url/v1.0``
    and ``azure`` at ``url``)."""

    tenant: str = field(default_factory=lambda: str(uuid.uuid4()))
    apps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """appId -> password credentials (with their secretText, which Graph never lists)."""

    def add_app(self, app_id: str) -> str:
        secret = "abc" + new_secret(30)
        self.apps[app_id] = [self._password(secret, "initial")]
        return secret

    def _password(self, secret: str, name: str) -> dict[str, Any]:
        return {
            "keyId": str(uuid.uuid4()),
            "displayName": name,
            "hint": secret[:3],
            "secretText": secret,
            "startDateTime": datetime.now(UTC).isoformat(),
            "endDateTime": "2099-01-01T00:00:00Z",
        }

    def handle(self, seen: Seen) -> Reply:
        parts = urlsplit(seen.path)
        path = unquote(parts.path)
        if path == f"/{self.tenant}/oauth2/v2.0/token":
            client_id, secret = _client_auth(seen)
            passwords = self.apps.get(client_id or "", [])
            if any(p["secretText"] == secret for p in passwords):
                return Reply(200, {"access_token": new_secret(), "token_type": "Bearer"})
            return Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        prefix = "/v1.0/applications(appId='"
        if not path.startswith(prefix):
            return Reply(404, GRAPH_ERRORS[404])
        app_id, _, rest = path[len(prefix) :].partition("')")
        operation = {"": "read", "/addPassword": "add", "/removePassword": "remove"}.get(rest, "?")
        if (reply := self.failure(operation)) is not None:
            return reply
        if _bearer(seen) != self.admin_token:
            return Reply(401, GRAPH_ERRORS[401])
        if app_id not in self.apps:
            return Reply(404, GRAPH_ERRORS[404])
        passwords = self.apps[app_id]
        if operation == "read" and seen.method == "GET":
            listed = [{k: v for k, v in p.items() if k != "secretText"} for p in passwords]
            for p in listed:
                p["secretText"] = None
            return Reply(200, {"id": str(uuid.uuid4()), "passwordCredentials": listed})
        if operation == "add" and seen.method == "POST":
            name = (seen.json or {}).get("passwordCredential", {}).get("displayName", "")
            entry = self._password("xyz" + new_secret(30), name)
            passwords.append(entry)
            return Reply(200, dict(entry))
        if operation == "remove" and seen.method == "POST":
            key_id = (seen.json or {}).get("keyId")
            entry = next((p for p in passwords if p["keyId"] == key_id), None)
            if entry is None:
                return Reply(
                    400,
                    {
                        "error": {
                            "code": "Request_BadRequest",
                            "message": "No password credential found with keyId.",
                        }
                    },
                )
            passwords.remove(entry)
            return Reply(204)
        return Reply(405, {"error": {"code": "Request_BadRequest", "message": "bad method"}})


# ---------------------------------------------------------------- GitHub


@dataclass
class FakeGitHub(Fake):
    """GitHub's REST API, the parts leakstop revoke uses: Actions secrets of repositories and
    organisations (public key, create or update, read metadata; values are opened with the
    private key, as GitHub does), issues (list, create), and ``POST /credentials/revoke``."""

    key: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = field(default_factory=lambda: str(secrets.randbelow(10**18)))
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    """"repos/owner/name" or "orgs/org" -> secret name -> decrypted value."""
    updated: dict[tuple[str, str], str] = field(default_factory=dict)
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)

    def handle(self, seen: Seen) -> Reply:
        parts = urlsplit(seen.path)
        path = parts.path.rstrip("/")
        if path == "/credentials/revoke" and seen.method == "POST":
            if (reply := self.failure("revoke")) is not None:
                return reply
            creds = (seen.json or {}).get("credentials")
            if not isinstance(creds, list) or not creds or len(creds) > 1000:
                return Reply(
                    422, {"message": "Validation Failed", "documentation_url": "https://docs"}
                )
            self.revoked.extend(creds)
            return Reply(202, {})
        if _bearer(seen) != self.admin_token:
            return Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs"})
        segments = path.strip("/").split("/")
        owner = "/".join(segments[:3]) if segments[0] == "repos" else "/".join(segments[:2])
        rest = segments[3:] if segments[0] == "repos" else segments[2:]
        if rest[:2] == ["actions", "secrets"]:
            return self._secrets(seen, owner, rest[2:])
        if segments[0] == "repos" and rest == ["issues"]:
            return self._issues(seen, owner)
        return Reply(404, {"message": "Not Found"})

    def _secrets(self, seen: Seen, owner: str, rest: list[str]) -> Reply:
        if (reply := self.failure("secrets")) is not None:
            return reply
        public = base64.b64encode(bytes(self.key.public_key)).decode()
        if rest == ["public-key"]:
            return Reply(200, {"key_id": self.key_id, "key": public})
        if len(rest) != 1:
            return Reply(404, {"message": "Not Found"})
        name = rest[0]
        if seen.method == "PUT":
            body = seen.json or {}
            if body.get("key_id") != self.key_id:
                return Reply(422, {"message": "Bad request: key_id does not match"})
            sealed = base64.b64decode(body["encrypted_value"])
            value = SealedBox(self.key).decrypt(sealed).decode()
            created = name not in self.secrets.setdefault(owner, {})
            self.secrets[owner][name] = value
            self.updated[(owner, name)] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return Reply(201 if created else 204, {} if created else b"")
        if seen.method == "GET":
            if name not in self.secrets.get(owner, {}):
                return Reply(404, {"message": "Not Found"})
            stamp = self.updated[(owner, name)]
            return Reply(200, {"name": name, "created_at": stamp, "updated_at": stamp})
        return Reply(405, {"message": "method not allowed"})

    def _issues(self, seen: Seen, owner: str) -> Reply:
        listed = self.issues.setdefault(owner, [])
        if seen.method == "GET":
            if (reply := self.failure("list_issues")) is not None:
                return reply
            return Reply(200, list(reversed(listed)))
        if (reply := self.failure("create_issue")) is not None:
            return reply
        body = seen.json or {}
        number = len(listed) + 1
        issue = {
            "number": number,
            "title": body.get("title"),
            "body": body.get("body"),
            "state": "open",
            "url": f"{self.url}/{owner}/issues/{number}",
            "html_url": f"https://github.example/{owner.removeprefix('repos/')}/issues/{number}",
        }
        listed.append(issue)
        return Reply(201, issue)
