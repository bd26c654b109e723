"""Promise: odd file systems cost bounded time and never end the scan: FIFOs where git expects
a file (git would wait for ever), and unreadable files (run unprivileged)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import scanner
from scanner.config import Config
from scanner.models import make_fingerprint
from scanner.sources import gitsafe
from tests.security.support import child_env, google_secret, leakstop, settings
from tests.sources.conftest import GitRepo

GOOGLE = "google-oauth-client-secret"
STALL = 1.0


def fingerprint(seed: str) -> str:
    return make_fingerprint(GOOGLE, google_secret(seed))


# ------------------------------------------------------------------------- FIFOs and git


def _gitignore(repo: GitRepo) -> None:
    os.mkfifo(repo.path / ".gitignore")


def _info_exclude(repo: GitRepo) -> None:
    exclude = repo.path / ".git" / "info" / "exclude"
    exclude.unlink(missing_ok=True)
    os.mkfifo(exclude)


def _config_include(repo: GitRepo) -> None:
    os.mkfifo(repo.path / "included")
    repo.git("config", "include.path", str(repo.path / "included"))


def _config_itself(repo: GitRepo) -> None:
    config = repo.path / ".git" / "config"
    config.unlink()
    os.mkfifo(config)


def _loose_object(repo: GitRepo) -> None:
    blob = repo.blob("HEAD:README")
    path = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize(
    "plant",
    [_gitignore, _info_exclude, _config_include, _config_itself, _loose_object],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_fifo_where_git_expects_a_file_costs_one_stall_not_for_ever(
    make_repo, monkeypatch: pytest.MonkeyPatch, plant: Callable[[GitRepo], None]
) -> None:
    """git opens a FIFO and waits for a writer that never comes; leakstop stops it after
    STALL_SECONDS (lowered here) with a warning, and scans what it can."""
    monkeypatch.setattr(gitsafe, "STALL_SECONDS", STALL)
    repo = GitRepo(make_repo("fifo"))
    repo.commit("start", {"README": "hello\n", "app.py": settings("fifo-history")})
    repo.write("new.py", settings("fifo-untracked"))
    plant(repo)
    started = time.monotonic()
    result = scanner.scan([repo.path], Config(jobs=1))
    seconds = time.monotonic() - started
    assert seconds < 30 * STALL + 10
    assert any("gave no output" in e for e in result.summary.errors), result.summary.errors
    found = {f.fingerprint for f in result.findings}
    if plant is not _loose_object:  # the work tree is scanned whatever git says
        assert fingerprint("fifo-untracked") in found


# ------------------------------------------------------------------------- unreadable files

DROP_ROOT = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _unprivileged_python_works() -> bool:
    if os.geteuid() != 0:
        return True
    if not shutil.which("setpriv"):
        return False
    probe = subprocess.run(
        [*DROP_ROOT, sys.executable, "-c", "import scanner"],
        check=False,
        capture_output=True,
        cwd="/",
        env=child_env(),
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _unprivileged_python_works(),
    reason="LOUD: root reads every file, and setpriv cannot drop to nobody here; "
    "unreadable files are not tested on this machine",
)
def test_unreadable_files_and_directories_are_warnings_in_a_tree_and_a_work_tree() -> None:
    """Run as nobody (root reads everything) on a tree and a git work tree it mostly reads."""
    root = Path(tempfile.mkdtemp(prefix="leakstop-unreadable-"))
    try:
        root.chmod(0o755)
        repo = root / "repo"
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        (repo / "visible.py").write_text(settings("unreadable-visible"))
        (repo / "locked.py").write_text(settings("unreadable-locked"))
        (repo / "locked.py").chmod(0)
        (repo / "closed").mkdir()
        (repo / "closed" / "inside.py").write_text(settings("unreadable-inside"))
        (repo / "closed").chmod(0)
        for path in [root, repo, *repo.rglob("*")]:
            if path.name not in ("locked.py", "closed") and "closed" not in path.parts:
                path.chmod(0o755 if path.is_dir() else 0o644)
        env = child_env(HOME=str(root), NO_COLOR="1")
        for extra in ((), ("--no-history",)):
            run = leakstop(
                "scan", repo, *extra, "-f", "json", "--jobs", "1", cwd=Path("/"), env=env,
                prefix=DROP_ROOT,
            )  # fmt: skip
            assert run.returncode == 1, run.stderr
            doc = json.loads(run.stdout)
            assert fingerprint("unreadable-visible") in {f["fingerprint"] for f in doc["findings"]}
            assert any("locked.py" in e for e in doc["summary"]["errors"]), run.stderr
            assert any("closed" in e for e in doc["summary"]["errors"]), (extra, run.stderr)
    finally:
        for path in root.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)
