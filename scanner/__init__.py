"""leakstop: find leaked OAuth client credentials and private keys, verify them, revoke them.

``scanner.scan(paths, Config(...))`` does what ``leakstop scan`` does. Names are imported on
first use, so ``leakstop --version`` and small commands start fast."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "scan": "scanner.api",
    "ArchiveLimits": "scanner.config",
    "Config": "scanner.config",
    "Blob": "scanner.models",
    "Finding": "scanner.models",
    "Origin": "scanner.models",
    "ScanResult": "scanner.models",
    "Summary": "scanner.models",
    "Verdict": "scanner.models",
}

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scanner' has no attribute {name!r}")
