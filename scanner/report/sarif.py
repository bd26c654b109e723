"""SARIF 2.1.0 that GitHub code scanning accepts: rules with ``security-severity``, results with
``partialFingerprints`` and a relative location with a start line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import quote

from scanner import __version__
from scanner.models import Finding, ScanResult
from scanner.redact import shown
from scanner.report.base import ReportOptions
from scanner.rules import Rule, default_rules_dir, load_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/leakstop/leakstop"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def write_sarif(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    json.dump(sarif_log(result, options), out, indent=2, ensure_ascii=False)
    out.write("\n")


def sarif_log(result: ScanResult, options: ReportOptions) -> dict[str, Any]:
    known: Mapping[str, Any] = options.rules or _builtin_rules()
    rule_ids = sorted({f.rule_id for f in result.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "leakstop",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_descriptor(rid, known.get(rid), result) for rid in rule_ids],
                    }
                },
                "results": [_result(f, index[f.rule_id], options) for f in result.findings],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "warning", "message": {"text": e}}
                            for e in result.summary.errors
                        ],
                    }
                ],
            }
        ],
    }


def _descriptor(rule_id: str, rule: Rule | None, result: ScanResult) -> dict[str, Any]:
    severity = (
        rule.severity
        if rule
        else next((f.severity for f in result.findings if f.rule_id == rule_id), "high")
    )
    name = rule.name if rule else rule_id
    kind = rule.kind if rule else "secret"
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": name},
        "fullDescription": {
            "text": (
                rule.description if rule and rule.description else f"A hardcoded {kind}: {name}."
            )
        },
        "help": {
            "text": "Revoke or rotate the credential at its provider, then remove it from the "
            "code and history. A rotated credential is the only real fix: history is public.",
        },
        "defaultConfiguration": {"level": LEVEL.get(severity, "error")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(severity, "8.0"),
            "tags": ["security", "secret", kind],
            "precision": "high",
        },
    }
    if rule and rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def _result(f: Finding, rule_index: int, options: ReportOptions) -> dict[str, Any]:
    o = f.origin
    text = f"{f.kind} ({f.provider}): {shown(f.secret, f.kind, options.show_secrets)}"
    if f.client_id:
        text += f" for client {f.client_id}"
    if o.commit:
        text += f", introduced in commit {o.commit[:12]}"
    if "!" in (o.path or ""):
        text += f", inside {o.path}"
    if f.verdict != "not_checked":
        text += f"; verdict {f.verdict}" + (f" ({f.verdict_reason})" if f.verdict_reason else "")
    if f.owner:
        text += f"; owner {f.owner}"
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL.get(f.severity, "error"),
        "message": {"text": text},
        "partialFingerprints": {"leakstopFingerprint/v1": f.fingerprint},
        "properties": {
            "verdict": f.verdict,
            "kind": f.kind,
            "provider": f.provider,
            "confidence": f.confidence,
            **({"commit": o.commit} if o.commit else {}),
            **({"repository": o.repository} if o.repository else {}),
            **({"location": o.path} if o.path else {}),
        },
    }
    if o.source == "commit-message" or not o.path:
        result["locations"] = [
            {
                "logicalLocations": [
                    {"name": f"commit {o.commit or o.blob_id or '?'}", "kind": "module"}
                ]
            }
        ]
    else:
        outer = o.path.split("!", 1)[0]
        region = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
        if "!" in o.path:
            region = {"startLine": 1}  # the line is inside an archive member, not the file
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": quote(outer, safe="/._-~"),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": region,
                }
            }
        ]
    return result


def _builtin_rules() -> Mapping[str, Rule]:
    try:
        return {r.id: r for r in load_rules(default_rules_dir())}
    except Exception:  # metadata is a nicety; a report must still be written
        return {}
