"""The pipeline's small-input split: this process and one forked child share the tasks, the
result is the one a single process gives, and a child that dies loses nothing."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from scanner import pipeline
from scanner.models import Blob, Origin
from scanner.pipeline import EngineSpec, run_tasks
from scanner.samples import expand
from scanner.sources.base import Problems

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

PARENT = os.getpid()


@dataclass(frozen=True)
class SlowTask:
    """One blob with a secret, named after the task and the process that scanned it; slow
    enough that both processes get to claim tasks."""

    number: int
    size: int = 1 << 20
    die_in_child: bool = False

    def blobs(self, problems: Problems) -> Iterator[Blob]:
        if self.die_in_child and os.getpid() != PARENT:
            os._exit(3)
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
