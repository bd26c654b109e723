"""The Markdown job summary: counts by verdict and a table of findings (rule, file:line,
commit, verdict, owner), cut to fit GitHub's size limit for a step summary with a note saying
so. Everything that comes from scanned content is put in code spans, so a file name can never
become a link, an image, HTML or a new table cell."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from scanner.models import VERDICTS, Finding, ScanResult
from scanner.report.base import ReportOptions

# GitHub refuses a step summary above 1 MiB; stay well below it.
STEP_SUMMARY_LIMIT = 1024 * 1024
DEFAULT_BUDGET = STEP_SUMMARY_LIMIT - 16 * 1024
MAX_CELL = 200
_VERDICT_LABEL = {
    "live": "🔴 live",
    "dead": "dead",
    "unknown": "unknown",
    "not_checked": "not checked",
}


def write_summary(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    """Reporter-shaped entry point (``ScanResult, TextIO, ReportOptions``)."""
    out.write(summary_markdown(result))


def summary_markdown(
    result: ScanResult,
    *,
    title: str = "leakstop",
    scope: str | None = None,
    budget: int = DEFAULT_BUDGET,
    full_report: str | None = None,
) -> str:
    """The summary as Markdown of at most ``budget`` UTF-8 bytes. ``scope`` says what was
    scanned (e.g. a commit range); ``full_report`` names where every finding can be read when
    the table has to be cut."""
    findings = result.findings
    head = [f"## {plain(title)}", ""]
    if scope:
        head += [plain(scope), ""]
    n = len(findings)
    head.append(f"**{n} finding{'s' if n != 1 else ''}**" if n else "**No findings.**")
    head.append("")
    if findings:
        counts: Counter[str] = Counter(f.verdict for f in findings)
        head += ["| verdict | findings |", "|---|---:|"]
        head += [f"| {_VERDICT_LABEL[v]} | {counts[v]} |" for v in VERDICTS if counts[v]]
        head.append("")
    if result.summary.errors:
        e = len(result.summary.errors)
        head += [f"{e} warning{'s' if e != 1 else ''} during the scan (see the log).", ""]
    text = "\n".join(head) + "\n"
    if not findings:
        return _fit(text, budget)

    with_repo = any(f.origin.repository for f in findings)
    columns = ["rule", "file:line", "commit", "verdict", "owner"]
    if with_repo:
        columns.insert(0, "repository")
    table = "| " + " | ".join(columns) + " |\n" + "|" + "---|" * len(columns) + "\n"
    rows = [_row(f, with_repo) for f in findings]
    note_room = 400 + len((full_report or "").encode())
    used = len(text.encode()) + len(table.encode())
    shown = 0
    parts = [text, table]
    for row in rows:
        size = len(row.encode())
        if used + size + note_room > budget:
            break
        parts.append(row)
        used += size
        shown += 1
    if shown < n:
        where = f" Every finding is in {code(full_report)}." if full_report else ""
        parts.append(
            f"\n*Showing {shown} of {n} findings: GitHub limits a job summary to 1 MiB.*{where}\n"
        )
    return _fit("".join(parts), budget)


def _row(f: Finding, with_repo: bool) -> str:
    o = f.origin
    if o.source == "commit-message":
        where = code(f"commit message:{f.line}")
    else:
        where = code(f"{o.path or o.blob_id or '?'}:{f.line}")
    cells = [
        code(f.rule_id),
        where,
        code(o.commit[:12]) if o.commit else "",
        _VERDICT_LABEL.get(f.verdict, plain(f.verdict)),
        plain(f.owner) if f.owner else "",
    ]
    if with_repo:
        cells.insert(0, code(o.repository or ""))
    return "| " + " | ".join(cells) + " |\n"


def code(text: str) -> str:
    """``text`` as a code span that is safe in a table cell: one line, printable, bounded,
    fenced with more backticks than it contains, pipes escaped for the table."""
    text = _one_line(text)
    if not text:
        return ""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def plain(text: str) -> str:
    """Text outside a code span: HTML and Markdown punctuation neutralised as entities."""
    return "".join(_ENTITIES.get(ch, ch) for ch in _one_line(text))


_ENTITIES = {ch: f"&#{ord(ch)};" for ch in "&<>\"'|\\`*_[]()!#~:"}


def _one_line(text: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _fit(text: str, budget: int) -> str:
    """A last guard: never exceed the budget, even with an absurdly small one."""
    data = text.encode()
    if len(data) <= budget:
        return text
    return data[: max(0, budget)].decode("utf-8", "ignore")
