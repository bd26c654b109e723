"""The pipeline's small-input split: this process and one forked child share the tasks, the
result is the one a single process gives, and a child that dies loses nothing."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner import pipeline
from scanner.models import Blob, Origin
from scanner.pipeline import EngineSpec, run_tasks
from scanner.samples import expand
from scanner.sources.base import Problems
from tests.support.processes import alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

PARENT = os.getpid()


@dataclass(frozen=True)
class SlowTask:
    """One blob with a secret, named after the task and the process that scanned it; slow
    enough that both processes get to claim tasks."""

    number: int
    size: int = 1 << 20
    die_in_child: bool = False
    mark: Path | None = None
    """A file this task writes its scanner's pid to, first thing."""

    def blobs(self, problems: Problems) -> Iterator[Blob]:
        if self.die_in_child and os.getpid() != PARENT:
            os._exit(3)
        if self.mark is not None and not self.mark.exists():
            self.mark.write_text(str(os.getpid()))
        time.sleep(0.1)
        problems.error(f"task {self.number}: a warning")
        secret = expand("GOCSPX-«b64u:28»", f"task-{self.number}")
        origin = Origin(source="file", path=f"{self.number}/{os.getpid()}.py", root="/scan")
        yield Blob(data=f'CLIENT_SECRET = "{secret}"\n'.encode(), origin=origin)


def scanned(outcome: pipeline.Outcome) -> list[tuple[int, int]]:
    """(task, pid) of each finding, in the order the pipeline returned them."""
    out = []
    for f in outcome.findings:
        number, pid = (f.origin.path or "").removesuffix(".py").split("/")
        out.append((int(number), int(pid)))
    return out


def test_two_processes_share_the_tasks_and_merge_in_task_order() -> None:
    tasks = [SlowTask(k) for k in range(8)]
    outcome = run_tasks(tasks, EngineSpec(), jobs=2)
    found = scanned(outcome)
    assert [number for number, _ in found] == list(range(8))
    assert {pid for _, pid in found} - {PARENT}, "the child scanned nothing"
    assert outcome.errors == [f"task {k}: a warning" for k in range(8)]
    assert outcome.blobs == 8


def test_the_result_is_one_process_s() -> None:
    tasks = [SlowTask(k) for k in range(4)]
    split, single = run_tasks(tasks, EngineSpec(), jobs=2), run_tasks(tasks, EngineSpec())
    assert [(f.rule_id, f.secret) for f in split.findings] == [
        (f.rule_id, f.secret) for f in single.findings
    ]
    assert (split.errors, split.blobs, split.bytes) == (single.errors, single.blobs, single.bytes)


def test_a_child_that_dies_loses_nothing() -> None:
    tasks = [SlowTask(k, die_in_child=True) for k in range(6)]
    outcome = run_tasks(tasks, EngineSpec(), jobs=2)
    found = scanned(outcome)
    assert [number for number, _ in found] == list(range(6))
    assert {pid for _, pid in found} == {PARENT}


def test_small_inputs_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked for a tiny input")

    monkeypatch.setattr(os, "fork", no_fork)
    tasks = [SlowTask(k, size=1024) for k in range(3)]
    assert [n for n, _ in scanned(run_tasks(tasks, EngineSpec(), jobs=2))] == [0, 1, 2]


def test_no_process_to_spare_means_one_process_does_it_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    found = scanned(run_tasks([SlowTask(k) for k in range(6)], EngineSpec(), jobs=2))
    assert found == [(k, PARENT) for k in range(6)]


def test_a_partner_forked_ahead_does_the_split_after_warming_up(tmp_path: Path) -> None:
    warmed = tmp_path / "warmed"
    pipeline.fork_partner_ahead(warm=lambda: warmed.write_text(str(os.getpid())))
    assert pipeline._AHEAD is not None
    ahead = pipeline._AHEAD.pid
    found = scanned(run_tasks([SlowTask(k) for k in range(8)], EngineSpec(), jobs=2))
    assert [number for number, _ in found] == list(range(8))
    assert {pid for _, pid in found} == {PARENT, ahead}
    assert warmed.read_text() == str(ahead)
    assert not alive(ahead)


def test_the_caller_takes_tasks_from_the_back_and_the_partner_from_the_front() -> None:
    """A partner still warming up when listing ends keeps the first tasks: the caller starts
    from the last, and they meet somewhere in between, each task scanned once."""
    pipeline.fork_partner_ahead(warm=lambda: time.sleep(0.35))
    assert pipeline._AHEAD is not None
    ahead = pipeline._AHEAD.pid
    found = scanned(run_tasks([SlowTask(k) for k in range(10)], EngineSpec(), jobs=2))
    assert [number for number, _ in found] == list(range(10))
    by_partner = [number for number, pid in found if pid == ahead]
    by_caller = [number for number, pid in found if pid == PARENT]
    assert by_partner and by_caller
    assert by_partner == list(range(len(by_partner)))  # a prefix
    assert by_caller == list(range(len(by_partner), 10))  # the rest, down from the last


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_partner_forked_ahead_but_not_needed_is_let_go(jobs: int) -> None:
    pipeline.fork_partner_ahead()
    assert pipeline._AHEAD is not None
    ahead = pipeline._AHEAD.pid
    tasks = [SlowTask(k, size=1024) for k in range(2)]  # too little to split
    found = scanned(run_tasks(tasks, EngineSpec(), jobs=jobs))
    assert found == [(0, PARENT), (1, PARENT)]
    assert pipeline._AHEAD is None
    assert not alive(ahead)


def test_the_partner_starts_while_the_tasks_are_still_being_listed(tmp_path: Path) -> None:
    """Once SPLIT_MIN_BYTES are listed, the partner scans them while listing goes on: here
    the listing waits until the partner has scanned a task (10 s at most)."""
    started = tmp_path / "started"

    def listing() -> Iterator[SlowTask]:
        yield SlowTask(0, size=SPLIT_HALF, mark=started)
        yield SlowTask(1, size=SPLIT_HALF, mark=started)
        deadline = time.monotonic() + 10
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        in_time.append(started.exists())
        yield from (SlowTask(k) for k in range(2, 6))

    in_time: list[bool] = []
    found = scanned(run_tasks(listing(), EngineSpec(), jobs=2))
    assert in_time == [True]
    assert int(started.read_text()) != PARENT  # the partner did, before the listing ended
    assert [number for number, _ in found] == list(range(6))


def test_past_the_pool_threshold_the_rest_goes_to_a_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 6 << 20)
    # 1 MB each: the partner starts at 4 MB, the split takes 6 MB, and a pool the other 4.
    tasks = [SlowTask(k) for k in range(10)]
    found = scanned(run_tasks(tasks, EngineSpec(), jobs=2))
    assert [number for number, _ in found] == list(range(10))
    split_pids = {pid for number, pid in found if number < 6}
    pool_pids = {pid for number, pid in found if number >= 6}
    assert PARENT in split_pids
    assert pool_pids.isdisjoint(split_pids | {PARENT})


SPLIT_HALF = pipeline.SPLIT_MIN_BYTES // 2


def test_the_board_gives_each_task_to_one_process() -> None:
    board = pipeline.Board(8)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if board.take(3) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # the child took task 3
    assert not board.take(3)
    assert board.take(4)
    board.close()


def test_a_process_killed_holding_the_board_lock_cannot_hang_the_other() -> None:
    board = pipeline.Board(8)
    ready_out, ready_in = os.pipe()
    pid = os.fork()
    if pid == 0:
        board._lockf(board.fd, board._lock)
        os.write(ready_in, b"x")
        time.sleep(60)
        os._exit(0)
    os.read(ready_out, 1)  # the child holds the lock now
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    previous = signal.signal(signal.SIGALRM, _timed_out)
    signal.alarm(10)
    try:
        assert board.take(0)  # the kernel released the dead process's lock
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        board.close()
        os.close(ready_out)
        os.close(ready_in)


def test_the_board_works_without_memfd(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memfd(*_args: object) -> int:
        raise OSError("memfd_create: function not implemented")

    monkeypatch.setattr(os, "memfd_create", no_memfd)
    board = pipeline.Board(8)
    assert board.take(1)
    assert not board.take(1)
    board.close()


def _timed_out(*_args: object) -> None:
    raise AssertionError("waited 10 s for the lock of a dead process")
