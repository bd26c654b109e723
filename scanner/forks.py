"""What leakstop's own forked processes share: pickled messages on pipes, each behind its
8-byte length, and ending a child. Both ends are this program, so unpickling is safe; kept
light (``os`` only until used), as the console entry imports it before the CLI."""

from __future__ import annotations

import contextlib
import os
from typing import Any, BinaryIO


def frame(item: object) -> bytes:
    """``item`` pickled, behind its length: one message for ``read_frame``."""
    import pickle

    data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(8, "big") + data


def read_frame(stream: BinaryIO) -> Any:
    """The next message on ``stream``; None at its end (or if the writer stopped mid-way)."""
    import pickle

    header = stream.read(8)
    if len(header) < 8:
        return None
    data = stream.read(int.from_bytes(header, "big"))
    return pickle.loads(data)  # noqa: S301 - written by this program's other process


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd`` (a pipe takes what fits its buffer on each write)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def end_child(pid: int, *, kill: bool) -> int:
    """Wait for child ``pid`` to end (after SIGKILL, if ``kill``); its exit status, negative
    for a signal, -1 if it was reaped already. A child that ended on its own keeps its
    status even if killed after."""
    import signal

    if kill:
        with contextlib.suppress(ProcessLookupError):  # ended already
            os.kill(pid, signal.SIGKILL)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)
