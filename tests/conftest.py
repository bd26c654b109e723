"""Shared fixtures. Every secret and key is generated at run time (scanner.samples), so the
repository stays clean under its own scanner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.oidc"]


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
