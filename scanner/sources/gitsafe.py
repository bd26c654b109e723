"""Every git command leakstop runs is built here, hardened for untrusted repositories.

A scanned repository is hostile input: its ``.git/config``, ``.gitattributes`` and hooks can
name programs that an ordinary git command would run (a pager, an fsmonitor hook, a diff or
textconv driver, a clean/smudge filter, an ssh command, a credential helper, gpg). leakstop
reads objects only; it never checks out, fetches or writes. ``invocation`` is the one place a
command line and its environment are made, so the list below is the whole story.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from scanner.errors import SourceError

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None  # type: ignore[assignment]

PIPE_BYTES = 1 << 20
STALL_SECONDS = 300.0
"""Longest wait for a git command's next output before it is stopped. git blocks for ever when
it opens a FIFO where it expects a file (a ``.gitignore``, ``.git/info/exclude``, a loose
object, a file a config ``include`` names), and a scanned directory can be built that way."""

# (key, value, what it would otherwise run). Given with ``-c``, so they override every config
# file, the repository's own included.
HARDENING_CONFIG: tuple[tuple[str, str, str], ...] = (
    ("core.fsmonitor", "false", "an fsmonitor hook program on index refresh"),
    ("core.hooksPath", "/dev/null", "hooks (.git/hooks or a hooksPath of the repository's)"),
    ("diff.external", "", "an external diff program"),
    ("core.pager", "cat", "a pager program"),
    ("pager.log", "false", "a per-command pager"),
    ("pager.diff", "false", "a per-command pager"),
    ("core.sshCommand", "false", "an ssh command, e.g. on a lazy fetch in a partial clone"),
    ("core.gitProxy", "none", "a proxy command for git:// fetches"),
    ("core.askPass", "false", "an askpass program prompting for credentials"),
    ("credential.helper", "", "credential helpers (empty clears the list)"),
    ("gpg.program", "false", "gpg, to verify signed commits and tags"),
    ("gpg.ssh.program", "false", "ssh-keygen, to verify ssh-signed commits"),
    ("gpg.x509.program", "false", "gpgsm, to verify x509-signed commits"),
    ("log.showSignature", "false", "signature verification on every git log"),
    ("protocol.allow", "never", "any transport: no fetch, even a partial clone's lazy one"),
    ("gc.auto", "0", "a background git gc"),
    ("maintenance.auto", "false", "background maintenance"),
    # Ownership is checked to stop a foreign repository's config from running programs; every
    # such program is disabled above, so a repository owned by another user is safe to read.
    ("safe.directory", "*", "(allows reading repositories owned by another user)"),
)
# Global options, before the subcommand.
HARDENING_OPTIONS: tuple[str, ...] = (
    "--no-pager",  # never a pager, whatever the terminal
    "--no-replace-objects",  # refs/replace/* must not swap the content we scan
    "--literal-pathspecs",  # a path is a path, never a glob or magic pathspec
)
# Options added to every command that can produce a diff: no external diff or textconv driver
# (both named in .gitattributes + config) ever runs. Content is never diffed (no -p) anyway.
DIFF_OPTIONS: tuple[str, ...] = ("--no-ext-diff", "--no-textconv")
DIFF_COMMANDS = frozenset({"log", "diff-index"})
# The only subcommands leakstop runs: all read objects, refs or the index. Nothing that checks
# out (smudge filters), hashes the work tree (clean filters, fsmonitor), fetches or writes.
# Filter drivers (filter.<name>.clean/smudge/process) cannot be switched off by name, since
# the repository picks the names: they are kept out by never running a command that converts
# content (no checkout, status, add, diff-files, hash-object, cat-file --filters).
ALLOWED_COMMANDS = frozenset(
    {
        "rev-parse",
        "cat-file",
        "log",
        "rev-list",
        "for-each-ref",
        "ls-files",
        "diff-index",
        "merge-base",
    }
)
FORBIDDEN_ARGS = frozenset({"--filters", "--textconv", "-p", "--patch", "--show-signature"})
ENVIRONMENT: Mapping[str, str] = {
    "GIT_CONFIG_NOSYSTEM": "1",  # the system gitconfig is not ours to trust for this
    "GIT_ATTR_NOSYSTEM": "1",  # nor the system gitattributes
    "GIT_TERMINAL_PROMPT": "0",  # never prompt for credentials
    "GIT_NO_REPLACE_OBJECTS": "1",
    # No lazy fetch of a partial clone's missing objects (honoured by the releases since May
    # 2024, 2.39.4 on).
    "GIT_NO_LAZY_FETCH": "1",
    # No transport at all, whatever the repository's config says: protocol.allow=never alone
    # does not do it, because a repository's own protocol.<name>.allow=always (ext::, file://
    # with remote.<name>.uploadpack) outranks it, and an older git without GIT_NO_LAZY_FETCH
    # would then run that command on a lazy fetch. The empty list allows no protocol.
    "GIT_ALLOW_PROTOCOL": "",
    "GIT_OPTIONAL_LOCKS": "0",  # never write the scanned repository's index
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_ADVICE": "0",
    "LC_ALL": "C",
}
# Environment variables the user's shell may carry that would redirect or reconfigure git;
# every GIT_* is dropped except these, and SSH_ASKPASS too.
PASSED_THROUGH = frozenset({"GIT_EXEC_PATH"})


class GitError(SourceError):
    """A git command failed; the message is git's own first line of complaint."""


def invocation(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    work_tree: str | None = None,
    cwd: str | None = None,
    index_file: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The hardened command line and environment for ``git <args>``: the one function every
    git call goes through."""
    if not args or args[0] not in ALLOWED_COMMANDS:
        raise ValueError(f"git {args[0] if args else ''}: not a command leakstop runs")
    forbidden = FORBIDDEN_ARGS.intersection(args)
    if forbidden:
        raise ValueError(f"git {args[0]}: {sorted(forbidden)[0]} is never used on a scan")
    argv = ["git"]
    for key, value, _why in HARDENING_CONFIG:
        argv += ["-c", f"{key}={value}"]
    argv += HARDENING_OPTIONS
    if cwd is not None:
        argv += ["-C", cwd]
    if git_dir is not None:
        argv.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        argv.append(f"--work-tree={work_tree}")
    argv.append(args[0])
    if args[0] in DIFF_COMMANDS:
        argv += DIFF_OPTIONS
    argv += args[1:]
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("GIT_") or k in PASSED_THROUGH) and k != "SSH_ASKPASS"
    }
    env.update(ENVIRONMENT)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    return argv, env


def run_git(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    work_tree: str | None = None,
    cwd: str | None = None,
    index_file: str | None = None,
    stdin: bytes | None = None,
    warnings: list[str] | None = None,
) -> bytes:
    """Run a git command to completion; its stdout, or GitError with git's complaint (or
    the stall, when git stopped giving output). ``warnings`` collects git's ``warning:``
    lines (e.g. a directory it could not open), which a successful run would hide."""
    with GitStream(
        args, git_dir=git_dir, work_tree=work_tree, cwd=cwd, index_file=index_file, input=stdin
    ) as git:
        out = git.stdout.read()
        status = git.finish()
        if git.stalled:
            raise GitError(git.complaint())
        if status != 0:
            raise GitError(git.complaint() or f"git {args[0]} exited with {status}")
        if warnings is not None:
            warnings.extend(git.warnings())
    return out


class GitStream:
    """A running git command read as a stream: stdout is a pipe, stdin (when ``input`` is
    given) is written by a thread so neither side can block the other, and stderr is kept in
    a temporary file to explain a failure. A read that waits longer than STALL_SECONDS for
    git stops it (``stalled``). Use as a context manager; leaving it kills git if it is still
    running."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        git_dir: str | None = None,
        work_tree: str | None = None,
        cwd: str | None = None,
        index_file: str | None = None,
        input: bytes | None = None,
    ) -> None:
        argv, env = invocation(
            args, git_dir=git_dir, work_tree=work_tree, cwd=cwd, index_file=index_file
        )
        self.command = args[0]
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=env,
                bufsize=0,
            )
        except OSError as exc:
            self._errors.close()
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        assert self._proc.stdout is not None
        _widen(self._proc.stdout)
        self._watchdog = _Watchdog(self._proc, STALL_SECONDS)
        self.stdout: IO[bytes] = io.BufferedReader(
            _WatchedPipe(self._proc.stdout, self._watchdog), 1 << 16
        )
        self.killed = False
        self._feeder: threading.Thread | None = None
        if input is not None and len(input) <= _room(self._proc.stdin):
            # Fits in the empty pipe: written and closed now. No thread, and no write end
            # left open for a process forked meanwhile (a worker) to hold, keeping git
            # waiting for the end of its input.
            _feed(self._proc.stdin, input)
        elif input is not None:
            self._feeder = threading.Thread(
                target=_feed, args=(self._proc.stdin, input), daemon=True
            )
            self._feeder.start()

    def __enter__(self) -> GitStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
        self._errors.close()

    def kill(self) -> None:
        """Stop git now (we have read what we need, or another thread has)."""
        if self._proc.poll() is None:
            self.killed = True
            self._proc.kill()

    def close(self) -> int:
        """Kill git if it still runs, reap it, release the pipes; its exit status."""
        self.kill()
        status = self._proc.wait()
        self._watchdog.stop()
        if self._feeder is not None:
            self._feeder.join()
        self.stdout.close()
        return status

    def finish(self) -> int:
        """Wait for git to end on its own (stdout was read to the end); its exit status."""
        self.stdout.read()
        return self._proc.wait()

    @property
    def stalled(self) -> bool:
        """git was stopped because it gave no output for STALL_SECONDS."""
        return self._watchdog.fired

    @property
    def failed(self) -> bool:
        """git ended with an error (or stalled) and not because we stopped it on purpose."""
        if self.stalled:
            return True
        code = self._proc.poll()
        return code not in (0, None) and not self.killed

    def complaint(self) -> str:
        if self.stalled:
            return (
                f"git {self.command} gave no output for {self._watchdog.seconds:g}s and was "
                "stopped (a FIFO or device where git expects a file?)"
            )
        return complaint(self._stderr_tail())

    def warnings(self) -> list[str]:
        """git's ``warning:`` lines, without the prefix."""
        lines = self._stderr_tail().decode("utf-8", "backslashreplace").splitlines()
        return [ln[len("warning: ") :].strip() for ln in lines if ln.startswith("warning: ")]

    def _stderr_tail(self) -> bytes:
        size = self._errors.seek(0, os.SEEK_END)
        self._errors.seek(max(0, size - 65536))
        return self._errors.read()


class _Watchdog:
    """Kills a process once a single wait for its output has lasted ``seconds``."""

    def __init__(self, proc: subprocess.Popen[bytes], seconds: float) -> None:
        self.proc = proc
        self.seconds = seconds
        self.waiting_since: float | None = None
        self.fired = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        interval = min(1.0, self.seconds / 4)
        while not self._stopped.wait(interval):
            since = self.waiting_since
            if since is not None and time.monotonic() - since > self.seconds:
                if self.proc.poll() is None:
                    self.fired = True
                    self.proc.kill()
                return

    def stop(self) -> None:
        self._stopped.set()


class _WatchedPipe(io.RawIOBase):
    """git's stdout, timing every read that has to wait for git."""

    def __init__(self, pipe: IO[bytes], watchdog: _Watchdog) -> None:
        super().__init__()
        self._pipe = pipe
        self._watchdog = watchdog

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._pipe.fileno()

    def readinto(self, buffer: Any) -> int:
        self._watchdog.waiting_since = time.monotonic()
        try:
            return self._pipe.readinto(buffer)  # type: ignore[attr-defined, no-any-return]
        finally:
            self._watchdog.waiting_since = None

    def close(self) -> None:
        self._pipe.close()
        super().close()


def _widen(pipe: IO[bytes]) -> None:
    """A 1 MiB pipe (Linux): git blocks less often and we read more per system call."""
    if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _room(pipe: IO[bytes] | None) -> int:
    """How many bytes a new, empty pipe takes before a write blocks, widened first (Linux);
    0 when that cannot be known."""
    if pipe is None or fcntl is None or not hasattr(fcntl, "F_GETPIPE_SZ"):
        return 0
    _widen(pipe)
    try:
        return int(fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ))
    except OSError:
        return 0


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    """Write all of ``data`` and close, so git sees the end; a reader that died is not our
    error (its own failure is reported where it is read)."""
    if pipe is None:
        return
    try:
        pipe.write(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


def complaint(stderr: bytes) -> str:
    """git's most telling line of stderr (the last ``fatal:``/``error:``), without the prefix."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    for line in reversed(lines):
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else ""
