"""Re-verify a credential after an action (or to resolve a crash), through ``scanner.verify``,
as the target's registered client only."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from scanner.models import Verdict
from scanner.registry import Registry
from scanner.verify import VerifyOptions, verify_findings

if TYPE_CHECKING:
    from scanner.revoke.base import Context, Target


def recheck(target: Target, ctx: Context, secret: str | None) -> Verdict:
    """The verdict for ``secret`` presented as ``target.client`` now: live, dead or unknown."""
    if not secret:
        return Verdict("unknown", "the secret is not available (redacted and not re-readable)")
    finding = replace(
        target.finding,
        secret=secret,
        client_id=target.client.client_id,
        verdict="not_checked",
        verdict_reason=None,
    )
    options = VerifyOptions(
        timeout=ctx.options.timeout,
        endpoints=ctx.options.endpoints,
        environ=ctx.options.environ,
        reread=False,
        concurrency=1,
    )
    registry = Registry(issuers=ctx.registry.issuers, clients=(target.client,))
    [checked] = verify_findings([finding], registry, options)
    status = checked.verdict if checked.verdict != "not_checked" else "unknown"
    return Verdict(status, checked.verdict_reason or "not checked", client_id=checked.client_id)
