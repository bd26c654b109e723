"""Verification: is a found credential live, dead, or unknown -- and never wrong.

Order per finding: (1) offline against the registry's inventory (secret hash, key thumbprint,
client id); (2) live, only at the issuer the registry names for the matching client, or at a
provider plugin's fixed public endpoint; never at a URL found in scanned content. Each
distinct check runs once per run, in a bounded thread pool, under a per-host rate limit.

    from scanner.registry import load_registry
    from scanner.verify import VerifyOptions, verify_findings

    findings = verify_findings(result.findings, load_registry(path), VerifyOptions())
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from scanner.models import Finding, Verdict
from scanner.redact import redact
from scanner.registry import Client, Registry
from scanner.verify.base import Outcome, VerifyError, VerifyOptions, unknown
from scanner.verify.http import HttpClient
from scanner.verify.oauth import IssuerChecks
from scanner.verify.plan import Check, Plan, Planner

__all__ = ["VerifyError", "VerifyOptions", "VerifyResult", "verify_findings", "verify_report"]

log = logging.getLogger("leakstop.verify")


@dataclass(frozen=True)
class VerifyResult:
    """Findings with verdicts, plus what went wrong with single items and what was sent."""

    findings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()
    """Per-item problems, e.g. redacted secrets that could not be re-read."""
    checks: int = 0
    """Distinct live checks run."""
    requests: int = 0
    """HTTP requests sent."""


def verify_findings(
    findings: Iterable[Finding],
    registry: Registry | None = None,
    options: VerifyOptions | None = None,
) -> tuple[Finding, ...]:
    """The same findings, in the same order, each with ``verdict``, ``verdict_reason``,
    ``owner`` and ``client_id`` set where verification decided them. Kinds that are not
    verified (client ids, tokens) and unmatched findings in offline mode are unchanged."""
    return verify_report(findings, registry, options).findings


def verify_report(
    findings: Iterable[Finding],
    registry: Registry | None = None,
    options: VerifyOptions | None = None,
) -> VerifyResult:
    """``verify_findings`` plus per-item errors and counts, for the CLI's warnings."""
    registry = registry or Registry()
    options = options or VerifyOptions()
    issuers = IssuerChecks()
    planner = Planner(registry, options, issuers)
    plans = [planner.plan(f) for f in findings]
    errors = [f"verify: secret not available: {p.unavailable}" for p in plans if p.unavailable]
    if not options.live:
        return VerifyResult(findings=tuple(_apply(p, {}) for p in plans), errors=tuple(errors))
    with HttpClient(options) as http, ThreadPoolExecutor(options.concurrency) as pool:
        _find_registered_keys(plans, planner, issuers, http, pool)
        jobs: dict[Hashable, Check] = {}
        for plan in plans:
            for check in plan.checks:
                jobs.setdefault(check.verifier.cache_key(check.credential), check)
        futures = {key: pool.submit(run_check, check, http) for key, check in jobs.items()}
        outcomes = {key: future.result() for key, future in futures.items()}
        sent = sum(http.sent.values())
    verified = tuple(_apply(p, outcomes) for p in plans)
    return VerifyResult(verified, tuple(errors), checks=len(jobs), requests=sent)


def run_check(check: Check, http: HttpClient) -> Outcome:
    """One check; a bug in a verifier becomes an unknown verdict, never a crashed run."""
    try:
        return check.verifier.verify(check.credential, http)
    except Exception as exc:  # reported as unknown by type only: the message may hold data
        log.debug("%s check failed with %s", check.label, type(exc).__name__)
        return unknown(f"internal error in the {check.verifier.name} check ({type(exc).__name__})")


def _find_registered_keys(
    plans: list[Plan],
    planner: Planner,
    issuers: IssuerChecks,
    http: HttpClient,
    pool: ThreadPoolExecutor,
) -> None:
    """For private keys no registry entry names: ask the issuers which client holds them."""
    waiting = [p for p in plans if p.needs_registered_keys]
    if not waiting:
        return
    sources = planner.inventory.key_sources
    environ = planner.options.environ
    fetched = list(pool.map(lambda c: (c, issuers.registered_keys(c, http, environ)), sources))
    holders: dict[str, list[tuple[Client, str | None]]] = {}
    problems = [problem for _, (_, problem) in fetched if problem]
    for client, (registered, _) in fetched:
        for thumbprint, kid in registered.items():
            holders.setdefault(thumbprint, []).append((client, kid))
    for plan in waiting:
        assert plan.credential is not None
        found = holders.get(plan.credential.thumbprint or "", [])
        planner.add_registered_key_checks(plan, found, problems[:3])


def _apply(plan: Plan, outcomes: dict[Hashable, Outcome]) -> Finding:
    verdict = plan.verdict or _combine(plan, outcomes)
    if verdict is None:
        return plan.finding
    secret = plan.credential.secret if plan.credential else ""
    if secret and len(secret) >= 8 and secret in verdict.reason:  # never echo a secret
        verdict = Verdict(
            verdict.status,
            verdict.reason.replace(secret, redact(secret, plan.finding.kind)),
            verdict.client_id,
            verdict.owner,
        )
    return plan.finding.with_verdict(verdict)


def _combine(plan: Plan, outcomes: dict[Hashable, Outcome]) -> Verdict | None:
    """Live if any check is live; dead only if every candidate was checked and refused;
    otherwise unknown with every reason."""
    if not plan.checks:
        return None
    results = [(c, outcomes[c.verifier.cache_key(c.credential)]) for c in plan.checks]
    prefix = f"{plan.matched_by}; " if plan.matched_by.startswith("registered") else ""
    for check, outcome in results:
        if outcome.status == "live":
            owner = (check.client.owner if check.client else None) or plan.owner
            return Verdict(
                "live",
                f"{prefix}{check.label}: {outcome.reason}",
                client_id=check.credential.client_id,
                owner=owner,
            )
    reasons = [f"{c.label}: {o.reason}" for c, o in results] + plan.notes
    dead = all(o.status == "dead" for _, o in results) and not plan.notes
    client_id = results[0][0].credential.client_id
    return Verdict(
        "dead" if dead else "unknown",
        prefix + "; ".join(reasons),
        client_id=client_id,
        owner=plan.owner,
    )
