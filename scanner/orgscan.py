"""``leakstop scan-org``: every repository of an organisation (this shard's part of them),
cloned bare into a cache, scanned as history N at a time, and only what is new since the last
run unless ``full``. Findings carry ``repository`` and paths relative to that repository.

``scan_org`` does the scanning; the new tips it returns are recorded in the state file by
``record`` only after the caller has written the report, so an interrupted run never marks
as scanned anything whose findings were not reported."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from scanner import __version__
from scanner.child import ChildScan
from scanner.errors import LeakstopError
from scanner.models import ScanResult, Summary
from scanner.orgstate import OrgState, Plan, Scanned, plan_ranges
from scanner.report.json import merge_results
from scanner.sources.github import (
    DEFAULT_API_URL,
    BareCache,
    Repository,
    Shard,
    commits_between,
    has_commit,
    list_repositories,
    ref_tips,
)

# Scans one repository path, whole (None) or one commit range.
RepoScanner = Callable[[Path, str | None], ScanResult]


@dataclass(frozen=True)
class OrgScanOptions:
    org: str
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    cache_dir: Path = Path(".leakstop-cache")
    state_path: Path | None = None
    """Defaults to ``cache_dir/scan-org-state.sqlite3``."""
    shard: Shard = field(default_factory=Shard)
    include_forks: bool = False
    include_archived: bool = False
    full: bool = False
    concurrency: int = 4
    """Repositories cloned and scanned at once."""
    profile: str = ""
    """What the scan's results depend on (see ``scan_profile``); a change means a rescan."""
    seconds_between_requests: float | None = 0.25

    @property
    def state_file(self) -> Path:
        return self.state_path or self.cache_dir / "scan-org-state.sqlite3"


@dataclass(frozen=True)
class RepoOutcome:
    """One repository's part of the run."""

    repository: Repository
    plan: Plan | None = None
    tips: dict[str, str] | None = None
    result: ScanResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class OrgScan:
    result: ScanResult
    outcomes: tuple[RepoOutcome, ...]
    listed: int
    """Repositories the API listed after forks/archived were dropped, before sharding."""


def scan_profile(ruleset: str, rules_dir: Path | None) -> str:
    """leakstop's version, the ruleset and a hash of any extra rule files."""
    digest = hashlib.sha256()
    if rules_dir is not None and rules_dir.is_dir():
        for path in sorted(rules_dir.rglob("*.toml")):
            digest.update(path.relative_to(rules_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    extra = digest.hexdigest()[:16] if rules_dir is not None else "-"
    return f"leakstop {__version__}; ruleset {ruleset}; rules {extra}"


def scan_org(
    options: OrgScanOptions,
    *,
    scan_repo: RepoScanner | None = None,
    on_done: Callable[[RepoOutcome], None] | None = None,
) -> OrgScan:
    """List, shard, sync and scan. Problems with one repository (a failed clone, a scan
    error) become ``summary.errors`` and leave its recorded state untouched."""
    if options.concurrency < 1:
        raise LeakstopError("--concurrency must be at least 1")
    scan_repo = scan_repo or ChildScan()
    listed = list_repositories(
        options.org,
        options.token,
        api_url=options.api_url,
        include_forks=options.include_forks,
        include_archived=options.include_archived,
        seconds_between_requests=options.seconds_between_requests,
    )
    mine = [r for r in listed if options.shard.holds(r.full_name)]
    cache = BareCache(options.cache_dir / "repos", options.token)
    with OrgState(options.state_file) as state:
        previous = {r.full_name: state.scanned(options.api_url, r.full_name) for r in mine}

    def one(repo: Repository) -> RepoOutcome:
        outcome = _scan_repository(repo, cache, previous[repo.full_name], options, scan_repo)
        if on_done:
            on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        outcomes = tuple(pool.map(one, mine))
    return OrgScan(result=_combine(outcomes), outcomes=outcomes, listed=len(listed))


def record(options: OrgScanOptions, scan: OrgScan) -> int:
    """Remember the tips of every repository scanned without error; returns how many."""
    count = 0
    with OrgState(options.state_file) as state:
        for o in scan.outcomes:
            if o.error is None and o.tips is not None:
                state.record(options.api_url, o.repository.full_name, o.tips, options.profile)
                count += 1
    return count


def _scan_repository(
    repo: Repository,
    cache: BareCache,
    previous: Scanned | None,
    options: OrgScanOptions,
    scan_repo: RepoScanner,
) -> RepoOutcome:
    try:
        git_dir = cache.sync(repo)
        tips = ref_tips(git_dir)
        plan = plan_ranges(
            previous,
            tips,
            profile=options.profile,
            full=options.full,
            default_ref=f"refs/heads/{repo.default_branch}" if repo.default_branch else None,
            has_commit=lambda sha: has_commit(git_dir, sha),
            distance=lambda base, tip: commits_between(git_dir, base, tip),
        )
        if not tips:
            results: list[ScanResult] = []  # an empty repository
        elif plan.full:
            results = [scan_repo(git_dir, None)]
        else:
            results = [scan_repo(git_dir, r) for r in plan.ranges]
    except LeakstopError as exc:
        return RepoOutcome(repository=repo, error=f"{repo.full_name}: {exc}")
    return RepoOutcome(
        repository=repo,
        plan=plan,
        tips=tips,
        result=_attributed(merge_results(results), repo.full_name),
    )


def _attributed(result: ScanResult, full_name: str) -> ScanResult:
    """Findings say which repository they are in; warnings too."""
    findings = tuple(
        replace(f, origin=replace(f.origin, repository=full_name)) for f in result.findings
    )
    summary = replace(
        result.summary, errors=tuple(f"{full_name}: {e}" for e in result.summary.errors)
    )
    return ScanResult(findings=findings, summary=summary)


def _combine(outcomes: Iterable[RepoOutcome]) -> ScanResult:
    results: list[ScanResult] = []
    for o in outcomes:
        if o.result is not None:
            results.append(o.result)
        if o.error is not None:
            results.append(ScanResult(findings=(), summary=Summary(errors=(o.error,))))
    return merge_results(results)
