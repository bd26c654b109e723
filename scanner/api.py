"""The library entry point: ``scanner.scan(paths, config) -> ScanResult``. The CLI is a thin
layer over this."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.config import Config
from scanner.errors import SourceError
from scanner.models import Finding, ScanResult, Summary
from scanner.pipeline import EngineSpec, Outcome, Task, run_tasks
from scanner.progress import Progress
from scanner.rules import load_ruleset
from scanner.sources import expander, tree
from scanner.sources.base import Problems
from scanner.sources.gitrepo import repository_at

if TYPE_CHECKING:
    from scanner.sources.provenance import HistoryMetadata


def scan(paths: Sequence[str | os.PathLike[str]], config: Config | None = None) -> ScanResult:
    """Scan files, directories and repositories; problems with single items become
    ``summary.errors``. Raises a LeakstopError subclass when the run cannot start (missing
    path, bad rules, unreadable baseline)."""
    config = config or Config()
    started = time.monotonic()
    load_ruleset(config.ruleset, config.rules_dir)  # fail fast on bad rules, before any work
    roots = [os.fspath(p) for p in paths]
    for root in roots:
        check_path(root)
    accepted: frozenset[str] = frozenset()
    if baseline_files := baselines(roots, config):
        from scanner.baseline import load_baseline  # json and dates: only with a baseline

        accepted = accepted.union(*(load_baseline(p) for p in baseline_files))
    spec = EngineSpec(
        ruleset=config.ruleset,
        rules_dir=config.rules_dir,
        baseline=accepted,
        explain=config.explain,
        archives=config.archives,
    )
    problems = Problems()
    progress = Progress.for_terminal(config.progress)
    prefetched: dict[str, HistoryMetadata] = {}
    try:
        outcome = run_tasks(
            _tasks(roots, config, problems, progress, prefetched),
            spec,
            jobs=config.effective_jobs,
            expansion=expander.EXPANSION,
            progress=progress,
        )
        if progress:
            progress.finish()
        if any(f.origin.source != "file" for f in outcome.findings):  # only git has provenance
            from scanner.sources import provenance  # loaded only when a repository was scanned

            outcome.findings = provenance.attach_provenance(
                outcome.findings, problems, config.effective_jobs, prefetched
            )
    finally:
        for metadata in prefetched.values():
            metadata.close()
    outcome.errors[:0] = problems.errors
    outcome.skipped[:0] = problems.skipped
    return result_from(outcome, time.monotonic() - started)


def result_from(outcome: Outcome, seconds: float) -> ScanResult:
    """Sorted, deduplicated findings and the summary of one run."""
    unique: dict[tuple[object, ...], Finding] = {}
    for f in outcome.findings:
        unique.setdefault(f.sort_key(), f)
    findings = tuple(sorted(unique.values(), key=Finding.sort_key))
    return ScanResult(
        findings=findings,
        summary=Summary(
            findings=len(findings),
            blobs_scanned=outcome.blobs,
            bytes_scanned=outcome.bytes,
            errors=tuple(outcome.errors),
            skipped=tuple(outcome.skipped),
            dropped=tuple(sorted(outcome.dropped.items())),
            seconds=seconds,
        ),
        explained=tuple(sorted(outcome.explained, key=lambda item: item[1].sort_key())),
    )


def _tasks(
    roots: Sequence[str],
    config: Config,
    problems: Problems,
    progress: Progress | None,
    prefetched: dict[str, HistoryMetadata] | None = None,
) -> Iterator[Task]:
    for root in roots:
        yield from plan(root, config, problems, progress, prefetched)


BASELINE_FILE = ".leakstop-baseline.json"


def baselines(roots: Sequence[str], config: Config) -> list[Path]:
    """The baseline the user named, else each scanned directory's own baseline file."""
    if config.baseline is not None:
        return [config.baseline]
    if not config.auto_baseline:
        return []
    found = [Path(root) / BASELINE_FILE for root in roots if os.path.isdir(root)]
    return [path for path in found if path.is_file()]


def check_path(root: str) -> None:
    """Raise SourceError, with the real reason, when a PATH argument cannot be used at all."""
    try:
        os.lstat(root)
    except FileNotFoundError:
        raise SourceError(f"{root}: no such file or directory") from None
    except OSError as exc:
        raise SourceError(f"{root}: cannot access: {exc.strerror or exc}") from None


def plan(
    root: str,
    config: Config,
    problems: Problems,
    progress: Progress | None = None,
    prefetched: dict[str, HistoryMetadata] | None = None,
) -> Iterator[Task]:
    """The tasks that scan one PATH argument: a repository's history (or a range of it, or
    its index) plus its work tree's changes; otherwise the files under it. For a whole
    history, the metadata provenance will need starts loading into ``prefetched`` now, so
    git reads it while the objects are scanned."""
    repo = repository_at(root, config, problems)
    if repo is not None:
        from scanner.sources import git  # the history planner: only repositories need it

        whole_history = not (config.staged or config.commit_range)
        if prefetched is not None and whole_history and root not in prefetched:
            from scanner.sources.provenance import HistoryMetadata

            prefetched[root] = HistoryMetadata(repo, problems)
        yield from git.plan(repo, config, problems, progress)
        return
    yield from tree.walk(root, problems, config.max_file_size)
