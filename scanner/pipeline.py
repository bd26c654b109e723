"""Run scan tasks through the engine, in worker processes, and merge what they find.

A task is a picklable unit that yields blobs inside the worker (a batch of files to read, a
batch of git objects to stream), so content never crosses a process boundary; only findings
come back. Results are merged in task order and sorted, so output is identical for any
``--jobs``.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scanner.config import ArchiveLimits
from scanner.engine import Engine
from scanner.filters import DEFAULT_FILTERS, baseline_filter
from scanner.models import Blob, Finding, Skipped
from scanner.progress import Progress
from scanner.rules import load_ruleset
from scanner.sources.base import Problems

# Below this much content a scan runs without a worker pool: starting and feeding one costs
# more than it saves.
POOL_MIN_BYTES = 48 << 20
# From this much content up to POOL_MIN_BYTES, one forked child takes every other task (Linux:
# fork is cheap there and safe without a pool's machinery); below it, one process does all.
SPLIT_MIN_BYTES = 4 << 20
# The task numbers go into a pipe before the fork: they must fit its buffer (64 KiB on Linux).
MAX_SPLIT_TASKS = 8192


class Task(Protocol):
    """A unit of work a worker can do on its own."""

    def blobs(self, problems: Problems) -> Iterator[Blob]: ...


def _as_is(_blob: Blob, _limits: ArchiveLimits, _problems: Problems) -> None:
    return None


def _nothing(_blob: Blob, _limits: ArchiveLimits, _problems: Problems) -> Iterable[Blob]:
    return ()


@dataclass(frozen=True)
class Expansion:
    """How a worker turns one blob into what the engine reads (``sources.expander`` has the
    real one: archive members, keystores, inline source maps).

    ``expand`` returns the blob's forms, or None for plain text, which the engine reads as it
    is while also looking for ``markers``; only a blob with a marker goes to ``embedded`` for
    the content it carries. So the common case, source text, is read in one pass."""

    expand: Callable[[Blob, ArchiveLimits, Problems], Iterable[Blob] | None] = _as_is
    embedded: Callable[[Blob, ArchiveLimits, Problems], Iterable[Blob]] = _nothing
    markers: tuple[bytes, ...] = ()


NO_EXPANSION = Expansion()
"""Every blob is read as it is (archive scanning off, tests)."""


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker needs to build its own engine (picklable)."""

    ruleset: str = "default"
    rules_dir: Path | None = None
    baseline: frozenset[str] = frozenset()
    explain: bool = False
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)

    def build(self, markers: tuple[bytes, ...] = ()) -> Engine:
        filters = DEFAULT_FILTERS
        if self.baseline:
            filters = (*filters, baseline_filter(self.baseline))
        ruleset = load_ruleset(self.ruleset, self.rules_dir)
        return Engine(ruleset, filters, explain=self.explain, markers=markers)


@dataclass
class Outcome:
    """What a batch of tasks produced; outcomes add up."""

    findings: list[Finding] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    explained: list[tuple[str, Finding]] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.findings.extend(other.findings)
        self.blobs += other.blobs
        self.bytes += other.bytes
        self.errors.extend(other.errors)
        self.skipped.extend(other.skipped)
        self.dropped.update(other.dropped)
        self.explained.extend(other.explained)


def run_tasks(
    tasks: Iterable[Task],
    spec: EngineSpec,
    *,
    jobs: int = 1,
    expansion: Expansion = NO_EXPANSION,
    progress: Progress | None = None,
) -> Outcome:
    """Scan every task's blobs; ``jobs`` > 1 spreads tasks over worker processes. Below
    POOL_MIN_BYTES of input a pool costs more than it saves (measured: 25 MB of source scans
    no faster with one), so there this process and, on Linux, one forked child share the work."""
    total = Outcome()
    pending = iter(tasks)
    first: list[Task] = []
    planned = 0
    while planned < POOL_MIN_BYTES and (task := next(pending, None)) is not None:
        first.append(task)
        planned += getattr(task, "size", POOL_MIN_BYTES)  # unknown size: assume large
    tasks = itertools.chain(first, pending)
    if jobs <= 1 or len(first) < 2 or planned < POOL_MIN_BYTES:
        engine = spec.build(expansion.markers)
        if 2 <= len(first) <= MAX_SPLIT_TASKS and jobs > 1 and planned >= SPLIT_MIN_BYTES:
            return _run_split(engine, first, spec.archives, expansion, progress)  # all tasks
        return _run_here(engine, tasks, spec.archives, expansion, progress)
    global _WORKER
    _WORKER = (spec.build(expansion.markers), spec.archives, expansion)  # inherited by forks
    import multiprocessing  # only a pool needs it: small scans never load it

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(spec, expansion)) as pool:
        for done in pool.imap(_run_in_worker, tasks, chunksize=1):
            total.add(done)
            if progress:
                progress.advance(done.blobs, done.bytes)
    _WORKER = None
    return total


def _run_here(
    engine: Engine,
    tasks: Iterable[Task],
    limits: ArchiveLimits,
    expansion: Expansion,
    progress: Progress | None,
) -> Outcome:
    total = Outcome()
    for task in tasks:
        done = _scan_task(engine, task, limits, expansion)
        total.add(done)
        if progress:
            progress.advance(done.blobs, done.bytes)
    return total


def _run_split(
    engine: Engine,
    tasks: list[Task],
    limits: ArchiveLimits,
    expansion: Expansion,
    progress: Progress | None,
) -> Outcome:
    """Scan ``tasks`` here and in one forked child. Each process claims the next task from a
    shared pipe of task numbers (Linux reads of 4 bytes from a pipe never interleave), so a
    process that meets slow first-use work (the first key loads ``cryptography``) simply
    claims fewer. The child sends its outcomes back pickled; all are merged in task order,
    so the result is one process's. If the child fails in any way, whatever it did not
    deliver is scanned here: nothing is lost."""
    import pickle

    if not sys.platform.startswith("linux"):  # the claims rely on Linux pipe reads
        return _run_here(engine, tasks, limits, expansion, progress)
    claims, unclaimed = os.pipe()
    os.write(unclaimed, b"".join(k.to_bytes(4, "big") for k in range(len(tasks))))
    os.close(unclaimed)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: scan, report, leave without running the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            outcomes = [
                (k, _scan_task(engine, tasks[k], limits, expansion)) for k in _claimed(claims)
            ]
            with os.fdopen(write_end, "wb") as out:
                pickle.dump(outcomes, out, pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    done: dict[int, Outcome] = {}
    with os.fdopen(read_end, "rb") as result:
        try:
            for k in _claimed(claims):
                done[k] = _scan_task(engine, tasks[k], limits, expansion)
                if progress:
                    progress.advance(done[k].blobs, done[k].bytes)
            data = result.read()
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            raise
        finally:
            os.close(claims)
            os.waitpid(pid, 0)
    try:
        received: list[tuple[int, Outcome]] = pickle.loads(data)  # noqa: S301 - our child's
    except Exception:  # the child died part way: its tasks are scanned below
        received = []
    for k, outcome in received:
        done[k] = outcome
        if progress:
            progress.advance(outcome.blobs, outcome.bytes)
    total = Outcome()
    for k, task in enumerate(tasks):
        total.add(done[k] if k in done else _scan_task(engine, task, limits, expansion))
    return total


def _claimed(claims: int) -> Iterator[int]:
    """Task numbers this process claims from the shared pipe, until none are left."""
    while len(claimed := os.read(claims, 4)) == 4:
        yield int.from_bytes(claimed, "big")


_WORKER: tuple[Engine, ArchiveLimits, Expansion] | None = None


def _init_worker(spec: EngineSpec, expansion: Expansion) -> None:
    global _WORKER
    if _WORKER is None:  # spawned, not forked: build the engine here, once per worker
        _WORKER = (spec.build(expansion.markers), spec.archives, expansion)


def _run_in_worker(task: Task) -> Outcome:
    assert _WORKER is not None
    engine, limits, expansion = _WORKER
    return _scan_task(engine, task, limits, expansion)


def _scan_task(engine: Engine, task: Task, limits: ArchiveLimits, expansion: Expansion) -> Outcome:
    out = Outcome()
    problems = Problems()
    for top in task.blobs(problems):
        forms = expansion.expand(top, limits, problems)
        if forms is not None:
            for blob in forms:
                _scan_blob(engine, blob, out)
        elif _scan_blob(engine, top, out):  # plain text with a marker
            for blob in expansion.embedded(top, limits, problems):
                _scan_blob(engine, blob, out)
    out.errors.extend(problems.errors)
    out.skipped.extend(problems.skipped)
    return out


def _scan_blob(engine: Engine, blob: Blob, out: Outcome) -> bool:
    """Scan one blob into ``out``; whether it has a marker."""
    out.blobs += 1
    out.bytes += len(blob.data)
    scanned = engine.scan(blob)
    if scanned.findings or scanned.dropped or scanned.errors:  # most blobs: nothing
        out.findings.extend(scanned.findings)
        out.errors.extend(scanned.errors)
        out.dropped.update(scanned.dropped)
        out.explained.extend(scanned.explained)
    return scanned.marked
