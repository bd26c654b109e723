"""leakstop: find leaked OAuth client credentials and private keys, verify them, revoke them.

``scanner.scan(paths, Config(...))`` does what ``leakstop scan`` does."""

from __future__ import annotations

__version__ = "0.1.0"

from scanner.api import scan
from scanner.config import ArchiveLimits, Config
from scanner.models import Blob, Finding, Origin, ScanResult, Summary, Verdict

__all__ = [
    "ArchiveLimits",
    "Blob",
    "Config",
    "Finding",
    "Origin",
    "ScanResult",
    "Summary",
    "Verdict",
    "__version__",
    "scan",
]
