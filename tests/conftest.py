"""Shared fixtures. Every secret and key is generated at run time (scanner.samples), so the
repository stays clean under its own scanner."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scanner import cache

pytest_plugins = ["tests.support.oidc"]


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The on-disk rule cache of this test session (and of the CLIs it runs), not the user's."""
    directory = tmp_path_factory.mktemp("leakstop-cache")
    directory.chmod(0o700)
    previous = os.environ.get(cache.CACHE_ENV)
    os.environ[cache.CACHE_ENV] = str(directory)
    yield directory
    if previous is None:
        del os.environ[cache.CACHE_ENV]
    else:
        os.environ[cache.CACHE_ENV] = previous


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create an empty git repository with a fixed identity; returns its work tree."""

    def create(name: str = "repo", *, bare: bool = False) -> Path:
        path = tmp_path / name
        args = ["git", "init", "-q", "-b", "main"] + (["--bare"] if bare else []) + [str(path)]
        subprocess.run(args, check=True)
        for key, value in (
            ("user.name", "Test Author"),
            ("user.email", "author@example.test"),
            ("commit.gpgsign", "false"),
        ):
            subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
        return path

    return create
