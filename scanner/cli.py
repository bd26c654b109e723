"""The ``leakstop`` command line: parse options, build a Config, call the library, pick a
reporter. Exit codes: 0 nothing found, 1 findings, 2 the run could not do its job."""

# No ``from __future__ import annotations`` in the CLI modules (cli*.py): typer reads every
# command's signature on every run, and string annotations made it evaluate ~340 of them
# each time (35 ms of a 150 ms start); real annotations are built once, at import.
import contextlib
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from scanner import __version__
from scanner.config import ArchiveLimits
from scanner.errors import LeakstopError
from scanner.models import ScanResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
MAX_WARNINGS_SHOWN = 50
_ARCHIVE_DEFAULTS = ArchiveLimits()

app = typer.Typer(
    name="leakstop",
    help="Find leaked OAuth client secrets and private keys, prove whether they are live, "
    "and shut them off.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(
    help="List the rules, or check each against its examples.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


class Format(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    sarif = "sarif"
    github = "github"


def main() -> None:
    """Console-script entry point."""
    app()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"leakstop {__version__}")
        raise typer.Exit(EXIT_CLEAN)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Log each verification request on stderr (method, host, path, status; never a "
            "body, a header or a secret).",
        ),
    ] = False,
) -> None:
    """leakstop: OAuth client credential leak scanner."""
    if debug:
        _log_debug()


def _log_debug() -> None:
    """leakstop's own loggers only: libraries (urllib3, PyGithub) log URLs and headers."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("leakstop: debug: %(message)s"))
    logger = logging.getLogger("leakstop")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a LeakstopError into one line on stderr and exit code 2; never a traceback."""
    try:
        yield
    except LeakstopError as exc:
        typer.echo(f"leakstop: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        typer.echo("leakstop: interrupted", err=True)
        raise typer.Exit(130) from None


@app.command()
def scan(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Repositories, directories or files.")
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Scan only the files, not git history.")
    ] = False,
    commit_range: Annotated[
        str | None,
        typer.Option("--range", metavar="BASE..HEAD", help="Only what these commits introduce."),
    ] = None,
    staged: Annotated[
        bool, typer.Option("--staged", help="Only what is staged (pre-commit).")
    ] = False,
    ruleset: Annotated[
        str, typer.Option(help="Ruleset to run (see `leakstop rules list`).")
    ] = "default",
    rules: Annotated[
        Path | None, typer.Option("--rules", metavar="DIR", help="Extra rule files, always on.")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Ignore the findings this baseline accepts (default: a scanned directory's "
            ".leakstop-baseline.json, if it has one)."
        ),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Use no baseline, not even the default one.")
    ] = False,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Print secrets in full (never the default).")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = 0,
    max_archive_depth: Annotated[
        int, typer.Option(min=0, help="How deep to open nested archives (0: not at all).")
    ] = _ARCHIVE_DEFAULTS.max_depth,
    max_archive_members: Annotated[
        int, typer.Option(min=1, metavar="N", help="Members read from any one archive.")
    ] = _ARCHIVE_DEFAULTS.max_members,
    max_expanded_bytes: Annotated[
        int,
        typer.Option(
            min=1, metavar="BYTES", help="Bytes decompressed per top-level archive, in total."
        ),
    ] = _ARCHIVE_DEFAULTS.max_expanded_bytes,
    max_compression_ratio: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="N",
            help="Skip archive members that expand more than N times (0: no check).",
        ),
    ] = _ARCHIVE_DEFAULTS.max_ratio,
    archive_timeout: Annotated[
        float,
        typer.Option(min=0.0, metavar="SECONDS", help="Time spent on one top-level archive."),
    ] = _ARCHIVE_DEFAULTS.max_seconds,
    max_file_size: Annotated[
        int, typer.Option(min=1, metavar="BYTES", help="Skip (and report) larger files.")
    ] = 256 << 20,
    explain: Annotated[
        bool, typer.Option("--explain", help="List on stderr what each filter dropped.")
    ] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check each credential live at its issuer.")
    ] = False,
    registry: Annotated[
        Path | None,
        typer.Option("--registry", metavar="FILE", help="Registered clients: owners, issuers."),
    ] = None,
) -> None:
    """Scan paths for leaked client secrets and private keys."""
    from scanner.config import Config
    from scanner.preload import scan as run_scan  # the engine helper's, if it is there

    with cli_errors():
        config = Config(
            ruleset=ruleset,
            rules_dir=rules,
            history=not no_history,
            commit_range=commit_range,
            staged=staged,
            baseline=baseline,
            auto_baseline=not no_baseline,
            show_secrets=show_secrets,
            jobs=jobs,
            max_file_size=max_file_size,
            archives=ArchiveLimits(
                max_depth=max_archive_depth,
                max_members=max_archive_members,
                max_expanded_bytes=max_expanded_bytes,
                max_ratio=max_compression_ratio,
                max_seconds=archive_timeout,
                max_member_bytes=max_file_size,
            ),
            progress=not no_progress,
            explain=explain,
        )
        from scanner.report import reporter

        result = run_scan([str(p) for p in paths], config, meanwhile=lambda: reporter(fmt.value))
        if verify or registry:
            from scanner.cli_verify import verify_result
            from scanner.verify import VerifyOptions

            result = verify_result(result, registry, VerifyOptions(live=verify, reread=False))
        emit(result, fmt.value, output, show_secrets=show_secrets, ruleset=ruleset, rules_dir=rules)
    raise typer.Exit(EXIT_FINDINGS if result.findings else EXIT_CLEAN)


def emit(
    result: ScanResult,
    fmt: str,
    output: Path | None,
    *,
    show_secrets: bool = False,
    ruleset: str = "default",
    rules_dir: Path | None = None,
) -> None:
    """Write the report and the warnings: shared by every command that reports findings."""
    from scanner.report import reporter
    from scanner.report.base import ReportOptions

    warn_all(result)
    explain_all(result, show_secrets)
    rules = {}
    if fmt == "sarif":  # only SARIF describes the rules; the others never load them
        from scanner.rules import load_ruleset

        rules = {c.rule.id: c.rule for c in load_ruleset(ruleset, rules_dir).rules}
    write = reporter(fmt)
    if output is None:
        color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        write(
            result, sys.stdout, ReportOptions(show_secrets=show_secrets, color=color, rules=rules)
        )
        return
    try:
        with open_output(output) as out:
            write(result, out, ReportOptions(show_secrets=show_secrets, rules=rules))
    except OSError as exc:
        raise LeakstopError(f"{output}: cannot write report: {exc.strerror or exc}") from None


def open_output(path: Path) -> TextIO:
    # A stray undecodable byte (kept as a surrogate escape) is written as \udcXX text rather
    # than ending the run with a traceback and half a report.
    return path.open("w", encoding="utf-8", errors="backslashreplace", newline="\n")


def explain_all(result: ScanResult, show_secrets: bool) -> None:
    """``--explain``: one line on stderr per dropped candidate (secret redacted)."""
    from scanner.redact import shown
    from scanner.report.text import location

    for reason, f in result.explained:
        typer.echo(
            f"leakstop: dropped ({reason}): {f.rule_id} at {location(f)}: "
            f"{shown(f.secret, f.kind, show_secrets)}",
            err=True,
        )


def warn_all(result: ScanResult) -> None:
    """Warnings for single items (corrupt object, unreadable file) on stderr; capped."""
    errors = result.summary.errors
    for message in errors[:MAX_WARNINGS_SHOWN]:
        typer.echo(f"leakstop: warning: {message}", err=True)
    if len(errors) > MAX_WARNINGS_SHOWN:
        typer.echo(
            f"leakstop: warning: {len(errors) - MAX_WARNINGS_SHOWN} more warnings "
            "(all are in summary.errors of --format json)",
            err=True,
        )
    for skipped in result.summary.skipped[:MAX_WARNINGS_SHOWN]:
        typer.echo(f"leakstop: skipped: {skipped.location}: {skipped.reason}", err=True)


@app.command()
def baseline(
    findings: Annotated[Path, typer.Argument(metavar="FINDINGS.json", help="A JSON report.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Baseline file to write.")],
    ruleset: Annotated[str, typer.Option(help="Recorded in the baseline.")] = "default",
) -> None:
    """Accept the findings of a report: later scans with --baseline skip them."""
    from scanner.baseline import write_baseline
    from scanner.report.json import load_report

    with cli_errors():
        count = write_baseline(load_report(findings).findings, output, ruleset)
    typer.echo(f"leakstop: wrote {count} fingerprints to {output}", err=True)


@app.command()
def merge(
    reports: Annotated[
        list[Path], typer.Argument(metavar="REPORT.json...", help="Reports to merge.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Merged JSON report.")],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Format of the merged report.")
    ] = Format.json,
) -> None:
    """Merge JSON reports (e.g. one per shard) into one, findings deduplicated."""
    from scanner.report.json import load_report, merge_results

    with cli_errors():
        merged = merge_results(load_report(p) for p in reports)
        emit(merged, fmt.value, output)
    raise typer.Exit(EXIT_FINDINGS if merged.findings else EXIT_CLEAN)


@rules_app.command("list")
def rules_list(
    ruleset: Annotated[str, typer.Option(help="Show only this ruleset's rules.")] = "all",
    rules: Annotated[
        Path | None, typer.Option("--rules", metavar="DIR", help="Extra rules.")
    ] = None,
) -> None:
    """List rules: id, kind, provider, severity."""
    from scanner.rules import load_ruleset

    with cli_errors():
        selected = load_ruleset(ruleset, rules)
        default = {c.rule.id for c in load_ruleset("default", rules).rules}
    for compiled in selected.rules:
        r = compiled.rule
        mark = "default" if r.id in default else "-"
        typer.echo(f"{r.id:<44} {r.kind:<14} {r.provider:<12} {r.severity:<8} {mark}")


@rules_app.command("check")
def rules_check(
    rules: Annotated[
        Path | None, typer.Option("--rules", metavar="DIR", help="Extra rules.")
    ] = None,
) -> None:
    """Check every rule's examples (must match) and counterexamples (must not)."""
    from scanner.rulecheck import check_rule
    from scanner.rules import load_ruleset

    with cli_errors():
        ruleset = load_ruleset("all", rules)
    failures = 0
    for compiled in ruleset.rules:
        problems = check_rule(compiled.rule)
        failures += len(problems)
        for p in problems:
            typer.echo(f"FAIL {p.rule_id}: {p.message}", err=True)
    total = sum(len(c.rule.examples) + len(c.rule.counterexamples) for c in ruleset.rules)
    typer.echo(f"{len(ruleset.rules)} rules, {total} examples checked, {failures} failures")
    raise typer.Exit(EXIT_FINDINGS if failures else EXIT_CLEAN)


# Command groups in their own modules; importing them registers their commands on `app`.
from scanner import (  # noqa: E402
    cli_github,  # noqa: F401  (action, scan-org, summary)
    cli_revoke,  # noqa: F401  (revoke)
    cli_verify,  # noqa: F401  (verify, registry)
)
