"""JSON and JSONL reports (the contract in INTERFACE.md), and reading them back for
``baseline``, ``verify``, ``revoke`` and ``merge``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from scanner import __version__
from scanner.errors import ReportError
from scanner.models import (
    KINDS,
    VERDICTS,
    Finding,
    Origin,
    ScanResult,
    Skipped,
    Summary,
)
from scanner.redact import shown
from scanner.report.base import ReportOptions

REPORT_VERSION = 1


def write_json(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    json.dump(report_dict(result, options), out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_jsonl(result: ScanResult, out: TextIO, options: ReportOptions) -> None:
    for finding in result.findings:
        out.write(json.dumps(finding_dict(finding, options), ensure_ascii=False))
        out.write("\n")


def report_dict(result: ScanResult, options: ReportOptions) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "leakstop", "version": __version__},
        "findings": [finding_dict(f, options) for f in result.findings],
        "summary": summary_dict(result.summary),
    }


def finding_dict(f: Finding, options: ReportOptions) -> dict[str, Any]:
    o = f.origin
    return {
        "rule_id": f.rule_id,
        "kind": f.kind,
        "provider": f.provider,
        "source": o.source,
        "path": o.path,
        "line": f.line,
        "column": f.column,
        "commit": o.commit,
        "author": o.author,
        "date": o.date,
        "refs": list(o.refs),
        "repository": o.repository,
        "secret": shown(f.secret, f.kind, options.show_secrets),
        "client_id": f.client_id,
        "encrypted": f.encrypted,
        "fingerprint": f.fingerprint,
        "verdict": f.verdict,
        "verdict_reason": f.verdict_reason,
        "owner": f.owner,
        "severity": f.severity,
        "confidence": f.confidence,
        "attributes": dict(f.attributes),
        "root": o.root,
        "blob_id": o.blob_id,
        "layer": o.layer,
        "note": o.note,
    }


def summary_dict(s: Summary) -> dict[str, Any]:
    return {
        "findings": s.findings,
        "blobs_scanned": s.blobs_scanned,
        "bytes_scanned": s.bytes_scanned,
        "errors": list(s.errors),
        "skipped": [{"location": k.location, "reason": k.reason} for k in s.skipped],
        "dropped": dict(s.dropped),
        "seconds": round(s.seconds, 3),
    }


def load_report(path: Path) -> ScanResult:
    """Read a JSON report (or a JSONL file of findings) written by leakstop. Secrets come back
    as they were written: redacted unless the report was made with ``--show-secrets``."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read report: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a leakstop report (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    try:
        if isinstance(data, dict) and "findings" in data:
            raw_findings = data["findings"]
            summary = _summary_from(data.get("summary") or {})
        else:  # JSONL: one finding per line
            raw_findings = [json.loads(line) for line in text.splitlines() if line.strip()]
            summary = Summary(findings=len(raw_findings))
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: not a leakstop report: {_reason(exc)}") from None
    if not isinstance(raw_findings, list):
        raise ReportError(f"{path}: not a leakstop report: no findings list")
    findings = tuple(
        finding_from_dict(d, f"{path}: finding {i + 1}") for i, d in enumerate(raw_findings)
    )
    return ScanResult(findings=findings, summary=summary)


def finding_from_dict(d: Any, where: str) -> Finding:
    if not isinstance(d, Mapping):
        raise ReportError(f"{where}: not an object")
    try:
        kind = d["kind"]
        verdict = d.get("verdict") or "not_checked"
        if kind not in KINDS or verdict not in VERDICTS:
            raise ReportError(f"{where}: unknown kind or verdict")
        origin = Origin(
            source=d["source"],
            path=d.get("path"),
            root=d.get("root"),
            commit=d.get("commit"),
            author=d.get("author"),
            date=d.get("date"),
            refs=tuple(d.get("refs") or ()),
            repository=d.get("repository"),
            blob_id=d.get("blob_id"),
            layer=d.get("layer"),
            note=d.get("note"),
        )
        return Finding(
            rule_id=d["rule_id"],
            kind=kind,
            provider=d.get("provider") or "generic",
            origin=origin,
            line=int(d.get("line") or 0),
            column=int(d.get("column") or 0),
            secret=d.get("secret") or "",
            fingerprint=d["fingerprint"],
            severity=d.get("severity") or "high",
            client_id=d.get("client_id"),
            encrypted=bool(d.get("encrypted")),
            confidence=d.get("confidence") or "high",
            attributes=tuple(
                sorted((str(k), str(v)) for k, v in (d.get("attributes") or {}).items())
            ),
            verdict=verdict,  # type: ignore[arg-type]
            verdict_reason=d.get("verdict_reason"),
            owner=d.get("owner"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{where}: malformed finding ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    """Why a report could not be read, never quoting it: a report made with --show-secrets
    holds plaintext, and ``int('<a secret>')`` would put it in the message."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r} field" if isinstance(exc.args[0], str) else "a field is missing"
    return "a field has the wrong type or value"


def merge_results(results: Iterable[ScanResult]) -> ScanResult:
    """One report from many (e.g. shards): findings deduplicated by location and fingerprint,
    summaries added up."""
    seen: dict[tuple[Any, ...], Finding] = {}
    blobs = size = 0
    seconds = 0.0
    errors: list[str] = []
    skipped: list[Skipped] = []
    dropped: dict[str, int] = {}
    for r in results:
        for f in r.findings:
            seen.setdefault(f.sort_key(), f)
        blobs += r.summary.blobs_scanned
        size += r.summary.bytes_scanned
        seconds = max(seconds, r.summary.seconds)
        errors.extend(r.summary.errors)
        skipped.extend(r.summary.skipped)
        for name, n in r.summary.dropped:
            dropped[name] = dropped.get(name, 0) + n
    findings = tuple(sorted(seen.values(), key=Finding.sort_key))
    return ScanResult(
        findings=findings,
        summary=Summary(
            findings=len(findings),
            blobs_scanned=blobs,
            bytes_scanned=size,
            errors=tuple(errors),
            skipped=tuple(skipped),
            dropped=tuple(sorted(dropped.items())),
            seconds=seconds,
        ),
    )


def _summary_from(d: Mapping[str, Any]) -> Summary:
    return Summary(
        findings=int(d.get("findings", 0)),
        blobs_scanned=int(d.get("blobs_scanned", 0)),
        bytes_scanned=int(d.get("bytes_scanned", 0)),
        errors=tuple(str(e) for e in d.get("errors", ())),
        skipped=tuple(
            Skipped(location=str(s.get("location")), reason=str(s.get("reason")))
            for s in d.get("skipped", ())
            if isinstance(s, Mapping)
        ),
        dropped=tuple(sorted((str(k), int(v)) for k, v in (d.get("dropped") or {}).items())),
        seconds=float(d.get("seconds", 0.0)),
    )
