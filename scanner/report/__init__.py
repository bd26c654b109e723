"""Reporters: turn a ScanResult into text, JSON, JSONL, SARIF or GitHub annotations."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from scanner.models import ScanResult
from scanner.report.base import ReportOptions

Reporter = Callable[[ScanResult, TextIO, ReportOptions], None]
FORMATS = ("text", "json", "jsonl", "sarif", "github")


def reporter(fmt: str) -> Reporter:
    """The writer for a format name (imported lazily: most runs need one)."""
    if fmt == "text":
        from scanner.report.text import write_text

        return write_text
    if fmt == "json":
        from scanner.report.json import write_json

        return write_json
    if fmt == "jsonl":
        from scanner.report.json import write_jsonl

        return write_jsonl
    if fmt == "sarif":
        from scanner.report.sarif import write_sarif

        return write_sarif
    if fmt == "github":
        from scanner.report.github import write_annotations

        return write_annotations
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
