"""Human-readable report: one block per finding, then a summary line."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from scanner.models import Finding, ScanResult
from scanner.redact import shown
from scanner.report.base import ReportOptions

_COLORS = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1", "cyan": "36"}
_VERDICT_COLOR = {"live": "red", "dead": "green", "unknown": "yellow", "not_checked": "dim"}


def write_text(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    def paint(text: str, color: str) -> str:
        return f"\x1b[{_COLORS[color]}m{text}\x1b[0m" if options.color else text

    for f in result.findings:
        head = f"{paint(f.rule_id, 'bold')}  {f.kind}  {f.provider}"
        if f.verdict != "not_checked":
            head += "  " + paint(f"[{f.verdict}]", _VERDICT_COLOR[f.verdict])
        if f.confidence != "high":
            head += "  " + paint(f"({f.confidence})", "dim")
        out.write(head + "\n")
        out.write(f"  {paint(location(f), 'cyan')}\n")
        if f.origin.commit:
            who = ", ".join(x for x in (f.origin.author, f.origin.date) if x)
            out.write(f"  commit {f.origin.commit[:12]}" + (f" ({who})" if who else "") + "\n")
        if f.origin.refs:
            out.write(
                f"  refs {', '.join(f.origin.refs[:5])}"
                + (f" (+{len(f.origin.refs) - 5} more)" if len(f.origin.refs) > 5 else "")
                + "\n"
            )
        if f.origin.note:
            out.write(f"  note {f.origin.note}\n")
        detail = f"  secret {shown(f.secret, f.kind, options.show_secrets)}"
        if f.kind == "private-key":
            detail += "  encrypted" if f.encrypted else "  unencrypted"
        if f.client_id:
            detail += f"  client_id {f.client_id}"
        out.write(detail + "\n")
        if f.verdict_reason or f.owner:
            out.write(
                "  "
                + "  ".join(
                    x
                    for x in (
                        f.verdict_reason and f"verdict: {f.verdict_reason}",
                        f.owner and f"owner: {f.owner}",
                    )
                    if x
                )
                + "\n"
            )
        out.write("\n")
    s = result.summary
    kinds = Counter(f.kind for f in result.findings)
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    line = (
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"
        + (f" ({by_kind})" if by_kind else "")
        + f" in {s.blobs_scanned} blobs, {s.bytes_scanned / 1e6:.1f} MB, {s.seconds:.2f}s"
    )
    if s.errors:
        line += f"; {len(s.errors)} error{'s' if len(s.errors) != 1 else ''} (see stderr)"
    if s.skipped:
        line += f"; {len(s.skipped)} skipped"
    out.write(paint(line, "red" if result.findings else "green") + "\n")


def location(f: Finding) -> str:
    """``path:line:column``, with the repository for org scans; commit messages by sha."""
    o = f.origin
    if o.source == "commit-message":
        where = f"commit message {o.commit}:{f.line}"
    else:
        where = f"{o.path or o.blob_id or '?'}:{f.line}:{f.column}"
    if o.layer:
        where += f" (layer {o.layer})"
    return f"{o.repository}: {where}" if o.repository else where
