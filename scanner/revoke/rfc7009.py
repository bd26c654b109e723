"""RFC 7009 revocation of the tokens issued to a leaked client, before the client itself is
deleted or rotated: servers let only a token's own client revoke it (oidc-provider's stock
policy), and deleting a client does not end the access tokens it already has.

The tokens come from the environment variable the registry names (``tokens_env``,
whitespace-separated); the request authenticates as the client with the leaked secret
(``client_secret_basic``, then ``client_secret_post``). Revoking is idempotent (RFC 7009
2.2: an invalid token also gets 200), so a crash is resolved by revoking again.
"""

from __future__ import annotations

from scanner.revoke.base import ActionError, Context, Resolution, Result, Target, done, failed
from scanner.revoke.common import api_reason
from scanner.verify.oauth import SECRET_METHODS, ServerMetadata, discover, secret_auth


class RevokeTokens:
    name = "rfc7009-revoke"
    rotates = False
    kills = False

    def endpoint(self, target: Target) -> str:
        issuer = target.issuer.issuer if target.issuer else "(no issuer)"
        return f"revocation_endpoint of {issuer}"

    def preflight(self, target: Target, ctx: Context) -> str | None:
        if target.issuer is None:
            return "the client has no issuer in the registry"
        if target.finding.kind != "client-secret":
            return "RFC 7009 revocation here authenticates with a client secret, not a key"
        if not target.secret:
            return "the leaked secret is not available (redacted and not re-readable)"
        if not _tokens(target, ctx):
            return f"{target.client.tokens_env} is not set or empty"
        return None

    def act(self, target: Target, ctx: Context) -> Result:
        assert target.issuer is not None and target.secret
        meta = discover(target.issuer.issuer, ctx.http)
        if not isinstance(meta, ServerMetadata):
            return failed(meta.reason)
        if not meta.revocation_endpoint:
            return failed("the issuer's metadata names no revocation_endpoint")
        tokens = _tokens(target, ctx)
        problems = [p for p in (self._revoke(t, meta, target, ctx) for t in tokens) if p]
        if problems:
            return failed(f"{len(problems)} of {len(tokens)} tokens not revoked: {problems[0]}")
        return done(
            f"{len(tokens)} token(s) revoked at the revocation endpoint", tokens=str(len(tokens))
        )

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        return "redo", "revocation is idempotent"

    def _revoke(self, token: str, meta: ServerMetadata, target: Target, ctx: Context) -> str:
        assert meta.revocation_endpoint and target.secret
        methods = [m for m in SECRET_METHODS if not meta.auth_methods or m in meta.auth_methods]
        reason = "no client authentication method in common"
        for method in methods:
            form, headers = secret_auth(target.client.client_id, target.secret, method)
            answer = ctx.http.post(
                meta.revocation_endpoint,
                data={"token": token, **form},
                headers=headers,
            )
            if answer.status == 200:
                return ""
            reason = api_reason("revocation endpoint", answer)
            if answer.status not in (400, 401) or answer.failure:
                break
        return reason


def _tokens(target: Target, ctx: Context) -> list[str]:
    value = ctx.env(target.client.tokens_env)
    tokens = value.split() if value else []
    for token in tokens:
        ctx.sensitive(token)
    if len(tokens) > 1000:
        raise ActionError("more than 1000 tokens listed")
    return tokens
