"""Okta: the app client secret API (``/api/v1/apps/{appId}/credentials/secrets``). A new secret
is added and delivered first, then the leaked one is deactivated
(``.../secrets/{secretId}/lifecycle/deactivate``) and deleted (only an inactive secret can
be). For an OIDC app the app id is its client id (``app_id`` in the registry overrides).

The leaked secret is the one ``key_id`` names; else the one whose masked value (Okta shows a
prefix and a suffix) fits the leaked secret; else the only active one. The admin token from
``admin_token_env`` is an API token (sent as ``SSWS``) or an OAuth access token (a JWT, sent
as ``Bearer``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from scanner.revoke.base import ActionError, Context, Result, Target, failed
from scanner.revoke.common import api_reason
from scanner.revoke.providers.common import ProviderBackend
from scanner.revoke.sinks import CLIENT_SECRET

_MASK = re.compile(r"\.{3,}|\*{3,}")


class OktaRotate(ProviderBackend):
    name = "okta"

    def requirements(self, target: Target) -> str | None:
        return None if target.client.domain else "the registry names no Okta domain"

    def base(self, target: Target, ctx: Context) -> str:
        override = ctx.options.endpoints.get("okta")
        return (override or f"https://{target.client.domain}").rstrip("/")

    def endpoint(self, target: Target) -> str:
        return f"https://{target.client.domain}{_secrets_path(target)}"

    def act(self, target: Target, ctx: Context) -> Result:
        url = self.base(target, ctx) + _secrets_path(target)
        headers = _auth(self.admin_token(target, ctx))
        listed = ctx.http.get(url, headers=headers)
        if listed.status != 200 or not isinstance(listed.body, list):
            return failed(api_reason("Okta list secrets", listed))
        old_id, why = _leaked_secret_id(listed.body, target)
        if old_id is None:
            return failed(why)

        created = ctx.http.post(url, json_body={}, headers=headers)
        body = created.body if isinstance(created.body, dict) else {}
        secret, new_id = body.get("client_secret"), body.get("id")
        if created.status not in (200, 201) or not isinstance(secret, str) or not secret:
            return failed(api_reason("Okta add secret", created))
        ctx.sensitive(secret)
        try:
            ctx.deliver(target, {CLIENT_SECRET: secret})
        except ActionError as exc:
            return failed(
                f"Okta added a secret ({new_id}) but it could not be delivered; the leaked one "
                f"is still active: {exc}"
            )

        old = f"{url}/{quote(old_id, safe='')}"
        deactivated = ctx.http.post(f"{old}/lifecycle/deactivate", headers=headers)
        if deactivated.status not in (200, 404):
            return failed(api_reason("Okta deactivate the leaked secret", deactivated))
        deleted = ctx.http.request("DELETE", old, headers=headers)
        if deleted.status not in (200, 204, 404):
            return failed(api_reason("Okta delete the leaked secret", deleted))
        return Result(
            "done",
            "Okta added a new secret (delivered), deactivated and deleted the leaked one",
            facts=(("old_key_id", old_id), ("new_key_id", str(new_id))),
            new_secret=secret,
        )


def _secrets_path(target: Target) -> str:
    app = target.client.app_id or target.client.client_id
    return f"/api/v1/apps/{quote(app, safe='')}/credentials/secrets"


def _auth(token: str) -> dict[str, str]:
    scheme = "Bearer" if token.startswith("ey") and token.count(".") == 2 else "SSWS"
    return {"Authorization": f"{scheme} {token}", "Accept": "application/json"}


def _leaked_secret_id(listed: list[Any], target: Target) -> tuple[str | None, str]:
    entries = [e for e in listed if isinstance(e, dict) and isinstance(e.get("id"), str)]
    if target.client.key_id:
        if any(e["id"] == target.client.key_id for e in entries):
            return target.client.key_id, ""
        return None, f"Okta lists no secret with key_id {target.client.key_id}"
    if target.secret:
        fitting = [e["id"] for e in entries if _fits(e.get("client_secret"), target.secret)]
        if len(fitting) == 1:
            return fitting[0], ""
    active = [e["id"] for e in entries if e.get("status") == "ACTIVE"]
    if len(active) == 1:
        return active[0], ""
    return None, "cannot tell which Okta secret leaked: set key_id in the registry"


def _fits(masked: Any, secret: str) -> bool:
    """Does Okta's masked display of a secret (prefix...suffix) fit ``secret``?"""
    if not isinstance(masked, str) or not masked:
        return False
    if masked == secret:
        return True
    parts = _MASK.split(masked)
    if len(parts) != 2 or len(parts[0]) + len(parts[1]) < 8:
        return False
    return secret.startswith(parts[0]) and secret.endswith(parts[1])
