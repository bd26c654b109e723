"""Run scan tasks through the engine, in worker processes, and merge what they find.

A task is a picklable unit that yields blobs inside the worker (a batch of files to read, a
batch of git objects to stream), so content never crosses a process boundary; only findings
come back. Results are merged in task order and sorted, so output is identical for any
``--jobs``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scanner import forks
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
# From this much content up to POOL_MIN_BYTES, a partner process shares the tasks (Linux:
# fork is cheap there and safe without a pool's machinery); below it, one process does all.
SPLIT_MIN_BYTES = 4 << 20
# Task numbers offered to the partner wait in a pipe until it reads them, so they must fit its
# buffer (64 KiB on Linux), or listing would stall behind a partner still warming up.
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
    """Scan every task's blobs; ``jobs`` > 1 spreads tasks over processes.

    Below POOL_MIN_BYTES of input a worker pool costs more than it saves (measured: 25 MB of
    source scans no faster with one). There, on Linux, one partner process shares the work
    (see ``Partner``): it starts on the first tasks once SPLIT_MIN_BYTES are planned, while
    the rest are still being listed. Past POOL_MIN_BYTES, the tasks not yet offered to it go
    through a pool."""
    total = Outcome()
    pending = iter(tasks)
    first: list[Task] = []
    planned = 0
    ahead = _take_partner()
    partner: Partner | None = None
    can_split = jobs > 1 and sys.platform.startswith("linux")  # fork, memfd, pipe reads
    try:
        while planned < POOL_MIN_BYTES and (partner is None or len(first) < MAX_SPLIT_TASKS):
            if (task := next(pending, None)) is None:
                break
            first.append(task)
            planned += getattr(task, "size", POOL_MIN_BYTES)  # unknown size: assume large
            if partner is not None:
                partner.offer(task)
            elif can_split and len(first) >= 2 and SPLIT_MIN_BYTES <= planned < POOL_MIN_BYTES:
                partner, ahead = ahead or _new_partner(), None
                if partner is None:  # no process to spare: this one scans everything
                    can_split = False
                else:
                    partner.start(spec, expansion, first)
    except BaseException:  # listing failed or was interrupted: no partner outlives it
        for idle in (partner, ahead):
            if idle is not None:
                idle.kill()
        raise
    if ahead is not None:  # not needed: let it go before a pool forks (its workers would
        ahead.dismiss()  # hold the partner's pipes open)
    if partner is not None:
        total = _finish_split(spec, partner, first, expansion, progress)
        rest: Iterator[Task] = pending  # more than a split takes: the pool has the rest
    else:
        rest = itertools.chain(first, pending)
        if jobs <= 1 or len(first) < 2 or planned < POOL_MIN_BYTES:
            return _run_here(
                spec.build(expansion.markers), rest, spec.archives, expansion, progress
            )
    if (task := next(rest, None)) is None:
        return total
    rest = itertools.chain([task], rest)
    global _WORKER
    _WORKER = (spec.build(expansion.markers), spec.archives, expansion)  # inherited by forks
    import multiprocessing  # only a pool needs it: small scans never load it

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(spec, expansion)) as pool:
        for done in pool.imap(_run_in_worker, rest, chunksize=1):
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


def _finish_split(
    spec: EngineSpec,
    partner: Partner,
    tasks: list[Task],
    expansion: Expansion,
    progress: Progress | None,
) -> Outcome:
    """Scan ``tasks``, all offered to ``partner`` already, together with it: the partner
    takes them from the front as they were offered, this process from the back once
    listing is done, each task once (see ``Board``), until they meet. So the work balances
    itself (a process slowed by first-use work, such as the first key loading
    ``cryptography``, simply takes fewer), and a partner that started early or warmed up
    keeps the tasks it is best placed for. Outcomes are merged in task order: the result is
    one process's. Whatever the partner does not deliver, however it fails, is scanned here:
    nothing is lost."""
    engine = spec.build(expansion.markers)
    done: dict[int, Outcome] = {}
    try:
        partner.stop_offering()
        for k in range(len(tasks) - 1, -1, -1):
            if not partner.board.take(k):
                break  # the partner has this one, and every one before it
            done[k] = _scan_task(engine, tasks[k], spec.archives, expansion)
            if progress:
                progress.advance(done[k].blobs, done[k].bytes)
        received = partner.collect()
    except BaseException:
        partner.kill()
        raise
    for k, outcome in received:
        done[k] = outcome
        if progress:
            progress.advance(outcome.blobs, outcome.bytes)
    total = Outcome()
    for k, task in enumerate(tasks):
        total.add(done[k] if k in done else _scan_task(engine, task, spec.archives, expansion))
    return total


class Board:
    """Which tasks of a split are taken: one byte per task in memory both processes share,
    changed only under a POSIX record lock, which the kernel releases if its holder dies
    (a lock in a pipe or a semaphore would stay held by a partner that was killed)."""

    def __init__(self, size: int) -> None:
        import fcntl  # Linux only, as the split is
        import mmap

        self._lockf = fcntl.lockf
        self._lock, self._unlock = fcntl.LOCK_EX, fcntl.LOCK_UN
        try:
            self.fd = os.memfd_create("leakstop-split", os.MFD_CLOEXEC)
        except (AttributeError, OSError):  # an old kernel or C library: a deleted temp file
            import tempfile

            with tempfile.TemporaryFile() as backing:
                self.fd = os.dup(backing.fileno())
        os.ftruncate(self.fd, size)
        self._taken = mmap.mmap(self.fd, size)  # shared: a fork sees the same bytes

    def take(self, k: int) -> bool:
        """Mark task ``k`` taken; False if the other process had it already."""
        self._lockf(self.fd, self._lock)  # the whole file, from offset 0
        try:
            if self._taken[k]:
                return False
            self._taken[k] = 1
            return True
        finally:
            self._lockf(self.fd, self._unlock)

    def close(self) -> None:
        if not self._taken.closed:
            self._taken.close()
            os.close(self.fd)


class Partner:
    """The other process of a split scan (Linux). Forked when the split starts, or ahead of
    time by the scan helper (``fork_partner_ahead``), whose partner loads what a scan may
    need first (``warm``: cryptography) while the helper still waits for its request.

    Three pipes: the numbers of the tasks offered, in order; the job (the tasks themselves,
    pickled, so a partner forked before they were known can scan them); and the partner's
    outcomes. Who scans which task is settled on the ``board``."""

    def __init__(
        self, warm: Callable[[], object] | None = None, inherited: Sequence[int] = ()
    ) -> None:
        self.board = Board(MAX_SPLIT_TASKS)
        self.offers, self._offers_in = os.pipe()
        job_out, self._job_in = os.pipe()
        self._results, results_in = os.pipe()
        self._open = {self.offers, self._offers_in, self._job_in, self._results}
        self._stream: queue.SimpleQueue[object] | None = None  # the job writer's, once started
        try:
            self.pid = os.fork()
        except OSError:
            self.close()
            os.close(job_out)
            os.close(results_in)
            raise
        if self.pid == 0:  # the partner: never returns into the caller's code
            status = 1
            try:
                # ``inherited``: the caller's descriptors this process must not hold open
                # (a pipe whose reader waits for its end).
                for fd in (self._offers_in, self._job_in, self._results, *inherited):
                    os.close(fd)
                status = _partner_main(self.board, self.offers, job_out, results_in, warm)
            finally:
                os._exit(status)
        os.close(job_out)
        os.close(results_in)

    def start(self, spec: EngineSpec, expansion: Expansion, tasks: Sequence[Task]) -> None:
        """Send the job's header and offer ``tasks``. A thread writes the job: listing goes
        on while the partner still warms up, and the partner starts on what is offered."""
        import _thread

        self._stream = queue.SimpleQueue()
        self._offered = 0
        self._open.discard(self._job_in)  # the writer closes it
        self._written = _thread.allocate_lock()
        self._written.acquire()  # released by the writer when it is done
        _thread.start_new_thread(_write_stream, (self._job_in, self._stream, self._written))
        self._stream.put((spec, expansion))
        for task in tasks:
            self.offer(task)

    def offer(self, task: Task) -> None:
        """Offer the next task: its description goes to the partner's job, then its number
        (a partner that reads the number first waits for the description)."""
        assert self._stream is not None, "offer() before start()"
        self._stream.put(task)
        os.write(self._offers_in, self._offered.to_bytes(4, "big"))
        self._offered += 1

    def stop_offering(self) -> None:
        """No more tasks: the partner stops at the end of the numbers offered."""
        self._close(self._offers_in)
        if self._stream is not None:
            self._stream.put(None)

    def collect(self) -> list[tuple[int, Outcome]]:
        """The partner's outcomes, once it has ended; [] if it failed in any way."""
        try:
            received: list[tuple[int, Outcome]] | None = forks.read_frame(
                os.fdopen(self._results, "rb", closefd=False)
            )
        except Exception:  # it died part way: its tasks are scanned here
            received = None
        self.close()
        os.waitpid(self.pid, 0)
        # The writer ends once the partner has (a broken pipe at worst): wait for it, so no
        # thread is left running when a pool forks next.
        self._written.acquire()
        return received or []

    def dismiss(self) -> None:
        """Not needed after all. It has no work to lose, and may still be warming up: it is
        stopped at once, and reaped if it has gone (else the kernel's init reaps it when
        this process ends: waiting for its memory to be torn down costs ~2 ms)."""
        self.close()
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, os.WNOHANG)

    def kill(self) -> None:
        self.stop_offering()  # the job writer, if any, ends too
        self.close()
        forks.end_child(self.pid, kill=True)

    def close(self) -> None:
        for fd in list(self._open):
            self._close(fd)
        self.board.close()

    def _close(self, fd: int) -> None:
        if fd in self._open:
            self._open.discard(fd)
            os.close(fd)


_AHEAD: Partner | None = None


def fork_partner_ahead(
    warm: Callable[[], object] | None = None, inherited: Sequence[int] = ()
) -> None:
    """Fork the next split's partner now (the scan helper does, while it waits)."""
    global _AHEAD
    if _AHEAD is None and sys.platform.startswith("linux"):
        _AHEAD = Partner(warm, inherited)


def _new_partner() -> Partner | None:
    try:
        return Partner()
    except OSError:  # fork refused (a process limit), or no board: no split
        return None


def _take_partner() -> Partner | None:
    global _AHEAD
    partner, _AHEAD = _AHEAD, None
    return partner


def _partner_main(
    board: Board, offers: int, job: int, results: int, warm: Callable[[], object] | None
) -> int:
    """The partner: warm up, wait for the job (none: leave), take the tasks offered in order
    that the caller has not taken (it works from the back), scan them, answer."""

    if warm is not None:
        warm()
    with os.fdopen(job, "rb") as stream:
        header = forks.read_frame(stream)
        if header is None:  # dismissed, or the caller is gone
            return 0
        spec, expansion = header
        engine = spec.build(expansion.markers)
        tasks: list[Task] = []
        outcomes: list[tuple[int, Outcome]] = []
        for k in _offered(offers):
            while len(tasks) <= k:  # its description is on the way
                if (task := forks.read_frame(stream)) is None:
                    return 1  # the caller is gone
                tasks.append(task)
            if board.take(k):
                outcomes.append((k, _scan_task(engine, tasks[k], spec.archives, expansion)))
    forks.write_all(results, forks.frame(outcomes))
    return 0


def _write_stream(fd: int, stream: queue.SimpleQueue[object], written: Any) -> None:
    """The job writer (a thread): each item as a message, until None; then it releases
    ``written``. A partner that is gone is no error here: its tasks are scanned by the
    caller."""
    try:
        while (item := stream.get()) is not None:
            forks.write_all(fd, forks.frame(item))
    except OSError:
        pass
    finally:
        os.close(fd)
        written.release()


def _offered(numbers: int) -> Iterator[int]:
    """The task numbers offered to the partner, as they come, until the caller is done."""
    while len(number := os.read(numbers, 4)) == 4:
        yield int.from_bytes(number, "big")


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
