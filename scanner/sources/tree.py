"""Directory and file source: walks a tree without following symlinks, skips ``.git``, and reads
regular files only (binary ones too: key material hides there)."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.models import Blob, file_blob
from scanner.sources.base import Problems, SourceError

SKIP_DIRS = frozenset({".git"})
# Never follow a symlink, never block on a FIFO, never leak the descriptor to a child.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# Files are handed to workers in batches of about this many bytes (or files), so one task is
# big enough to amortise the hand-off and small enough to balance the load.
BATCH_BYTES = 4 << 20
BATCH_FILES = 256


@dataclass(frozen=True)
class FileBatch:
    """A picklable unit of work: files to read and scan in a worker."""

    root: str
    files: tuple[tuple[str, str], ...]
    """(path on disk, display path relative to the root)"""
    max_file_size: int
    size: int = 0
    """Bytes the files held when listed (the pipeline sizes its worker pool by it)."""

    def blobs(self, problems: Problems) -> Iterator[Blob]:
        for disk_path, display in self.files:
            data = read_regular_file(disk_path, display, self.max_file_size, problems)
            if data is not None:
                yield file_blob(data, self.root, display)


def walk(root: str, problems: Problems, max_file_size: int) -> Iterator[FileBatch]:
    """Batches of every regular file under ``root`` (or ``root`` itself if it is a file), in a
    stable order. Raises SourceError when ``root`` does not exist or cannot be read at all."""
    try:
        st = os.lstat(root)
    except OSError as exc:
        raise SourceError(f"{root}: {_reason(exc)}") from None
    if stat.S_ISREG(st.st_mode):
        yield FileBatch(
            root=root, files=((root, _display(root)),), max_file_size=max_file_size, size=st.st_size
        )
        return
    if stat.S_ISLNK(st.st_mode):
        raise SourceError(f"{root}: is a symbolic link; leakstop does not follow links")
    if not stat.S_ISDIR(st.st_mode):
        raise SourceError(f"{root}: not a regular file or directory")
    try:
        os.scandir(root).close()
    except OSError as exc:
        raise SourceError(f"{root}: {_reason(exc)}") from None
    batch: list[tuple[str, str]] = []
    size = 0
    for disk_path, display, file_size in _files(root, problems):
        batch.append((disk_path, display))
        size += file_size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield FileBatch(root=root, files=tuple(batch), max_file_size=max_file_size, size=size)
            batch, size = [], 0
    if batch:
        yield FileBatch(root=root, files=tuple(batch), max_file_size=max_file_size, size=size)


def batches_for(
    root: str, relative_paths: Sequence[str], max_file_size: int
) -> Iterator[FileBatch]:
    """Batches for a chosen list of files under ``root`` (e.g. a work tree's changed files).
    A name that is not valid UTF-8 is shown escaped, as ``walk`` shows it."""
    files = [(os.path.join(root, rel), _display_name(rel)) for rel in sorted(relative_paths)]
    for i in range(0, len(files), BATCH_FILES):
        yield FileBatch(
            root=root, files=tuple(files[i : i + BATCH_FILES]), max_file_size=max_file_size
        )


def read_regular_file(
    disk_path: str, display: str, max_file_size: int, problems: Problems
) -> bytes | None:
    """The bytes of a regular file, or None with a warning. Never follows a symlink and never
    blocks on a FIFO, even if the tree changed since it was listed."""
    try:
        fd = os.open(disk_path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None  # became a symlink since listing: not followed
        problems.error(f"{display}: cannot read: {_reason(exc)}")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > max_file_size:
            problems.skip(display, f"file larger than --max-file-size ({max_file_size} bytes)")
            return None
        # One read of size + 1 bytes usually returns the whole file and proves EOF; loop only
        # for files that grow while being read (capped at the limit + 1).
        data = os.read(fd, min(st.st_size + 1, max_file_size + 1))
        if len(data) > st.st_size:
            chunks = [data]
            remaining = max_file_size + 1 - len(data)
            while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 24))):
                chunks.append(chunk)
                remaining -= len(chunk)
            data = b"".join(chunks)
        if len(data) > max_file_size:
            problems.skip(display, f"file larger than --max-file-size ({max_file_size} bytes)")
            return None
        return data
    except OSError as exc:
        problems.error(f"{display}: cannot read: {_reason(exc)}")
        return None
    finally:
        os.close(fd)


def _files(root: str, problems: Problems) -> Iterator[tuple[str, str, int]]:
    """(disk path, display path, size) of regular files, depth first, names sorted."""
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=_byte_order)
        except OSError as exc:
            problems.error(f"{prefix.rstrip('/') or '.'}: cannot list directory: {_reason(exc)}")
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            display = prefix + (name if name.isascii() else _display_name(name))
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append((entry.path, display + "/"))
                elif entry.is_file(follow_symlinks=False):
                    if entry.name in SKIP_DIRS:
                        continue  # a ".git" file: a worktree or submodule pointer
                    yield entry.path, display, entry.stat(follow_symlinks=False).st_size
            except OSError as exc:
                problems.error(f"{display}: cannot stat: {_reason(exc)}")
        stack.extend(reversed(subdirs))


def _byte_order(entry: os.DirEntry[str]) -> bytes:
    """Sort key: the name's bytes on disk (``os.fsencode``, without its checks)."""
    return entry.name.encode(_FS_ENCODING, _FS_ERRORS)


_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()


def _display_name(name: str) -> str:
    """A file name for reports: invalid UTF-8 bytes shown as ``\\xNN``, never a crash."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _display(path: str) -> str:
    return _display_name(str(Path(path)))


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)
