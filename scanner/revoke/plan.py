"""Which actions a report calls for: only ``live`` findings, only for a client the registry
knows, only with the action its entry names (``revoke = "none"`` is never touched). Decided
offline; the tokens of a client are revoked (RFC 7009) before the client is deleted or
rotated, since only the client itself may revoke them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scanner.models import Finding
from scanner.registry import Client, Registry
from scanner.revoke.base import Backend, RevokeOptions, Target
from scanner.revoke.notify import Notify
from scanner.revoke.providers import PROVIDERS
from scanner.revoke.rfc7009 import RevokeTokens
from scanner.revoke.rfc7592 import Delete, Rotate
from scanner.verify.inventory import Inventory
from scanner.verify.reread import Rereader, RereadError, is_redacted

ACTIONABLE_KINDS = ("client-secret", "private-key")
PlanStatus = Literal["act", "skip"]


@dataclass(frozen=True)
class PlannedAction:
    """One action for one leaked credential, or why there is none."""

    fingerprint: str
    client_id: str
    owner: str | None
    action: str
    endpoint: str
    status: PlanStatus
    reason: str = ""
    target: Target | None = None
    backend: Backend | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.fingerprint, self.client_id, self.action)


def backend_for(action: str) -> Backend | None:
    """The backend of a registry ``revoke`` value, or None when leakstop has none."""
    if action == "rfc7592-delete":
        return Delete()
    if action == "rfc7592-rotate":
        return Rotate()
    if action == "notify":
        return Notify()
    if action.startswith("provider:"):
        provider = PROVIDERS.get(action.split(":", 1)[1])
        return provider() if provider else None
    return None


def plan_revocations(
    findings: Iterable[Finding], registry: Registry, options: RevokeOptions | None = None
) -> list[PlannedAction]:
    """The actions for ``findings``, in report order, one per credential and client."""
    options = options or RevokeOptions()
    inventory = Inventory(registry)
    rereader = Rereader() if options.reread else None
    planned: list[PlannedAction] = []
    seen: set[tuple[str, str, str]] = set()
    for finding in findings:
        if finding.verdict != "live" or finding.kind not in ACTIONABLE_KINDS:
            continue
        for action in _plan_one(finding, registry, inventory, rereader):
            if action.key not in seen:
                seen.add(action.key)
                planned.append(action)
    return planned


def _plan_one(
    finding: Finding, registry: Registry, inventory: Inventory, rereader: Rereader | None
) -> list[PlannedAction]:
    secret = _plaintext(finding, rereader)
    client, why = _client(finding, secret, registry, inventory)
    if client is None:
        return [_skip(finding, finding.client_id or "?", finding.owner, "-", why)]
    owner = client.owner or finding.owner
    if not client.revoke:
        return [_skip(finding, client.client_id, owner, "-", "the registry names no revoke action")]
    if client.revoke == "none":
        return [_skip(finding, client.client_id, owner, "none", 'revoke = "none": never touched')]
    backend = backend_for(client.revoke)
    if backend is None:
        return [_skip(finding, client.client_id, owner, client.revoke, "no such revoke backend")]
    target = Target(finding, client, registry.issuer_of(client), secret)
    steps: list[Backend] = []
    if client.tokens_env and client.issuer and client.revoke != "provider:github":
        steps.append(RevokeTokens())
    steps.append(backend)
    return [
        PlannedAction(
            fingerprint=finding.fingerprint,
            client_id=client.client_id,
            owner=owner,
            action=step.name if step is not backend else client.revoke,
            endpoint=step.endpoint(target),
            status="act",
            target=target,
            backend=step,
        )
        for step in steps
    ]


def _skip(
    finding: Finding, client_id: str, owner: str | None, action: str, reason: str
) -> PlannedAction:
    return PlannedAction(finding.fingerprint, client_id, owner, action, "-", "skip", reason)


def _client(
    finding: Finding, secret: str | None, registry: Registry, inventory: Inventory
) -> tuple[Client | None, str]:
    """The registered client a live finding belongs to: by its client id (as verification set
    it), narrowed by the registered secret hash when the id is registered more than once."""
    candidates = registry.clients_with_id(finding.client_id) if finding.client_id else ()
    if not candidates and finding.kind == "client-secret":
        candidates = inventory.for_secret(secret, finding.fingerprint)
    if len(candidates) > 1:
        by_hash = set(inventory.for_secret(secret, finding.fingerprint))
        narrowed = tuple(c for c in candidates if c in by_hash)
        candidates = narrowed or candidates
    if not candidates:
        return None, "no registered client for this finding"
    if len(candidates) > 1:
        return None, (
            f"client id {candidates[0].client_id} is registered more than once; add "
            "secret_sha256 to tell the entries apart"
        )
    return candidates[0], ""


def _plaintext(finding: Finding, rereader: Rereader | None) -> str | None:
    if not is_redacted(finding):
        return finding.secret
    if rereader is None:
        return None
    try:
        return rereader.secret(finding)
    except (RereadError, OSError):
        return None
