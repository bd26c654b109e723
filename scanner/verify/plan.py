"""Which checks a finding needs, decided offline: the inventory match first (registered secret
hash, registered key thumbprint, else the client id found next to it), then where each
candidate client is checked -- its registry issuer, else a provider plugin. A URL or host found
in scanned content is never a place to check (provider plugins accept a content domain only
when it matches their own pattern)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scanner import keys
from scanner.models import Finding, Verdict
from scanner.registry import Client, Registry
from scanner.verify.base import Credential, Verifier, VerifyOptions
from scanner.verify.inventory import Inventory
from scanner.verify.oauth import IssuerChecks
from scanner.verify.providers import provider_verifier
from scanner.verify.reread import Rereader, RereadError, is_redacted

VERIFIED_KINDS = ("client-secret", "private-key")
MAX_CANDIDATES = 5
"""At most this many registered clients are tried for one credential."""
_OFFLINE = {
    "registered secret": "matches a registered secret of client",
    "registered key": "matches a registered key of client",
    "client id": "found next to the id of registered client",
}


@dataclass(frozen=True)
class Check:
    """One live check: a credential presented as one client at one place."""

    verifier: Verifier
    credential: Credential
    label: str
    """Where, for reasons: the issuer's registry name or the provider plugin's name."""
    client: Client | None = None


@dataclass
class Plan:
    """What verification will do for one finding."""

    finding: Finding
    credential: Credential | None = None
    candidates: tuple[Client, ...] = ()
    matched_by: str = ""
    """'registered secret', 'registered key' or 'client id' when candidates come from the
    registry."""
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Why some candidate cannot be checked (e.g. no issuer in the registry)."""
    verdict: Verdict | None = None
    """Decided without a live check."""
    needs_registered_keys: bool = False
    """A private key no registry entry names: look for it in the issuers' registered keys."""
    unavailable: str = ""
    """Why the secret is not available (redacted and not re-readable), if it is not."""

    @property
    def owner(self) -> str | None:
        return next((c.owner for c in self.candidates if c.owner), None)


class Planner:
    """Plans findings against one registry with one set of options."""

    def __init__(self, registry: Registry, options: VerifyOptions, issuers: IssuerChecks) -> None:
        self.registry = registry
        self.options = options
        self.inventory = Inventory(registry)
        self.issuers = issuers
        self.rereader = Rereader(options.rules_dir)

    def plan(self, finding: Finding) -> Plan:
        plan = Plan(finding)
        if finding.kind not in VERIFIED_KINDS:
            return plan
        secret, plan.unavailable = self._secret(finding)
        if finding.kind == "client-secret":
            plan.candidates = self.inventory.for_secret(secret, finding.fingerprint)
            plan.matched_by = "registered secret" if plan.candidates else ""
            credential = _credential(finding, secret or "")
        else:
            key = keys.load_private_key(secret) if secret and not finding.encrypted else None
            thumbprint = finding.attrs.get("jwk_thumbprint") or _thumbprint(key)
            plan.candidates = self.inventory.for_key(thumbprint)
            plan.matched_by = "registered key" if plan.candidates else ""
            credential = _credential(finding, secret or "", key=key, thumbprint=thumbprint)
        if not plan.candidates and finding.client_id:
            plan.candidates = self.inventory.for_client_id(finding.client_id)
            plan.matched_by = "client id" if plan.candidates else ""
        plan.candidates = plan.candidates[:MAX_CANDIDATES]
        plan.credential = credential

        if not self.options.live:
            if plan.candidates:
                client = plan.candidates[0]
                plan.verdict = Verdict(
                    "not_checked",
                    f"{_OFFLINE[plan.matched_by]} {client.client_id} (offline; not checked live)",
                    client_id=client.client_id,
                    owner=plan.owner,
                )
            return plan
        if secret is None:
            plan.verdict = self._unknown(plan, f"secret not available: {plan.unavailable}")
            return plan
        if credential.kind == "private-key" and credential.key is None:
            why = "the key is encrypted" if finding.encrypted else "the key cannot be parsed"
            plan.verdict = self._unknown(plan, f"{why}; it cannot sign a client assertion")
            return plan

        for client in plan.candidates:
            self._add_client_check(plan, client)
        if not plan.candidates:
            self._add_unregistered_check(plan)
        if not plan.checks and not plan.needs_registered_keys:
            plan.verdict = self._unknown(plan, "; ".join(plan.notes))
        return plan

    def add_registered_key_checks(
        self, plan: Plan, holders: list[tuple[Client, str | None]], problems: list[str]
    ) -> None:
        """Second pass for an unregistered key, once the issuers' registered keys are known:
        ``holders`` are the clients (and key ids) whose registered keys match it."""
        assert plan.credential is not None
        plan.candidates = tuple(c for c, _ in holders[:MAX_CANDIDATES])
        plan.matched_by = "key registered at the issuer" if holders else ""
        for client, kid in holders[:MAX_CANDIDATES]:
            issuer = self.registry.issuer_of(client)
            if issuer is not None:
                credential = replace(plan.credential, client_id=client.client_id)
                verifier = self.issuers.verifier(issuer, kid=kid)
                plan.checks.append(Check(verifier, credential, issuer.name, client))
        if not plan.checks:
            reason = (
                f"no registered client holds this key (thumbprint {plan.credential.thumbprint})"
            )
            plan.verdict = self._unknown(plan, "; ".join([reason, *problems]))

    # -- helpers -----------------------------------------------------------------------

    def _secret(self, finding: Finding) -> tuple[str | None, str]:
        if not is_redacted(finding):
            return finding.secret, ""
        if not self.options.reread:
            return None, "redacted in the report"
        try:
            return self.rereader.secret(finding), ""
        except RereadError as exc:
            return None, f"redacted in the report and could not be re-read: {exc}"

    def _add_client_check(self, plan: Plan, client: Client) -> None:
        assert plan.credential is not None
        credential = replace(
            plan.credential,
            client_id=client.client_id,
            attributes=_merged(plan.credential.attributes, client),
        )
        issuer = self.registry.issuer_of(client)
        if issuer is not None:
            plan.checks.append(
                Check(self.issuers.verifier(issuer), credential, issuer.name, client)
            )
            return
        provider = client.provider or plan.finding.provider
        verifier = provider_verifier(provider, credential, self.options.endpoints)
        if verifier is not None:
            plan.checks.append(Check(verifier, credential, verifier.name, client))
        else:
            plan.notes.append(f"no issuer in registry for client {client.client_id}")

    def _add_unregistered_check(self, plan: Plan) -> None:
        assert plan.credential is not None
        credential = plan.credential
        verifier = provider_verifier(plan.finding.provider, credential, self.options.endpoints)
        if verifier is not None:
            plan.checks.append(Check(verifier, credential, verifier.name))
        elif credential.kind == "private-key" and self.inventory.key_sources:
            plan.needs_registered_keys = True
        elif credential.client_id:
            plan.notes.append(f"no issuer in registry for client {credential.client_id}")
        elif credential.kind == "private-key":
            plan.notes.append("no registered client for this key and no client id near it")
        else:
            plan.notes.append("no client id near the secret and no registered secret matches")

    def _unknown(self, plan: Plan, reason: str) -> Verdict:
        client_id = plan.candidates[0].client_id if plan.candidates else None
        return Verdict("unknown", reason, client_id=client_id, owner=plan.owner)


def _credential(
    finding: Finding, secret: str, *, key: object = None, thumbprint: str | None = None
) -> Credential:
    return Credential(
        kind=finding.kind,  # type: ignore[arg-type]
        secret=secret,
        client_id=finding.client_id,
        provider=finding.provider,
        attributes=finding.attributes,
        key=key,
        thumbprint=thumbprint,
    )


def _thumbprint(key: object) -> str | None:
    if key is None:
        return None
    try:
        return keys.jwk_thumbprint(key)  # type: ignore[arg-type]
    except keys.KeyParseError:  # DSA and other keys JOSE cannot name
        return None


def _merged(attributes: tuple[tuple[str, str], ...], client: Client) -> tuple[tuple[str, str], ...]:
    """Finding attributes with the registry's values for the same names taking precedence."""
    merged = dict(attributes)
    for name in ("tenant_id", "domain", "app_id"):
        value = getattr(client, name)
        if value:
            merged[name] = value
    return tuple(sorted(merged.items()))
