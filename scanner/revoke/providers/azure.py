"""Microsoft Entra ID through Microsoft Graph: ``addPassword`` on the application (addressed by
its app id, ``/applications(appId='{client_id}')``) gives a new secret, which is delivered;
then ``removePassword`` removes the leaked one by its ``keyId``. The leaked key id is the
registry's ``key_id``, else the one password whose ``hint`` (its first three characters)
fits the leaked secret. The Graph token (``Application.ReadWrite.All`` or ownership of the
app) comes from ``admin_token_env``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from scanner.revoke.base import ActionError, Context, Result, Target, failed
from scanner.revoke.common import api_reason, bearer
from scanner.revoke.providers.common import ProviderBackend
from scanner.revoke.sinks import CLIENT_SECRET

GRAPH = "https://graph.microsoft.com/v1.0"


class AzureRotate(ProviderBackend):
    name = "azure"

    def base(self, target: Target, ctx: Context) -> str:
        return (ctx.options.endpoints.get("graph") or GRAPH).rstrip("/")

    def endpoint(self, target: Target) -> str:
        return GRAPH + _app_path(target) + "/addPassword, /removePassword"

    def act(self, target: Target, ctx: Context) -> Result:
        app = self.base(target, ctx) + _app_path(target)
        headers = bearer(self.admin_token(target, ctx))
        old_id = target.client.key_id
        if not old_id:
            read = ctx.http.get(f"{app}?$select=id,passwordCredentials", headers=headers)
            if read.status != 200 or not isinstance(read.body, dict):
                return failed(api_reason("Graph read application", read))
            old_id, why = _leaked_key_id(read.body.get("passwordCredentials"), target.secret)
            if old_id is None:
                return failed(why)

        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        added = ctx.http.post(
            f"{app}/addPassword",
            json_body={"passwordCredential": {"displayName": f"leakstop rotation {stamp}"}},
            headers=headers,
        )
        body = added.body if isinstance(added.body, dict) else {}
        secret, new_id = body.get("secretText"), body.get("keyId")
        if added.status not in (200, 201) or not isinstance(secret, str) or not secret:
            return failed(api_reason("Graph addPassword", added))
        ctx.sensitive(secret)
        try:
            ctx.deliver(target, {CLIENT_SECRET: secret})
        except ActionError as exc:
            return failed(
                f"Graph added a password ({new_id}) but it could not be delivered; the leaked "
                f"one is still valid: {exc}"
            )
        removed = ctx.http.post(
            f"{app}/removePassword", json_body={"keyId": old_id}, headers=headers
        )
        if removed.status not in (200, 204):
            return failed(api_reason("Graph removePassword", removed))
        return Result(
            "done",
            "Graph addPassword (delivered) and removePassword of the leaked one",
            facts=(("old_key_id", old_id), ("new_key_id", str(new_id))),
            new_secret=secret,
        )


def _app_path(target: Target) -> str:
    return f"/applications(appId='{quote(target.client.client_id, safe='-')}')"


def _leaked_key_id(credentials: Any, secret: str | None) -> tuple[str | None, str]:
    if not isinstance(credentials, list):
        return None, "Graph lists no passwordCredentials for the application"
    hinted = [
        c["keyId"]
        for c in credentials
        if isinstance(c, dict)
        and isinstance(c.get("keyId"), str)
        and secret
        and isinstance(c.get("hint"), str)
        and secret.startswith(c["hint"])
    ]
    if len(hinted) == 1:
        return hinted[0], ""
    return None, "cannot tell which password leaked: set key_id in the registry"
