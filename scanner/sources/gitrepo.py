"""A git repository as the scan sees it: where its objects are, whether it has a work tree,
and the hardened way to ask it things."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.config import Config
from scanner.errors import SourceError
from scanner.sources.base import Problems

# gitsafe (subprocess, threads, temporary files) loads when a repository is found: scans of
# plain directories never need it.
if TYPE_CHECKING:
    from scanner.sources.gitsafe import GitStream


@dataclass(frozen=True)
class Repository:
    """A repository found at a PATH the user gave; picklable, so tasks can carry it."""

    root: str
    """The PATH as given: reports name it, findings carry it as ``Origin.root``."""
    git_dir: str
    work_tree: str | None
    """Absolute top of the work tree; None for a bare repository (or a ``.git`` given)."""
    shallow: bool = False
    object_format: str = "sha1"

    @property
    def hex_length(self) -> int:
        return 64 if self.object_format == "sha256" else 40

    @property
    def null_id(self) -> str:
        return "0" * self.hex_length

    @property
    def empty_tree(self) -> str:
        if self.object_format == "sha256":
            return "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
        return "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

    def run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        in_work_tree: bool = False,
        index_file: str | None = None,
        warnings: list[str] | None = None,
    ) -> bytes:
        """Run a hardened git command against this repository; its stdout (``warnings``
        collects git's warnings)."""
        from scanner.sources.gitsafe import run_git

        if in_work_tree and self.work_tree is not None:
            return run_git(
                args,
                git_dir=self.git_dir,
                work_tree=self.work_tree,
                cwd=self.work_tree,
                stdin=stdin,
                index_file=index_file,
                warnings=warnings,
            )
        return run_git(
            args, git_dir=self.git_dir, stdin=stdin, index_file=index_file, warnings=warnings
        )

    def stream(self, args: Sequence[str], *, input: bytes | None = None) -> GitStream:
        """Start a hardened long-running git command; read its ``stdout``."""
        from scanner.sources.gitsafe import GitStream

        return GitStream(args, git_dir=self.git_dir, input=input)


def repository_at(root: str, config: Config, problems: Problems) -> Repository | None:
    """The repository to scan at ``root``, or None to scan ``root`` as plain files. A ``.git``
    that git cannot read is a warning and the files are scanned, unless ``--range`` or
    ``--staged`` needs the repository."""
    needs_git = bool(config.staged or config.commit_range)
    if not (config.history or needs_git):
        return None
    try:
        repo = open_repository(root)
    except SourceError as exc:  # a GitError: what looks like a repository, git cannot read
        if needs_git:
            raise
        problems.error(f"{exc}; scanned its files only")
        return None
    if repo is None and needs_git:
        raise SourceError(
            f"{root}: not the top of a git repository (--staged and --range need one)"
        )
    return repo


def open_repository(root: str) -> Repository | None:
    """The repository whose work tree top (or git directory) is ``root``, or None when ``root``
    is not one (a plain directory, a file, or a subdirectory of a work tree). Raises GitError
    when ``root`` clearly is a repository that git cannot read."""
    if not os.path.isdir(root) or os.path.islink(root):
        return None
    if not _looks_like_repository(root):
        return None  # neither a work tree top nor a git directory: no need to ask git
    from scanner.sources.gitsafe import GitError, run_git

    try:
        out = run_git(
            [
                "rev-parse",
                "--absolute-git-dir",
                "--is-bare-repository",
                "--is-inside-work-tree",
                "--is-shallow-repository",
                "--show-object-format",
                "--show-prefix",
            ],
            cwd=root,
        )
    except GitError as exc:
        raise GitError(f"{root}: not a readable git repository: {exc}") from None
    fields = out.decode("utf-8", "surrogateescape").split("\n")
    if len(fields) < 6:
        return None
    git_dir, bare, inside_work_tree, shallow, object_format, prefix = fields[:6]
    real = os.path.realpath(root)
    if inside_work_tree == "true" and bare != "true":
        if prefix:
            return None  # a subdirectory of some work tree: scanned as a directory
        work_tree: str | None = real
    elif os.path.realpath(git_dir) == real:
        work_tree = None  # a bare repository, or the .git directory itself
    else:
        return None
    return Repository(
        root=root,
        git_dir=git_dir,
        work_tree=work_tree,
        shallow=shallow == "true",
        object_format=object_format or "sha1",
    )


def _looks_like_repository(root: str) -> bool:
    if os.path.lexists(os.path.join(root, ".git")):
        return True
    return all(os.path.exists(os.path.join(root, name)) for name in ("HEAD", "objects", "refs"))
