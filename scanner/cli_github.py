"""``leakstop action``, ``leakstop scan-org`` and ``leakstop summary``: the GitHub commands,
registered on the main app by one import at the bottom of ``scanner/cli.py``."""

import os
from pathlib import Path
from typing import Annotated

import typer

from scanner.cli import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    Format,
    app,
    cli_errors,
    emit,
)


@app.command()
def action() -> None:
    """The GitHub Action's entry point: reads the runner's environment (GITHUB_EVENT_NAME,
    GITHUB_EVENT_PATH, GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and the inputs as
    LEAKSTOP_* variables."""
    from scanner.gha import run

    raise typer.Exit(run())


@app.command("scan-org")
def scan_org(
    org: Annotated[str, typer.Argument(metavar="ORG", help="Organisation (or user) name.")],
    api_url: Annotated[
        str,
        typer.Option(help="GitHub API; GitHub Enterprise: https://HOST/api/v3."),
    ] = "https://api.github.com",
    shard: Annotated[
        str, typer.Option(metavar="I/N", help="Scan only shard I of N (1-based, stable).")
    ] = "1/1",
    include_forks: Annotated[bool, typer.Option("--include-forks", help="Scan forks too.")] = False,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Scan archived repositories too.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Rescan whole histories, not only what is new.")
    ] = False,
    cache_dir: Annotated[
        Path, typer.Option(metavar="DIR", help="Bare clones and the state file live here.")
    ] = Path(".leakstop-cache"),
    state: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="SQLite state file (default: DIR/scan-org-state.sqlite3)."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Repositories cloned and scanned at once.")
    ] = 4,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")
    ] = None,
    ruleset: Annotated[str, typer.Option(help="Ruleset to run.")] = "default",
    rules: Annotated[
        Path | None, typer.Option("--rules", metavar="DIR", help="Extra rule files, always on.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Ignore the findings this baseline accepts.")
    ] = None,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Print secrets in full (never the default).")
    ] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check each credential (needs --registry).")
    ] = False,
    registry: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Registry of known clients.")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=0, help="Worker processes per repository (0: cores/concurrency)."
        ),
    ] = 0,
) -> None:
    """Scan every repository of a GitHub organisation: bare clones in a cache, only new
    commits after the first run. The token comes from GITHUB_TOKEN."""
    from scanner.child import ChildScan
    from scanner.errors import ConfigError
    from scanner.orgscan import OrgScanOptions, RepoOutcome, record, scan_profile
    from scanner.orgscan import scan_org as run_scan_org
    from scanner.sources.github import Shard

    with cli_errors():
        token = os.environ.get("GITHUB_TOKEN", "")
        if not token:
            raise ConfigError("set GITHUB_TOKEN to a token that can read the organisation")
        per_repo = jobs or max(1, (os.cpu_count() or 1) // concurrency)
        args = ["--ruleset", ruleset, "--jobs", str(per_repo)]
        if rules:
            args += ["--rules", str(rules.resolve())]
        if baseline:
            args += ["--baseline", str(baseline.resolve())]
        if verify:
            args.append("--verify")
        if registry:
            args += ["--registry", str(registry.resolve())]
        options = OrgScanOptions(
            org=org,
            token=token,
            api_url=api_url,
            cache_dir=cache_dir,
            state_path=state,
            shard=Shard.parse(shard),
            include_forks=include_forks,
            include_archived=include_archived,
            full=full,
            concurrency=concurrency,
            profile=scan_profile(ruleset, rules),
        )

        def progress(o: RepoOutcome) -> None:
            name = o.repository.full_name
            if o.error:
                return  # reported with the other warnings
            assert o.plan is not None and o.result is not None
            what = "whole history" if o.plan.full else (o.plan.reason or "unchanged")
            n = len(o.result.findings)
            typer.echo(f"leakstop: {name}: {what}; {n} finding{'s' * (n != 1)}", err=True)

        child = ChildScan(tuple(args), show_secrets=show_secrets)
        scanned = run_scan_org(options, scan_repo=child, on_done=progress)
        emit(
            scanned.result,
            fmt.value,
            output,
            show_secrets=show_secrets,
            ruleset=ruleset,
            rules_dir=rules,
        )
        recorded = record(options, scanned)
        typer.echo(
            f"leakstop: shard {options.shard}: {len(scanned.outcomes)} of {scanned.listed} "
            f"repositories; state of {recorded} recorded in {options.state_file}",
            err=True,
        )
    raise typer.Exit(EXIT_FINDINGS if scanned.result.findings else EXIT_CLEAN)


@app.command()
def summary(
    reports: Annotated[
        list[Path], typer.Argument(metavar="REPORT.json...", help="JSON reports (merged).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here, not stdout.")
    ] = None,
    title: Annotated[str, typer.Option(help="Heading of the summary.")] = "leakstop",
) -> None:
    """Markdown job summary of reports: counts by verdict and a table of findings, cut to
    fit GitHub's 1 MiB step-summary limit. Append it to $GITHUB_STEP_SUMMARY."""
    from scanner.report.json import load_report, merge_results
    from scanner.report.summary import summary_markdown

    with cli_errors():
        merged = merge_results(load_report(p) for p in reports)
        text = summary_markdown(merged, title=title, full_report=", ".join(p.name for p in reports))
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                from scanner.errors import ReportError

                raise ReportError(f"{output}: cannot write: {exc.strerror or exc}") from None
    raise typer.Exit(EXIT_CLEAN)
