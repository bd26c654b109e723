"""Every report format: shape, redaction, escaping, and round trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from scanner.models import ScanResult
from scanner.report import FORMATS, reporter
from scanner.report.base import ReportOptions
from scanner.report.github import escape_data, escape_property
from scanner.report.json import load_report, merge_results

SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json").read_text())


def render(result: ScanResult, fmt: str, **options: object) -> str:
    out = io.StringIO()
    reporter(fmt)(result, out, ReportOptions(**options))  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_secret_unless_asked(result, fmt):
    text = render(result, fmt)
    for f in result.findings:
        assert f.secret not in text
        body = f.secret.splitlines()[1] if f.kind == "private-key" else f.secret[4:]
        assert body not in text
    shown = render(result, fmt, show_secrets=True)
    if fmt != "github":
        assert all(f.secret.splitlines()[-1] in shown or f.secret in shown for f in result.findings)


def test_json_report_has_the_interface_fields(result):
    doc = json.loads(render(result, "json"))
    assert doc["version"] == 1 and doc["tool"]["name"] == "leakstop"
    required = {
        "rule_id",
        "kind",
        "provider",
        "source",
        "path",
        "line",
        "column",
        "commit",
        "author",
        "date",
        "refs",
        "secret",
        "client_id",
        "encrypted",
        "fingerprint",
        "verdict",
        "verdict_reason",
        "owner",
    }
    for finding in doc["findings"]:
        assert required <= finding.keys()
    assert set(doc["summary"]) >= {
        "findings",
        "blobs_scanned",
        "bytes_scanned",
        "errors",
        "seconds",
    }
    live = next(f for f in doc["findings"] if f["verdict"] == "live")
    assert live["owner"] == "team-orders"


def test_jsonl_is_one_finding_per_line(result):
    lines = render(result, "jsonl").splitlines()
    assert [json.loads(line)["fingerprint"] for line in lines] == [
        f.fingerprint for f in result.findings
    ]


def test_json_round_trips_through_load_and_merge(result, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(render(result, "json"))
    loaded = load_report(path)
    assert [f.fingerprint for f in loaded.findings] == [f.fingerprint for f in result.findings]
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(render(result, "jsonl"))
    merged = merge_results([loaded, load_report(jsonl)])
    assert len(merged.findings) == len(result.findings)


def test_sarif_is_schema_valid_and_github_ready(result):
    log = json.loads(render(result, "sarif"))
    jsonschema.validate(log, SCHEMA)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for res in run["results"]:
        rule = rules[res["ruleId"]]
        assert float(rule["properties"]["security-severity"]) > 0
        assert res["partialFingerprints"]
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1


def test_empty_sarif_is_valid(result):
    empty = ScanResult(findings=(), summary=result.summary)
    jsonschema.validate(json.loads(render(empty, "sarif")), SCHEMA)


def test_github_annotations_escape_scanned_names(result):
    lines = render(result, "github").splitlines()
    assert len(lines) == len(result.findings)
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    weird = next(line for line in lines if "weird" in line)
    assert "file=weird%2Cname%3Ax%25.env" in weird


def test_workflow_command_escaping():
    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert escape_property("x:y,z") == "x%3Ay%2Cz"
    assert "\n" not in escape_data("line\n::add-mask::x")


def test_text_report_without_color_has_no_escape_codes(result):
    text = render(result, "text")
    assert "\x1b[" not in text
    assert "settings.py:2:18" in text and "[live]" in text and "owner: team-orders" in text
    assert "\x1b[" in render(result, "text", color=True)
