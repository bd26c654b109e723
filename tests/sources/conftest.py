"""Real git repositories built in tmp dirs for the git source tests, with a deterministic
clock so commit order and ids are stable. Secrets are generated at run time."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner import samples

BASE_TIME = 1_700_000_000


def secret(seed: str) -> str:
    """A fresh Google OAuth client secret, the same for the same seed."""
    return samples.expand("GOCSPX-«b64u:28»", seed)


def settings(seed: str) -> str:
    """A settings file line that holds ``secret(seed)``."""
    return f'CLIENT_SECRET = "{secret(seed)}"\n'


class GitRepo:
    """A repository driven with the real git command line (the test's own git, not leakstop's
    hardened one), one commit a minute."""

    clock = 0

    def __init__(self, path: Path, *, bare: bool = False) -> None:
        self.path = path
        self.bare = bare

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        GitRepo.clock += 60
        stamp = f"{BASE_TIME + GitRepo.clock} +0000"
        full_env = {
            **os.environ,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            **(env or {}),
        }
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=full_env,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        """Write ``files`` (path → text), stage everything, commit; the new commit's id."""
        for name, text in (files or {}).items():
            self.write(name, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)

    def blob(self, rev_path: str) -> str:
        return self.git("rev-parse", rev_path)


@pytest.fixture
def git_repo(make_repo: Callable[..., Path]) -> Callable[..., GitRepo]:
    """Factory: ``git_repo("name", bare=False)`` → an empty repository with an identity."""

    def create(name: str = "repo", *, bare: bool = False) -> GitRepo:
        return GitRepo(make_repo(name, bare=bare), bare=bare)

    return create


@pytest.fixture
def repo(git_repo: Callable[..., GitRepo]) -> GitRepo:
    return git_repo()
