"""The Markdown job summary: a table that scanned names cannot break out of, counts by verdict,
and a cut below GitHub's 1 MiB step-summary limit with a note."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scanner.models import Finding, Origin, ScanResult, Summary
from scanner.report.summary import STEP_SUMMARY_LIMIT, code, plain, summary_markdown

markdown_it = pytest.importorskip("markdown_it")


def render(text: str) -> str:
    return str(markdown_it.MarkdownIt("commonmark").enable("table").render(text))


def finding(path: str, verdict: str = "not_checked", repository: str | None = None) -> Finding:
    return Finding(
        rule_id="google-oauth-client-secret",
        kind="client-secret",
        provider="google",
        origin=Origin(source="git", path=path, commit="b" * 40, repository=repository),
        line=3,
        column=1,
        secret="GOCS…redacted…",
        fingerprint="google-oauth-client-secret:" + path,
        verdict=verdict,  # type: ignore[arg-type]
    )


def table_rows(html: str) -> int:
    """Body rows of the findings table (the last table; the first counts verdicts)."""
    return html.split("<table>")[-1].count("<tr>") - 1


def test_hostile_names_stay_inside_their_cell():
    names = [
        "a|b.py",
        "``tick`.py",
        "<img src=x onerror=alert(1)>.py",
        "[click](https://evil.example)",
        "line\nbreak\r.py",
        "**bold** _it_ ~~s~~ \u202eevil.py",
    ]
    text = summary_markdown(ScanResult(tuple(finding(n) for n in names), Summary()))
    html = render(text)
    assert table_rows(html) == len(names)
    table = html.split("<table>")[-1]
    assert table.count("<td>") == len(names) * 5  # every row has exactly its five cells
    assert "<img" not in table and "<a " not in table and "<strong>" not in table
    assert "\u202e" not in text


def test_counts_by_verdict_and_a_repository_column_for_org_scans():
    found = (
        finding("a.py", "live", "acme/app"),
        finding("b.py", "live", "acme/lib"),
        finding("c.py", "dead", "acme/lib"),
    )
    text = summary_markdown(ScanResult(found, Summary()), scope="acme, shard 1/2")
    assert "**3 findings**" in text
    assert "| 🔴 live | 2 |" in text and "| dead | 1 |" in text
    assert "| repository | rule | file:line | commit | verdict | owner |" in text
    assert "acme, shard 1/2" in text


def test_cut_below_the_limit_with_a_note():
    many = tuple(finding(f"src/module_{i:06d}/" + "x" * 120 + ".py") for i in range(12_000))
    text = summary_markdown(ScanResult(many, Summary()), full_report="leakstop.sarif")
    size = len(text.encode())
    assert size < STEP_SUMMARY_LIMIT
    assert size > STEP_SUMMARY_LIMIT * 0.9  # used most of it
    shown = text.count("| `google-oauth-client-secret` |")
    assert 0 < shown < len(many)
    assert f"Showing {shown} of {len(many)} findings" in text
    assert "`leakstop.sarif`" in text
    assert table_rows(render(text)) == shown


def test_a_tiny_budget_is_still_respected():
    many = tuple(finding(f"f{i}.py") for i in range(50))
    for budget in (0, 10, 300, 2000):
        assert len(summary_markdown(ScanResult(many, Summary()), budget=budget).encode()) <= budget


def test_no_findings():
    text = summary_markdown(ScanResult((), Summary(errors=("x: unreadable",))))
    assert "**No findings.**" in text and "1 warning during the scan" in text


def test_commit_message_findings_have_no_path():
    f = replace(finding("x"), origin=Origin(source="commit-message", path=None, commit="c" * 40))
    assert "`commit message:3`" in summary_markdown(ScanResult((f,), Summary()))


def test_code_and_plain_escaping():
    assert code("a`b") == "``a`b``"
    assert code("`a") == "`` `a ``"
    assert code("") == ""
    assert plain("<b>|x") == "&#60;b&#62;&#124;x"
    assert len(code("x" * 1000)) < 210
