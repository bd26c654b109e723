"""Git source: a repository's whole object database (every blob once, plus commit and tag
messages), a range of commits (what a pull request adds), or the index (pre-commit); and for a
work tree, its modified and untracked files.

Planning happens in the main process and yields picklable tasks (``ObjectBatch`` for objects,
``tree.FileBatch`` for work-tree files); content is read inside the workers. Provenance is
attached after the scan, for findings only (``scanner.sources.provenance``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping

from scanner.config import Config
from scanner.errors import ConfigError
from scanner.models import Origin
from scanner.pipeline import Task
from scanner.progress import Progress
from scanner.sources import tree
from scanner.sources.base import Problems
from scanner.sources.gitobjects import (
    ObjectBatch,
    list_all_objects,
    list_objects,
    object_batches,
)
from scanner.sources.gitrepo import Repository, open_repository, repository_at
from scanner.sources.gitsafe import GitError
from scanner.sources.provenance import attach_provenance, walk_changes

__all__ = ["Repository", "attach_provenance", "open_repository", "plan", "repository_at"]

SHALLOW_WARNING = (
    "{root}: shallow clone: history before the shallow boundary is not in this repository; "
    "scanned the objects that are"
)
REGULAR_FILE_MODES = frozenset({b"100644", b"100755"})
BLOB_MODES = frozenset({b"100644", b"100755", b"120000"})


def plan(
    repo: Repository, config: Config, problems: Problems, progress: Progress | None = None
) -> Iterator[Task]:
    """The tasks that scan one repository as ``config`` asks: the index (``--staged``), a
    range (``--range``), or everything (history plus the work tree's changes)."""
    if config.staged and config.commit_range:
        raise ConfigError("--staged and --range cannot be combined")
    if config.staged:
        yield from staged(repo, config, problems, progress)
    elif config.commit_range:
        yield from commit_range(repo, config.commit_range, config, problems, progress)
    else:
        yield from history(repo, config, problems, progress)
        if repo.work_tree is not None:
            yield from work_tree_changes(repo, config, problems)


def history(
    repo: Repository, config: Config, problems: Problems, progress: Progress | None = None
) -> Iterator[ObjectBatch]:
    """Every blob, commit and tag in the object database, in tasks of consecutive objects."""
    if repo.shallow:
        problems.error(SHALLOW_WARNING.format(root=repo.root))
    listed = list_all_objects(repo, problems)
    yield from _batches(repo, listed, config, progress)


def _batches(
    repo: Repository,
    listed: Iterable[tuple[bytes, int]],
    config: Config,
    progress: Progress | None,
    origins: Mapping[bytes, Origin] | None = None,
) -> Iterator[ObjectBatch]:
    for batch, size in object_batches(repo, listed, config.max_file_size, origins):
        if progress:
            progress.add_total(size)
        yield batch


def commit_range(
    repo: Repository,
    spec: str,
    config: Config,
    problems: Problems,
    progress: Progress | None = None,
) -> Iterator[ObjectBatch]:
    """The blobs that the commits of ``BASE..HEAD`` introduce (at their first path there)
    and those commits' messages. A blob the range only moves is not new."""
    if ".." not in spec or spec.startswith("-") or any(c.isspace() for c in spec):
        raise ConfigError(f"--range {spec!r}: expected BASE..HEAD")
    if repo.shallow:
        problems.error(SHALLOW_WARNING.format(root=repo.root))
    placed: dict[bytes, Origin] = {}
    commits: list[bytes] = []
    try:
        for commit in walk_changes(repo, [spec]):
            commits.append(commit.commit.encode())
            moved = {s for c in commit.changes if c.status == "D" for s in c.sources}
            for change in commit.changes:
                target = change.target.encode()
                if (
                    change.target == repo.null_id
                    or target in placed
                    or change.mode not in BLOB_MODES
                    or change.target in moved
                ):
                    continue
                placed[target] = Origin(
                    source="git",
                    path=change.path,
                    root=repo.root,
                    commit=commit.commit,
                    author=commit.author,
                    date=commit.date,
                    blob_id=change.target,
                )
    except GitError as exc:
        raise GitError(f"{repo.root}: --range {spec}: {exc}") from None
    listed = list_objects(repo, [*placed, *commits], problems)
    yield from _batches(repo, listed, config, progress, placed)


def staged(
    repo: Repository, config: Config, problems: Problems, progress: Progress | None = None
) -> Iterator[ObjectBatch]:
    """What the index holds that differs from HEAD (a pre-commit check), as files."""
    if repo.work_tree is None:
        raise ConfigError(f"{repo.root}: --staged needs a work tree, not a bare repository")
    index_file = _index_file_from_environment()
    try:
        head = repo.run(["rev-parse", "--verify", "-q", "HEAD^{commit}"]).decode().strip()
    except GitError:
        head = repo.empty_tree  # no commit yet: everything staged is new
    out = repo.run(
        ["diff-index", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", head],
        in_work_tree=True,
        index_file=index_file,
    )
    placed: dict[bytes, Origin] = {}
    fields = out.split(b"\0")
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(b":").split()
        if len(parts) != 5 or parts[1] not in BLOB_MODES or parts[4] == b"D":
            continue
        display = path.decode("utf-8", "backslashreplace")
        placed.setdefault(parts[3], Origin(source="file", path=display, root=repo.root))
    listed = list_objects(repo, list(placed), problems)
    yield from _batches(repo, listed, config, progress, placed)


def _index_file_from_environment() -> str | None:
    """A pre-commit hook may be given a temporary index (``git commit -a``): use it."""
    index = os.environ.get("GIT_INDEX_FILE")
    return os.path.abspath(index) if index else None


def work_tree_changes(
    repo: Repository, config: Config, problems: Problems
) -> Iterator[tree.FileBatch]:
    """The work tree's files that differ from the index, and untracked files not ignored.

    Deliberately not ``git status`` / ``diff-files``: those hash work-tree files through the
    repository's clean filters and fsmonitor. Here git only reads the index; leakstop hashes
    the files itself and compares."""
    assert repo.work_tree is not None
    unlisted: list[str] = []
    try:
        tracked = repo.run(["ls-files", "-s", "-z"], in_work_tree=True)
        untracked = repo.run(
            ["ls-files", "-z", "--others", "--exclude-standard"],
            in_work_tree=True,
            warnings=unlisted,
        )
    except GitError as exc:  # e.g. a FIFO named .gitignore: git stalls and is stopped
        problems.error(
            f"{repo.root}: cannot list the work tree's changes ({exc}); scanned all its files"
        )
        yield from tree.walk(repo.root, problems, config.max_file_size)
        return
    for warning in unlisted:  # e.g. "could not open directory 'x/': Permission denied"
        problems.error(f"{repo.root}: {warning}; its untracked files were not scanned")
    changed: list[str] = []
    index: dict[str, set[str]] = {}
    for entry in tracked.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] in REGULAR_FILE_MODES:
            index.setdefault(os.fsdecode(path), set()).add(parts[1].decode())
    for rel, ids in index.items():
        if _differs(repo, rel, ids, config.max_file_size):
            changed.append(rel)
    for entry in untracked.split(b"\0"):
        if entry and not entry.endswith(b"/"):
            changed.append(os.fsdecode(entry))
    yield from tree.batches_for(repo.root, changed, config.max_file_size)


def _differs(repo: Repository, rel: str, ids: set[str], max_file_size: int) -> bool:
    """Whether the work tree file at ``rel`` is not one of the blobs the index has for it.
    Read problems are left to the batch that reads the file again to scan it."""
    assert repo.work_tree is not None
    disk = os.path.join(repo.work_tree, rel)
    data = tree.read_regular_file(disk, rel, max_file_size, Problems())
    if data is None:
        return os.path.lexists(disk) and not os.path.islink(disk)  # unreadable: let it tell
    digest = hashlib.new(repo.object_format, b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest() not in ids
