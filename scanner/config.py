"""Everything a run needs to know, passed explicitly (no global settings)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ArchiveLimits:
    """Safe defaults for opening untrusted archives; each is a CLI flag."""

    max_depth: int = 5
    """Nesting levels of containers opened; 0 opens none."""
    max_members: int = 100_000
    """Members read from any one archive."""
    max_expanded_bytes: int = 1 << 30
    """Bytes decompressed or extracted per top-level artifact, all levels together."""
    max_ratio: int = 200
    """A member may expand to at most this many times its compressed size (0: no check);
    output under 1 MiB always passes."""
    max_seconds: float = 120.0
    """Time spent on one top-level artifact, scanning its members included."""
    max_member_bytes: int = 256 << 20
    """Largest single member read (the CLI uses ``--max-file-size``)."""


@dataclass(frozen=True)
class Config:
    """Options of a scan. Build one and pass it to ``scanner.scan``."""

    ruleset: str = "default"
    rules_dir: Path | None = None
    history: bool = True
    commit_range: str | None = None
    staged: bool = False
    baseline: Path | None = None
    auto_baseline: bool = True
    """Without ``baseline``, use ``.leakstop-baseline.json`` at the root of a scanned directory
    when there is one (as a repository keeps its accepted findings next to its code)."""
    show_secrets: bool = False
    jobs: int = 0
    """Worker processes; 0 means one per core."""
    max_file_size: int = 256 << 20
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)
    progress: bool = False
    explain: bool = False
    """Keep the candidates that filters dropped, for ``--explain``."""

    @property
    def effective_jobs(self) -> int:
        return self.jobs if self.jobs > 0 else max(1, os.cpu_count() or 1)
