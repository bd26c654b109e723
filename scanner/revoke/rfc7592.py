"""RFC 7592 client configuration management with the client's registration access token (read
only from the environment variable the registry names).

* ``rfc7592-delete``: DELETE the client configuration endpoint (204): every credential of the
  client stops working at once (issued access tokens may not: revoke them with RFC 7009
  first, see ``tokens_env``).
* ``rfc7592-rotate``: GET the configuration, PUT it back without ``client_secret`` and take
  the new ``client_secret``. A server that keeps the old secret (stock oidc-provider does)
  makes it ``failed: rotation unsupported``, never ``done``. Every PUT also rotates the
  registration access token: the newest one is delivered to the client's sink together with
  the new secret (never printed), since the old one is dead from then on.
"""

from __future__ import annotations

from typing import Any

from scanner.revoke.base import (
    ActionError,
    Context,
    Resolution,
    Result,
    Target,
    call_failed,
    done,
    failed,
)
from scanner.revoke.common import api_reason, bearer
from scanner.revoke.sinks import CLIENT_SECRET, REGISTRATION_ACCESS_TOKEN
from scanner.verify.http import Answer

# Members a client must not send back in an RFC 7592 PUT (RFC 7592 2.2; oidc-provider
# answers 400 otherwise), plus the secret, whose absence asks for a new one.
_NOT_SENT = frozenset(
    {
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
        "client_secret",
    }
)


class _Rfc7592:
    rotates = False
    kills = True

    def endpoint(self, target: Target) -> str:
        return target.client.registration_client_uri or "(no registration_client_uri)"

    def preflight(self, target: Target, ctx: Context) -> str | None:
        client = target.client
        if not client.registration_client_uri:
            return "the registry names no registration_client_uri for this client"
        if not client.registration_access_token_env:
            return "the registry names no registration_access_token_env for this client"
        if not ctx.env(client.registration_access_token_env):
            return f"{client.registration_access_token_env} is not set"
        return None

    def _token(self, target: Target, ctx: Context) -> str:
        token = ctx.env(target.client.registration_access_token_env)
        if not token:
            raise ActionError(f"{target.client.registration_access_token_env} is not set")
        return token

    def _read(self, target: Target, ctx: Context) -> Answer:
        assert target.client.registration_client_uri
        return ctx.http.get(
            target.client.registration_client_uri, headers=bearer(self._token(target, ctx))
        )


class Delete(_Rfc7592):
    name = "rfc7592-delete"

    def act(self, target: Target, ctx: Context) -> Result:
        uri = target.client.registration_client_uri
        assert uri
        answer = ctx.http.request("DELETE", uri, headers=bearer(self._token(target, ctx)))
        if answer.status in (200, 204):
            return done(f"DELETE {answer.status}")
        if answer.status in (401, 404):
            # Already deleted (the token died with the client), or a wrong token.
            verdict = ctx.check(target)
            if verdict.status == "dead":
                return done(f"already gone: DELETE {answer.status} and the secret is dead")
        return call_failed(api_reason("DELETE client configuration", answer), answer)

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        answer = self._read(target, ctx)
        if answer.status == 200:
            return "redo", "the client configuration still exists"
        if answer.status in (401, 404):
            verdict = ctx.check(target)
            if verdict.status == "dead":
                return "done", f"the client is gone (GET {answer.status}, secret dead)"
            if verdict.status == "live":
                return "failed", (
                    f"the registration access token is refused (GET {answer.status}) but the "
                    "secret still authenticates"
                )
            return "failed", f"GET {answer.status}; the secret cannot be checked: {verdict.reason}"
        return "failed", f"cannot tell: {api_reason('GET client configuration', answer)}"


class Rotate(_Rfc7592):
    name = "rfc7592-rotate"
    rotates = True

    def preflight(self, target: Target, ctx: Context) -> str | None:
        if target.finding.kind != "client-secret":
            return "rfc7592-rotate renews client secrets; use rfc7592-delete for a key"
        return super().preflight(target, ctx)

    def act(self, target: Target, ctx: Context) -> Result:
        uri = target.client.registration_client_uri
        assert uri
        token = self._token(target, ctx)
        current = self._read(target, ctx)
        if current.status != 200 or not isinstance(current.body, dict):
            return failed(api_reason("GET client configuration", current))
        body: dict[str, Any] = {k: v for k, v in current.body.items() if k not in _NOT_SENT}
        old = _string(current.body.get("client_secret")) or target.secret
        ctx.sensitive(old)
        ctx.sensitive(_string(current.body.get("registration_access_token")))
        answer = ctx.http.request("PUT", uri, json_body=body, headers=bearer(token))
        if answer.status != 200 or not isinstance(answer.body, dict):
            return call_failed(api_reason("PUT client configuration", answer), answer)
        new_secret = _string(answer.body.get("client_secret"))
        new_token = _string(answer.body.get("registration_access_token"))
        ctx.sensitive(new_secret)
        ctx.sensitive(new_token)
        rotated = new_secret is not None and new_secret != old
        values = {}
        if rotated:
            assert new_secret is not None
            values[CLIENT_SECRET] = new_secret
        if new_token and new_token != token:
            values[REGISTRATION_ACCESS_TOKEN] = new_token
        if values:
            try:
                ctx.deliver(target, values)
            except ActionError as exc:
                lost = "secret and registration access token" if rotated else "token"
                return failed(f"PUT 200, but the new {lost} could not be delivered: {exc}")
        token_note = (
            "; the new registration access token went to the sink"
            if REGISTRATION_ACCESS_TOKEN in values
            else ""
        )
        if not rotated:
            return failed(
                "rotation unsupported: the server kept the old client_secret on an RFC 7592 "
                f"update{token_note}"
            )
        return Result(
            "done",
            f"PUT 200 issued a new client_secret, delivered to the sink{token_note}",
            new_secret=new_secret,
        )

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        answer = self._read(target, ctx)
        if answer.status == 200:
            verdict = ctx.check(target)
            if verdict.status == "live":
                return "redo", "the client exists and the leaked secret still authenticates"
            if verdict.status == "dead":  # a server that does not rotate its tokens
                if ctx.sink is not None and ctx.sink.delivered_since(since):
                    return "done", "rotated before the interruption; the sink has the new secret"
                return "redo", "the leaked secret is dead, the new one was lost: rotating again"
            return "failed", f"cannot tell whether the rotation happened: {verdict.reason}"
        if answer.status in (401, 404):
            if ctx.sink is not None and ctx.sink.delivered_since(since):
                return "done", "rotated before the interruption; the sink has the new credentials"
            return "failed", (
                f"the registration access token is refused (GET {answer.status}) and the sink "
                "has no new credentials: the update happened but its answer was lost; get a new "
                "registration access token from the server's administrator"
            )
        return "failed", f"cannot tell: {api_reason('GET client configuration', answer)}"


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
