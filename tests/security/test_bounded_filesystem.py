"""Promise: odd file systems cost bounded time and never end the scan. FIFOs where git expects
a file (git would wait for ever), symlink loops, names that are not UTF-8 in every source and
every report format, unreadable files (run unprivileged), and a tree that changes while it is
scanned."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
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


# ------------------------------------------------------------------------- links and names


def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "to-b").symlink_to(root / "b")
    (root / "b" / "to-a").symlink_to(root / "a")
    (root / "self").symlink_to(root / "self")
    (root / "up").symlink_to("..")
    chain = root / "chain0"
    for i in range(1, 60):
        (root / f"chain{i}").symlink_to(root / f"chain{i - 1}")
    chain.symlink_to(root / "chain59")
    (root / "b" / "real.py").write_text(settings("loops"))
    started = time.monotonic()
    result = scanner.scan([root], Config(jobs=1))
    assert time.monotonic() - started < 30
    assert [f.origin.path for f in result.findings] == ["b/real.py"]
    assert result.summary.errors == ()


def test_names_that_are_not_utf8_reach_every_report_format(make_repo, tmp_path: Path) -> None:
    """In a plain directory, a git history, a work tree's changes and an archive member: the
    name is shown escaped and every format is written whole."""
    repo = GitRepo(make_repo("names"))
    bad = b"caf\xe9-\xff"
    base = os.fsencode(repo.path)
    with open(base + b"/" + bad + b"-history.py", "w") as fh:
        fh.write(settings("name-history"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "odd name")
    with open(base + b"/" + bad + b"-untracked.py", "w") as fh:
        fh.write(settings("name-untracked"))
    with open(base + b"/" + bad + b".tar", "wb") as fh:
        fh.write(_tar_with_raw_name(b"m\xff.properties", settings("name-tar").encode()))
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("json", "jsonl", "sarif", "github", "text"):
        for extra in ((), ("--no-history",)):
            target = out / f"report-{fmt}{'-'.join(extra)}"
            run = leakstop("scan", repo.path, *extra, "-f", fmt, "-o", target, cwd=out)
            assert run.returncode == 1, run.stderr
            assert "Traceback" not in run.stderr
            text = target.read_bytes().decode("utf-8")  # valid UTF-8, whole
            assert "caf\\xe9-\\xff" in text.replace("\\\\", "\\"), (fmt, extra, text[:500])
            if fmt in ("json", "sarif"):
                json.loads(text)
    doc = json.loads((out / "report-json").read_text())
    found = {f["fingerprint"] for f in doc["findings"]}
    for seed in ("name-history", "name-untracked", "name-tar"):
        assert fingerprint(seed) in found


def _tar_with_raw_name(name: bytes, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(
        fileobj=out, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape"
    ) as archive:
        info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


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
    not _unprivileged_python_works() and not os.environ.get("CI"),
    reason="root reads every file and setpriv cannot drop to nobody here: unreadable files "
    "are NOT tested on this machine (under CI this fails instead)",
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


# ------------------------------------------------------------------------- a changing tree


def _churn(root: Path, stop: threading.Event) -> None:
    """Create, grow, delete, rename and swap files and directories until told to stop."""
    rng = random.Random(3)
    n = 0
    while not stop.is_set():
        n += 1
        d = root / f"churn{rng.randrange(8)}"
        try:
            action = rng.randrange(7)
            if action == 0:
                d.mkdir(exist_ok=True)
                (d / f"f{n}.txt").write_text("x" * rng.randrange(100_000))
            elif action == 1:
                shutil.rmtree(d, ignore_errors=True)
            elif action == 2 and d.exists():
                d.rename(root / f"churn{rng.randrange(8)}-moved{n}")
            elif action == 3:
                target = root / f"swap{rng.randrange(4)}"
                target.unlink(missing_ok=True)
                if rng.random() < 0.5:
                    target.symlink_to(root / "stable.py")
                else:
                    os.mkfifo(target)
            elif action == 4:
                target = root / f"swap{rng.randrange(4)}"
                if target.is_symlink() or target.exists():
                    target.unlink()
                target.write_text(settings("churn"))
            elif action == 5:
                for moved in root.glob("*-moved*"):
                    shutil.rmtree(moved, ignore_errors=True)
            else:
                with (root / "growing.log").open("a") as fh:
                    fh.write("line\n" * 1000)
        except OSError:
            pass


@pytest.mark.parametrize("history", [False, True], ids=["directory", "work-tree"])
def test_a_tree_that_changes_during_the_scan(make_repo, history: bool) -> None:
    root = Path(make_repo("churning"))
    repo = GitRepo(root)
    repo.commit("start", {"stable.py": settings("stable")})
    for i in range(300):
        (root / f"file{i:03}.txt").write_text(f"filler {i}\n" * 50)
    stop = threading.Event()
    churner = threading.Thread(target=_churn, args=(root, stop), daemon=True)
    churner.start()
    try:
        for _ in range(3):
            started = time.monotonic()
            result = scanner.scan([root], Config(jobs=2, history=history))
            assert time.monotonic() - started < 60
            assert fingerprint("stable") in {f.fingerprint for f in result.findings}
            for error in result.summary.errors:
                # one item could not be read, and the warning says so (git's own wording for a
                # directory that vanished under it is "could not open directory")
                assert "cannot" in error or "could not" in error, error
    finally:
        stop.set()
        churner.join()
