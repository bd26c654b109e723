"""`leakstop scan` loads its engine in a forked helper while the command line is parsed.

Before it knows what to scan, the CLI spends ~100 ms importing typer and building its
commands; loading the engine (rules and their compiled regexes, hyperscan) takes half as long
again, with the second core idle all the while. So on Linux the console entry forks a helper
before importing the CLI: the helper loads the engine and forks the partner of a split scan
(``pipeline.Partner``, which loads cryptography meanwhile), then waits for the scan the
parent sends it (paths and Config, pickled), runs it with ``scanner.api.scan`` and sends the
ScanResult back. The parent never loads the engine; a helper slower than the parent only
makes it wait for what it would have loaded itself.

Nothing depends on the helper: without one (other platforms, the library API, tests through
CliRunner), or when it fails in any way, the parent scans in process with the same code. A
LeakstopError the scan raised on purpose (a missing path) comes back and is raised here."""

from __future__ import annotations

import _thread
import contextlib
import io
import os
import select
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from scanner import forks

if TYPE_CHECKING:
    from scanner.config import Config
    from scanner.models import ScanResult

DISABLE_ENV = "LEAKSTOP_NO_HELPER"
"""Set (to anything) to scan in the CLI's own process."""

INTERRUPTED = 130
"""The helper's exit status after Ctrl-C: the parent then stops as interrupted too."""


class Helper:
    """A forked process that has loaded (or is loading) the engine; used at most once."""

    def __init__(self, pid: int, requests: int, results: int) -> None:
        self.pid = pid
        self.requests = requests
        self.results = results

    def scan(
        self, paths: Sequence[str], config: Config, meanwhile: Callable[[], object]
    ) -> ScanResult | None:
        """The helper's ScanResult for ``paths``; None when it failed (scan here instead).
        A LeakstopError it raised is raised here. ``meanwhile`` runs while it scans."""
        from scanner.errors import LeakstopError

        answer = os.fdopen(self.results, "rb")
        try:
            # The request pipe stays open while the helper works: its end tells the helper
            # that this process is gone (see _watch_parent).
            forks.write_all(self.requests, forks.frame((list(paths), config)))
            meanwhile()
            with answer:
                data = answer.read()  # to the end: the helper has answered and is leaving
        except OSError:  # a broken pipe: the helper is gone
            data = b""
            status = forks.end_child(self.pid, kill=True)
        except BaseException:  # Ctrl-C, or anything else: the helper must not outlive us
            forks.end_child(self.pid, kill=True)
            raise
        else:
            status = forks.end_child(self.pid, kill=False)
        finally:
            answer.close()
            os.close(self.requests)
        if status == INTERRUPTED:  # Ctrl-C reached the helper: stop as interrupted here too
            raise KeyboardInterrupt
        if status != 0:
            return None
        try:
            kind, value = forks.read_frame(io.BytesIO(data))
        except Exception:  # no answer, or one that does not load (it should): scan here
            return None
        if kind == "error" and isinstance(value, LeakstopError):
            raise value
        return value if kind == "result" else None


_helper: Helper | None = None


def start(argv: Sequence[str]) -> None:
    """Fork the helper for a ``leakstop scan`` command line (Linux only; not for --help,
    not when LEAKSTOP_NO_HELPER is set)."""
    global _helper
    wanted = (
        sys.platform.startswith("linux")
        and list(argv[:1]) == ["scan"]
        and not {"-h", "--help"} & set(argv)
        and DISABLE_ENV not in os.environ
    )
    if not wanted or _helper is not None:
        return
    request_read, request_write = os.pipe()
    result_read, result_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: the scan runs here
        for fd in (request_read, request_write, result_read, result_write):
            os.close(fd)
        return
    if pid == 0:
        status = 1
        try:
            os.close(request_write)
            os.close(result_read)
            status = _serve(request_read, result_write)
        except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the parent reports
            status = INTERRUPTED
        finally:
            os._exit(status)  # never return into the CLI, nor run the parent's exit handlers
    os.close(request_read)
    os.close(result_write)
    _helper = Helper(pid, request_write, result_read)


def scan(
    paths: Sequence[str], config: Config, meanwhile: Callable[[], object] = lambda: None
) -> ScanResult:
    """``scanner.api.scan``, run by the helper when there is one. ``meanwhile`` runs in any
    case: while the helper scans (the CLI loads its reporter then), or before scanning here."""
    global _helper
    helper, _helper = _helper, None
    if helper is not None:
        result = helper.scan(paths, config, meanwhile)
        if result is not None:
            return result
    else:
        meanwhile()
    from scanner.api import scan as scan_here

    return scan_here(paths, config)


def _serve(requests: int, results: int) -> int:
    """The helper: load the engine step by step until the request comes, scan, answer. An
    end of input before any request means the CLI did something else: leave at once."""
    _detach()
    for step in (_load_api, _load_engine, lambda: _fork_partner(results)):
        if _ready(requests):
            break
        step()
    # Buffered, but it takes nothing past the request: the parent sends only that, then
    # keeps the pipe open until the answer is in (see _watch_parent).
    request = forks.read_frame(os.fdopen(requests, "rb", closefd=False))
    if request is None:  # the parent ended without asking
        return 0
    _thread.start_new_thread(_watch_parent, (requests,))
    paths, config = request

    from scanner.api import scan as scan_here
    from scanner.errors import LeakstopError

    answer: tuple[str, object]
    try:
        answer = ("result", scan_here(paths, config))
    except LeakstopError as exc:
        answer = ("error", exc)
    forks.write_all(results, forks.frame(answer))
    return 0


def _load_api() -> None:
    import scanner.api  # noqa: F401


def _load_engine() -> None:
    """The default engine's parts: rules and their compiled regexes, the prefilter."""
    from scanner.pipeline import EngineSpec
    from scanner.sources.expander import EXPANSION

    EngineSpec().build(EXPANSION.markers)


def _fork_partner(results: int) -> None:
    """The partner of a split scan, forked now: it loads cryptography (~30 ms; the first
    key found needs it) while this process waits, instead of during the scan. It must not
    hold ``results`` open: the parent reads that pipe to its end."""
    from scanner.pipeline import fork_partner_ahead

    fork_partner_ahead(warm=_load_keys, inherited=(results,))


def _load_keys() -> None:
    import scanner.keys  # noqa: F401


def _ready(fd: int) -> bool:
    """Whether the parent has written its request (or gone: end of input)."""
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _detach() -> None:
    """The helper reads no terminal input and writes no report: stdin and stdout go to
    /dev/null, so they close when the parent is done (stderr stays, for progress and
    warnings)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)


def _watch_parent(requests: int) -> None:
    """A thread of the helper: the request pipe ends when the parent does (it holds the
    only write end until the answer is in), and then a scan nobody waits for stops."""
    with contextlib.suppress(OSError):
        os.read(requests, 1)
    os._exit(0)
