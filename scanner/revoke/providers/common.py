"""What the provider backends share: an admin token from the environment variable the registry
names, a base URL tests can point at 127.0.0.1, and the resolution of a rotation."""

from __future__ import annotations

from scanner.revoke.base import ActionError, Context, Resolution, Result, Target
from scanner.revoke.common import resolve_rotation


class ProviderBackend:
    """A provider's admin API. ``endpoints[name]`` (RevokeOptions) overrides its base URL."""

    name: str
    rotates: bool = True
    kills: bool = True
    needs_admin_token: bool = True

    def base(self, target: Target, ctx: Context) -> str:
        raise NotImplementedError

    def endpoint(self, target: Target) -> str:
        raise NotImplementedError

    def act(self, target: Target, ctx: Context) -> Result:
        raise NotImplementedError

    def requirements(self, target: Target) -> str | None:
        """Why the registry entry is not enough for this backend (no network)."""
        return None

    def preflight(self, target: Target, ctx: Context) -> str | None:
        missing = self.requirements(target)
        if missing:
            return missing
        if self.rotates and target.finding.kind != "client-secret":
            return f"{self.name} rotates client secrets; this finding is a {target.finding.kind}"
        if self.needs_admin_token:
            env = target.client.admin_token_env
            if not env:
                return "the registry names no admin_token_env for this client"
            if not ctx.env(env):
                return f"{env} is not set"
        return None

    def admin_token(self, target: Target, ctx: Context) -> str:
        token = ctx.env(target.client.admin_token_env)
        if not token:
            raise ActionError(f"{target.client.admin_token_env or 'admin_token_env'} is not set")
        return token

    def resolve(self, target: Target, ctx: Context, since: float) -> tuple[Resolution, str]:
        return resolve_rotation(target, ctx, since)
