"""Run ``leakstop scan`` in a child process and read its JSON report back.

The Action and the org scan drive ``leakstop scan`` exactly as a user would, so every scan
flag (``--verify --registry``, ``--ruleset``, ``--baseline``, ``-j``...) means the same there,
a repository that crashes the scanner costs one repository, and concurrent repository scans
are separate processes. The child never sees a GitHub token."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import LeakstopError
from scanner.models import ScanResult
from scanner.report.json import load_report

# Environment variables a child scan has no business reading.
WITHHELD = frozenset({"GITHUB_TOKEN", "GH_TOKEN", "LEAKSTOP_TOKEN"})
# Options the caller decides (the report goes to a temporary JSON file) or that would put
# plaintext secrets into logs that others read.
RESERVED_OPTIONS = frozenset(
    {"--format", "-f", "--output", "-o", "--range", "--staged", "--show-secrets"}
)


class ChildScanError(LeakstopError):
    """The child scan could not do its job (its exit code 2, or a crash)."""


@dataclass(frozen=True)
class ChildScan:
    """How to run one child scan; ``args`` are extra ``leakstop scan`` options."""

    args: tuple[str, ...] = ()
    capture_stderr: bool = True
    """False: the child's warnings go straight to our stderr (the Action's log)."""
    show_secrets: bool = False

    def __call__(self, path: Path, commit_range: str | None = None) -> ScanResult:
        return scan_in_child(
            path,
            commit_range=commit_range,
            args=self.args,
            capture_stderr=self.capture_stderr,
            show_secrets=self.show_secrets,
        )


def check_args(args: Sequence[str]) -> None:
    """Refuse extra options that conflict with how the child is run."""
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in RESERVED_OPTIONS:
            raise LeakstopError(f"{name} cannot be passed through: leakstop sets it itself")


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment without GitHub tokens. Run from a source tree (not installed), the
    child is pointed at the same source, so parent and child are always the same code."""
    source = os.environ if env is None else env
    child = {k: v for k, v in source.items() if k not in WITHHELD}
    root = str(Path(__file__).resolve().parent.parent)
    installed = {
        str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]
    }
    if root not in installed:
        child["PYTHONPATH"] = os.pathsep.join(
            [root, *(p for p in child.get("PYTHONPATH", "").split(os.pathsep) if p)]
        )
    return child


def scan_in_child(
    path: Path,
    *,
    commit_range: str | None = None,
    args: Sequence[str] = (),
    capture_stderr: bool = True,
    show_secrets: bool = False,
) -> ScanResult:
    """Scan ``path`` (optionally only ``commit_range``) with ``leakstop scan`` in a child
    process; raises ChildScanError when the child cannot do its job."""
    check_args(args)
    with tempfile.TemporaryDirectory(prefix="leakstop-child-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "scanner", "scan", os.fspath(path)]
        argv += ["--format", "json", "--output", os.fspath(report), "--no-progress"]
        if commit_range:
            argv += ["--range", commit_range]
        if show_secrets:
            argv.append("--show-secrets")
        argv += list(args)
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE if capture_stderr else None,
                env=child_environment(),
                check=False,
            )
        except OSError as exc:
            raise ChildScanError(f"cannot start leakstop scan: {exc.strerror or exc}") from None
        if done.returncode not in (0, 1) or not report.exists():
            raise ChildScanError(_complaint(done.stderr, done.returncode))
        return load_report(report)


def _complaint(stderr: bytes | None, code: int) -> str:
    """The child's own one-line error, or its exit status."""
    lines = (stderr or b"").decode("utf-8", "replace").splitlines()
    for line in reversed(lines):
        if line.startswith("leakstop: error: "):
            return line[len("leakstop: error: ") :]
    tail = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    if code < 0:
        return f"leakstop scan was killed by signal {-code}"
    return f"leakstop scan exited with {code}" + (f": {tail[:300]}" if tail else "")
