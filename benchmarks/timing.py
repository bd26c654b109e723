"""What the benchmark scripts share: running a command as an installed tool would run, the
best of several timings, and the peak RSS of a command with its workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

# Measure what an installed tool costs: with bytecode cached (some shells export
# PYTHONDONTWRITEBYTECODE, which would recompile every module on every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(
    command: list[str], expect: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> None:
    """Run a command quietly (``env``: variables to add); stop the benchmark if it exits
    with an unexpected code."""
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        env={**ENV, **(env or {})},
    )
    if done.returncode not in expect:
        raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()[-500:]}")


def best(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` timed calls, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_rss_mib(command: list[str]) -> float:
    """Peak RSS of the command's largest process (itself or a worker), in a fresh child."""
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True, env=ENV
    )
    return int(out.stdout.strip()) / 1024
