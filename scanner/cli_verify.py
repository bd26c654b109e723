"""``leakstop verify`` and ``leakstop registry fingerprint``, and the verification step of
``leakstop scan --verify --registry``. Registered on the main app by an import at the bottom of
``scanner/cli.py``."""

import getpass
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scanner.cli import EXIT_CLEAN, EXIT_FINDINGS, Format, app, cli_errors, emit
from scanner.errors import LeakstopError
from scanner.models import ScanResult, secret_hash

if TYPE_CHECKING:
    from scanner.verify import VerifyOptions

registry_app = typer.Typer(
    help="Build the client registry used by --registry.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")


@app.command()
def verify(
    findings: Annotated[
        Path, typer.Argument(metavar="FINDINGS.json", help="A JSON or JSONL report.")
    ],
    registry: Annotated[
        Path | None,
        typer.Option("--registry", metavar="FILE", help="Registered clients and their issuers."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only match the registry; no network.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, metavar="SECONDS", help="Per-request time limit.")
    ] = 10.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Checks in flight at once.")] = 8,
    rate: Annotated[
        float, typer.Option(min=0, help="Requests per second to any one host (0: no limit).")
    ] = 10.0,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", metavar="DIR", help="Extra rules the report was made with."),
    ] = None,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Print secrets in full (never the default).")
    ] = False,
) -> None:
    """Verify an earlier report's findings without rescanning.

    Redacted secrets are re-read from where they were found; the ones that cannot be are
    reported as unknown, with the reason.
    """
    from scanner.report.json import load_report
    from scanner.verify import VerifyOptions

    with cli_errors():
        report = load_report(findings)
        options = VerifyOptions(
            live=not offline,
            timeout=timeout,
            concurrency=concurrency,
            per_host_rate=rate,
            rules_dir=rules,
        )
        result = verify_result(report, registry, options)
        emit(result, fmt.value, output, show_secrets=show_secrets, rules_dir=rules)
    raise typer.Exit(EXIT_FINDINGS if result.findings else EXIT_CLEAN)


def verify_result(
    result: ScanResult, registry_path: Path | None, options: "VerifyOptions"
) -> ScanResult:
    """``result`` with verdicts; problems with single findings join ``summary.errors``."""
    from scanner.registry import Registry, load_registry
    from scanner.verify import verify_report

    registry = load_registry(registry_path) if registry_path else Registry()
    verified = verify_report(result.findings, registry, options)
    summary = replace(
        result.summary,
        findings=len(verified.findings),
        errors=(*result.summary.errors, *verified.errors),
    )
    return ScanResult(findings=verified.findings, summary=summary)


@registry_app.command("fingerprint")
def fingerprint(
    key: Annotated[
        Path | None,
        typer.Option("--key", metavar="FILE", help="A private key file (else: secrets on stdin)."),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(metavar="VAR", help="Environment variable holding the key's passphrase."),
    ] = None,
) -> None:
    """Print registry lines for secrets on stdin or for a key file.

    Secrets are read one per line (not echoed on a terminal) and printed as a
    `secret_sha256 = [...]` line; a key file as a `jwk_thumbprints = [...]` line. Nothing is
    written anywhere else.
    """
    with cli_errors():
        if key is not None:
            typer.echo(_toml_line("jwk_thumbprints", [_key_thumbprint(key, password_env)]))
            return
        text = _read_stdin()
        if "PRIVATE KEY-----" in text or '"kty"' in text:
            raise LeakstopError("stdin holds a private key: pass it with --key FILE")
        values = [line.strip() for line in text.splitlines() if line.strip()]
        if not values:
            raise LeakstopError("no secret on stdin")
        typer.echo(_toml_line("secret_sha256", [secret_hash(v) for v in values]))


def _read_stdin() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("secret (not echoed): ")
    return sys.stdin.read()


def _key_thumbprint(path: Path, password_env: str | None) -> str:
    from scanner import keys

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise LeakstopError(f"{path}: cannot read key: {reason or exc}") from None
    password: bytes | None = None
    if password_env:
        if not os.environ.get(password_env):
            raise LeakstopError(f"{password_env} is not set")
        password = os.environ[password_env].encode()
    key = keys.load_private_key(text, password)
    if key is None:
        hint = "" if password_env else " (an encrypted key needs --password-env VAR)"
        raise LeakstopError(f"{path}: not a private key leakstop can read{hint}")
    return keys.jwk_thumbprint(key)


def _toml_line(name: str, values: list[str]) -> str:
    return f"{name} = [" + ", ".join(f'"{v}"' for v in values) + "]"
