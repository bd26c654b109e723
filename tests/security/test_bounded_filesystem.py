"""Promise: odd file systems cost bounded time and never end the scan: FIFOs where git expects
a file (git would wait for ever)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

import scanner
from scanner.config import Config
from scanner.models import make_fingerprint
from scanner.sources import gitsafe
from tests.security.support import google_secret, settings
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
