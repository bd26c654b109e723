"""What the attack tests share: running the real ``leakstop`` command in a fresh process (with
its time and peak memory), snapshots of directories that must not change, and planted
credentials generated at run time (the repository itself holds none)."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from scanner import samples

PROJECT = Path(__file__).resolve().parents[2]
LEAKSTOP = (sys.executable, "-m", "scanner")


@dataclass(frozen=True)
class Run:
    """One finished ``leakstop`` process."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float
    """Largest resident set of the process (or of a worker it waited for), MiB."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def child_env(**extra: str) -> dict[str, str]:
    """Our environment with this checkout first on the path (the child runs the same code),
    proxies cleared so nothing can leave the machine by accident."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and not k.startswith("GITHUB_")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.update(extra)
    return env


def leakstop(
    *args: str | os.PathLike[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = 300.0,
    prefix: tuple[str, ...] = (),
) -> Run:
    """Run ``leakstop ARGS`` to completion in a fresh process; its outputs, wall time and
    peak RSS (from wait4, so no polling can miss the peak)."""
    argv = [*prefix, *LEAKSTOP, *(os.fspath(a) for a in args)]
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env if env is not None else child_env(),
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    assert seconds < timeout, f"leakstop {args} was killed after {timeout:g}s"
    return Run(proc.returncode, stdout, stderr, seconds, usage.ru_maxrss / 1024)


# ------------------------------------------------------------------------- snapshots


def snapshot(root: Path, *, ignore: tuple[str, ...] = ()) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root`` (root included): type, mode, size, mtime and, for regular
    files, a hash of the content. Links are recorded, never followed."""
    entries: dict[str, tuple[object, ...]] = {}
    for directory, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(directory) / name
            rel = os.fsdecode(path.relative_to(root))
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            entries[rel] = _entry(path)
    entries["."] = _entry(root)
    return entries


def _entry(path: Path) -> tuple[object, ...]:
    st = os.lstat(path)
    digest = None
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        digest = os.readlink(path)
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns, digest)


def changes(before: dict[str, tuple[object, ...]], after: dict[str, tuple[object, ...]]) -> list:
    """What differs between two snapshots: added, removed and changed entries."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return [*(f"+{k}" for k in added), *(f"-{k}" for k in removed), *(f"~{k}" for k in changed)]


# ------------------------------------------------------------------------- credentials


def google_secret(seed: str) -> str:
    return samples.expand("GOCSPX-«b64u:28»", seed)


def generic_secret(seed: str) -> str:
    return samples.expand("«b64u:40»", seed)


def github_token(seed: str) -> str:
    return samples.expand("ghp_«alnum:36»", seed)


def settings(seed: str) -> str:
    """A Python settings file with one Google client secret."""
    return f'CLIENT_SECRET = "{google_secret(seed)}"\n'


def secret_fragments(secret: str, keep: int = 4) -> list[str]:
    """Pieces of a secret that must never appear in output: the part after the redaction
    prefix, and its halves (so a secret cut differently is caught too)."""
    body = secret[keep:]
    half = max(8, len(body) // 2)
    return [body, body[:half], body[-half:]]


def key_fragments(pem_text: str) -> list[str]:
    """Pieces of a key's body: each full base64 line between its BEGIN and END lines."""
    lines = [ln.strip() for ln in pem_text.strip().splitlines()]
    return [ln for ln in lines if len(ln) >= 24 and not ln.startswith("-----")]
