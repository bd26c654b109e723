"""Baselines: accepted findings, stored as fingerprints only (never a secret), with a note of
how the baseline was made."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from pathlib import Path

from scanner import __version__
from scanner.errors import ConfigError
from scanner.models import Finding

BASELINE_VERSION = 1


def write_baseline(findings: Iterable[Finding], path: Path, ruleset: str = "default") -> int:
    """Write a baseline listing each distinct fingerprint once; returns how many."""
    entries: dict[str, str] = {}
    for f in findings:
        entries.setdefault(f.fingerprint, f.rule_id)
    doc = {
        "version": BASELINE_VERSION,
        "tool": {"name": "leakstop", "version": __version__},
        "ruleset": ruleset,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "fingerprints": [
            {"fingerprint": fp, "rule_id": rid} for fp, rid in sorted(entries.items())
        ],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    return len(entries)


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline accepts. A missing or malformed file is a ConfigError."""
    try:
        doc = json.loads(path.read_text("utf-8"))
        entries = doc["fingerprints"]
        return frozenset(str(e["fingerprint"]) if isinstance(e, dict) else str(e) for e in entries)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{path}: not a leakstop baseline (expected a 'fingerprints' list)"
        ) from None
