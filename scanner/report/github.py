"""GitHub workflow-command annotations: one ``::error`` per finding, escaped so that nothing
from scanned content (a file name, say) can start a workflow command of its own."""

from __future__ import annotations

from typing import TextIO

from scanner.models import Finding, ScanResult
from scanner.redact import shown
from scanner.report.base import ReportOptions


def write_annotations(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    for f in result.findings:
        out.write(annotation(f, options) + "\n")


def annotation(f: Finding, options: ReportOptions) -> str:
    props = {"title": f"leakstop: {f.rule_id}"}
    if f.origin.source != "commit-message" and f.origin.path:
        props["file"] = f.origin.path.split("!", 1)[0]
        props["line"] = str(f.line)
        props["col"] = str(f.column)
    where = f.origin.path or f"commit message {f.origin.commit}"
    message = (
        f"{f.kind} ({f.provider}) at {where}:{f.line}"
        + (f" in commit {f.origin.commit[:12]}" if f.origin.commit else "")
        + f": {shown(f.secret, f.kind, options.show_secrets)}"
        + (f" client_id={f.client_id}" if f.client_id else "")
        + (f" verdict={f.verdict}" if f.verdict != "not_checked" else "")
        + (f" owner={f.owner}" if f.owner else "")
    )
    level = "error" if f.severity in ("high", "critical") else "warning"
    rendered = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{level} {rendered}::{escape_data(message)}"


def escape_data(value: str) -> str:
    """Workflow-command message escaping (as @actions/core does)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")
