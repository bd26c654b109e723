"""Auth0: rotate a client's secret through the Management API,
``POST https://{domain}/api/v2/clients/{client_id}/rotate-secret`` with a Management API token
(scope ``update:client_keys``) from ``admin_token_env``. The answer is the client with its new
``client_secret``; the old one stops working at once."""

from __future__ import annotations

from urllib.parse import quote

from scanner.revoke.base import ActionError, Context, Result, Target, call_failed, failed
from scanner.revoke.common import api_reason, bearer
from scanner.revoke.providers.common import ProviderBackend
from scanner.revoke.sinks import CLIENT_SECRET


class Auth0Rotate(ProviderBackend):
    name = "auth0"

    def requirements(self, target: Target) -> str | None:
        return None if target.client.domain else "the registry names no Auth0 domain"

    def base(self, target: Target, ctx: Context) -> str:
        override = ctx.options.endpoints.get("auth0")
        return (override or f"https://{target.client.domain}").rstrip("/")

    def endpoint(self, target: Target) -> str:
        return f"https://{target.client.domain}" + _path(target)

    def act(self, target: Target, ctx: Context) -> Result:
        url = self.base(target, ctx) + _path(target)
        answer = ctx.http.post(url, headers=bearer(self.admin_token(target, ctx)))
        body = answer.body if isinstance(answer.body, dict) else {}
        secret = body.get("client_secret")
        if answer.status != 200 or not isinstance(secret, str) or not secret:
            return call_failed(api_reason("Auth0 rotate-secret", answer), answer)
        ctx.sensitive(secret)
        try:
            ctx.deliver(target, {CLIENT_SECRET: secret})
        except ActionError as exc:
            return failed(f"Auth0 rotated the secret, but it could not be delivered: {exc}")
        return Result("done", "Auth0 rotate-secret 200, new secret delivered", new_secret=secret)


def _path(target: Target) -> str:
    return f"/api/v2/clients/{quote(target.client.client_id, safe='')}/rotate-secret"
