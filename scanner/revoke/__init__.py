"""Revocation: shut off live leaked credentials -- explicitly, dry run first, every call
recorded in an audit log before and after it, resumable after a crash, idempotent.

    from scanner.registry import load_registry
    from scanner.revoke import RevokeOptions, revoke_findings

    outcomes = revoke_findings(findings, load_registry(path), Path("audit.jsonl"), act=True)

Backends: RFC 7592 delete or rotate (``rfc7592.py``), RFC 7009 token revocation
(``rfc7009.py``), provider admin APIs (``providers/``), and ``notify`` (``notify.py``). A new
secret is only ever delivered to the sink the registry names (``sinks.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from scanner.models import Finding
from scanner.registry import Registry
from scanner.revoke.audit import AuditLog
from scanner.revoke.base import RevokeError, RevokeOptions
from scanner.revoke.plan import PlannedAction, plan_revocations
from scanner.revoke.run import ActionOutcome, Revoker

__all__ = [
    "ActionOutcome",
    "AuditLog",
    "PlannedAction",
    "RevokeError",
    "RevokeOptions",
    "Revoker",
    "plan_revocations",
    "revoke_findings",
]


def revoke_findings(
    findings: Iterable[Finding],
    registry: Registry,
    audit_log: Path,
    options: RevokeOptions | None = None,
    *,
    act: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[ActionOutcome]:
    """Plan (``act=False``: change nothing, not even the log) or carry out the actions the
    live ``findings`` call for. Raises RevokeError when the run cannot start; ``warn``
    receives problems with the audit log that do not stop the run (a torn line)."""
    options = options or RevokeOptions()
    planned = plan_revocations(findings, registry, options)
    with AuditLog(audit_log, write=act) as audit:
        for warning in audit.warnings:
            if warn is not None:
                warn(warning)
        revoker = Revoker(registry, audit, options)
        try:
            if not act:
                return [revoker.review(p) for p in planned]
            return [revoker.carry_out(p) for p in planned]
        finally:
            revoker.close()
