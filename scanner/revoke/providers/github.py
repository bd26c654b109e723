"""GitHub: the credential revocation API (``POST /credentials/revoke``), which revokes GitHub
tokens (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``...) whoever owns
them. It covers tokens only: an OAuth app's client secret itself cannot be revoked through
any API (use ``revoke = "notify"`` to tell its owner). The tokens are the registry's
``tokens_env`` plus the finding itself when it is a GitHub token. The request is sent with
the token of ``github_token_env`` (default ``GITHUB_TOKEN``) when set, else unauthenticated
(GitHub allows that, rate limited)."""

from __future__ import annotations

import re

from scanner.revoke.base import Context, Resolution, Result, Target, done, failed
from scanner.revoke.common import api_reason
from scanner.revoke.gh import DEFAULT_API
from scanner.revoke.providers.common import ProviderBackend

GITHUB_TOKEN = re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
MAX_PER_REQUEST = 1000


class GitHubRevokeTokens(ProviderBackend):
    name = "github"
    rotates = False
    kills = False
    needs_admin_token = False

    def base(self, target: Target, ctx: Context) -> str:
        return (ctx.options.endpoints.get("github") or DEFAULT_API).rstrip("/")

    def endpoint(self, target: Target) -> str:
        return f"{DEFAULT_API}/credentials/revoke"

    def preflight(self, target: Target, ctx: Context) -> str | None:
        if not self._tokens(target, ctx):
            return "no GitHub tokens to revoke (the finding is no GitHub token; tokens_env unset)"
        return None

    def act(self, target: Target, ctx: Context) -> Result:
        tokens = self._tokens(target, ctx)
        headers = dict(API_HEADERS)
        auth = ctx.env(target.client.github_token_env or "GITHUB_TOKEN")
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        url = self.base(target, ctx) + "/credentials/revoke"
        for start in range(0, len(tokens), MAX_PER_REQUEST):
            batch = tokens[start : start + MAX_PER_REQUEST]
            answer = ctx.http.post(url, json_body={"credentials": batch}, headers=headers)
            if answer.status not in (200, 202):
                return failed(api_reason("GitHub credential revocation", answer))
        return done(
            f"{len(tokens)} GitHub token(s) submitted for revocation (202); the client secret "
            "itself cannot be revoked through an API",
            tokens=str(len(tokens)),
        )

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        return "redo", "revocation is idempotent"

    def _tokens(self, target: Target, ctx: Context) -> list[str]:
        listed = (ctx.env(target.client.tokens_env) or "").split()
        own = target.secret if target.secret and GITHUB_TOKEN.fullmatch(target.secret) else None
        tokens = [own, *listed] if own else listed
        for token in tokens:
            ctx.sensitive(token)
        return [t for t in tokens if t]
