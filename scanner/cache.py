"""A small on-disk cache for work every run would otherwise repeat: parsing the rule files,
compiling their regexes and building the prefilter database cost ~60-100 ms per process,
reading the cached result ~5 ms.

Entries are named by a hash of everything they depend on (their inputs, the Python,
``regex`` and hyperscan versions), so a changed rule or an upgrade simply misses. The cache
lives in ``$LEAKSTOP_CACHE_DIR``, else ``$XDG_CACHE_HOME/leakstop``, else
``~/.cache/leakstop``; ``LEAKSTOP_CACHE_DIR=""`` turns it off. Some entries are pickles, so an
entry is read only from a directory and a file that belong to the current user and that
nobody else may write; anything else, and any unreadable or corrupt entry, is a miss.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

CACHE_ENV = "LEAKSTOP_CACHE_DIR"
FORMAT = b"leakstop-cache-1"
"""Part of every key: bump it when what an entry holds changes shape."""
KEEP_PER_KIND = 8
"""Entries of one kind kept after a store; older ones (earlier rule versions) are removed."""


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "leakstop"


def key(parts: Iterable[bytes]) -> str:
    """A name for an entry that depends on ``parts`` and on the interpreter it was made by."""
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:40]


def read(kind: str, name: str) -> bytes | None:
    """The entry's bytes, or None on a miss (absent, unsafe, unreadable)."""
    directory = cache_dir()
    if directory is None or not _private(directory):
        return None
    path = directory / f"{kind}-{name}"
    try:
        with open(path, "rb") as handle:
            if not _private_file(os.fstat(handle.fileno())):
                return None
            return handle.read()
    except OSError:
        return None


def write(kind: str, name: str, data: bytes) -> bool:
    """Store an entry atomically (readers see the old file or the whole new one); False when
    the cache is off or cannot be written, which only costs the next run the work again."""
    directory = cache_dir()
    if directory is None:
        return False
    import tempfile  # only a miss writes: most runs never load it

    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):
            return False
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, directory / f"{kind}-{name}")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(directory, kind)
    except OSError:
        return False
    return True


def _private(directory: Path) -> bool:
    """A directory of ours that no one else can write into (and so swap entries in)."""
    try:
        info = os.stat(directory)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _owned_unshared(info)


def _private_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and _owned_unshared(info)


def _owned_unshared(info: os.stat_result) -> bool:
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def _prune(directory: Path, kind: str) -> None:
    """Keep the newest KEEP_PER_KIND entries of ``kind``."""
    entries = []
    for path in directory.glob(f"{kind}-*"):
        try:
            entries.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _, path in entries[KEEP_PER_KIND:]:
        path.unlink(missing_ok=True)
