"""Keycloak: regenerate a client's secret through the admin REST API. The realm's admin base
comes from the client's registry issuer (``https://HOST/realms/R`` ->
``https://HOST/admin/realms/R``; ``endpoints["keycloak"]`` replaces ``https://HOST``); the
client's internal id from ``GET .../clients?clientId=``; then
``POST .../clients/{id}/client-secret`` answers the new ``{"type": "secret", "value": ...}``.
The admin bearer token comes from ``admin_token_env``."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from scanner.revoke.base import ActionError, Context, Result, Target, call_failed, failed
from scanner.revoke.common import api_reason, bearer
from scanner.revoke.providers.common import ProviderBackend
from scanner.revoke.sinks import CLIENT_SECRET


class KeycloakRotate(ProviderBackend):
    name = "keycloak"

    def requirements(self, target: Target) -> str | None:
        if target.issuer is None:
            return "the client has no issuer in the registry (a Keycloak realm URL)"
        if _realm(target.issuer.issuer) is None:
            return "the client's issuer is not a Keycloak realm URL (.../realms/NAME)"
        return None

    def base(self, target: Target, ctx: Context) -> str:
        assert target.issuer is not None
        parts = urlsplit(target.issuer.issuer)
        prefix, realm = _realm(target.issuer.issuer) or ("", "")
        origin = ctx.options.endpoints.get("keycloak") or f"{parts.scheme}://{parts.netloc}"
        return f"{origin.rstrip('/')}{prefix}/admin/realms/{quote(realm, safe='')}"

    def endpoint(self, target: Target) -> str:
        if target.issuer is None:
            return "(no issuer)"
        parts = urlsplit(target.issuer.issuer)
        prefix, realm = _realm(target.issuer.issuer) or ("", "?")
        return (
            f"{parts.scheme}://{parts.netloc}{prefix}/admin/realms/{realm}/clients/…/client-secret"
        )

    def act(self, target: Target, ctx: Context) -> Result:
        base = self.base(target, ctx)
        headers = bearer(self.admin_token(target, ctx))
        client_id = target.client.client_id
        found = ctx.http.get(
            f"{base}/clients?clientId={quote(client_id, safe='')}", headers=headers
        )
        if found.status != 200 or not isinstance(found.body, list):
            return failed(api_reason("Keycloak find client", found))
        ids = [
            c["id"]
            for c in found.body
            if isinstance(c, dict)
            and c.get("clientId") == client_id
            and isinstance(c.get("id"), str)
        ]
        if len(ids) != 1:
            return failed(f"Keycloak has {len(ids)} clients with clientId {client_id}")
        answer = ctx.http.post(
            f"{base}/clients/{quote(ids[0], safe='')}/client-secret", headers=headers
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        secret = body.get("value")
        if answer.status != 200 or not isinstance(secret, str) or not secret:
            return call_failed(api_reason("Keycloak regenerate secret", answer), answer)
        ctx.sensitive(secret)
        try:
            ctx.deliver(target, {CLIENT_SECRET: secret})
        except ActionError as exc:
            return failed(f"Keycloak regenerated the secret, but it could not be delivered: {exc}")
        return Result("done", "Keycloak regenerated the secret, delivered", new_secret=secret)


def _realm(issuer: str) -> tuple[str, str] | None:
    """(path prefix before /realms, realm name) of a Keycloak issuer URL."""
    path = urlsplit(issuer).path.rstrip("/")
    head, sep, realm = path.rpartition("/realms/")
    if not sep or not realm or "/" in realm:
        return None
    return head, realm
