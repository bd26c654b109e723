"""``leakstop revoke``: shut off the live credentials of a report. Dry run unless ``--yes`` (on a
terminal it asks first; in CI, without a terminal, it never asks). Registered on the main app
by an import at the bottom of ``scanner/cli.py``.

Exit codes: 0 every planned action succeeded, nothing to do, or a dry run; 1 at least one
action failed; 2 the run could not start (bad report, unreadable registry, locked log)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scanner.cli import EXIT_CLEAN, EXIT_FINDINGS, app, cli_errors
from scanner.errors import ConfigError

if TYPE_CHECKING:
    from scanner.revoke import ActionOutcome

DEFAULT_AUDIT_LOG = Path("leakstop-audit.jsonl")
_LABELS = {
    "planned": "would act",
    "skipped": "skip",
    "refused": "refused",
    "done": "done",
    "failed": "FAILED",
}


@app.command()
def revoke(
    findings: Annotated[
        Path, typer.Argument(metavar="FINDINGS.json", help="A JSON or JSONL report, verified.")
    ],
    registry: Annotated[
        Path,
        typer.Option("--registry", metavar="FILE", help="Registered clients and their actions."),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Act (without it: print the plan, change nothing).")
    ] = False,
    audit_log: Annotated[
        Path,
        typer.Option("--audit-log", metavar="FILE", help="Append-only JSONL record of actions."),
    ] = DEFAULT_AUDIT_LOG,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--endpoint",
            metavar="NAME=URL",
            help="Replace a provider's base URL (auth0, okta, keycloak, graph, github, azure): "
            "proxies, GitHub Enterprise, tests.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0.1, metavar="SECONDS", help="Per-request time limit.")
    ] = 20.0,
) -> None:
    """Revoke or rotate the live credentials of a report, as the registry says.

    Acts only on findings whose verdict is live, and only on clients whose registry entry
    names an action (`revoke = "none"` is never touched). A new secret is delivered only to
    the client's `secret_sink`, never printed.
    """
    from scanner.registry import load_registry
    from scanner.report.json import load_report
    from scanner.revoke import RevokeOptions, revoke_findings

    with cli_errors():
        report = load_report(findings)
        loaded = load_registry(registry)
        options = RevokeOptions(timeout=timeout, endpoints=_endpoints(endpoint or []))
        outcomes = revoke_findings(report.findings, loaded, audit_log, options, act=yes, warn=_warn)
        if not yes:
            _print_plan(outcomes, audit_log)
            if not any(o.status == "planned" for o in outcomes) or not _confirmed(outcomes):
                raise typer.Exit(EXIT_CLEAN)
            outcomes = revoke_findings(
                report.findings, loaded, audit_log, options, act=True, warn=_warn
            )
        _print_results(outcomes, audit_log)
    failed = any(o.status == "failed" for o in outcomes)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def _endpoints(values: list[str]) -> dict[str, str]:
    from scanner.registry import check_url

    endpoints: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--endpoint {value!r}: expected NAME=URL")
        try:
            endpoints[name.strip()] = check_url(url.strip(), f"--endpoint {name.strip()}")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return endpoints


def _confirmed(outcomes: "list[ActionOutcome]") -> bool:
    """On a terminal: ask. Without one (CI): never ask, never act."""
    if not interactive():
        typer.echo("leakstop revoke: dry run, nothing changed (run with --yes to act)")
        return False
    count = sum(o.status == "planned" for o in outcomes)
    return typer.confirm(f"Carry out these {count} actions now?", default=False)


def _warn(message: str) -> None:
    typer.echo(f"leakstop: warning: {message}", err=True)


def interactive() -> bool:
    """A person at a terminal (stdin is a TTY), not CI."""
    return sys.stdin.isatty()


def _print_plan(outcomes: "list[ActionOutcome]", audit_log: Path) -> None:
    typer.echo(f"leakstop revoke: plan (dry run; audit log {audit_log})")
    _print_outcomes(outcomes)


def _print_results(outcomes: "list[ActionOutcome]", audit_log: Path) -> None:
    _print_outcomes(outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "failed", "skipped")}
    typer.echo(
        f"leakstop revoke: {counts['done']} done, {counts['failed']} failed, "
        f"{counts['skipped']} skipped (audit log {audit_log})"
    )


def _print_outcomes(outcomes: "list[ActionOutcome]") -> None:
    if not outcomes:
        typer.echo("  nothing to do: no live finding of a registered client")
    for o in outcomes:
        p = o.planned
        owner = f" owner={p.owner}" if p.owner else ""
        typer.echo(
            f"[{_LABELS[o.status]}] {p.action} client={p.client_id}{owner} "
            f"fingerprint={p.fingerprint}"
        )
        if p.endpoint != "-":
            typer.echo(f"    endpoint: {p.endpoint}")
        if o.reason:
            typer.echo(f"    {o.reason}")
        if o.verdict is not None:
            typer.echo(f"    now: {o.verdict.status} ({o.verdict.reason})")
        if o.new_verdict is not None:
            typer.echo(f"    new secret: {o.new_verdict.status} ({o.new_verdict.reason})")
