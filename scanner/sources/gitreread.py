"""Re-read a git finding's content for ``leakstop verify`` (a report's secrets are redacted):
the blob by its id (or commit and path), or the commit or tag message. ``register()`` hands
both readers to ``scanner.verify.reread``."""

from __future__ import annotations

from scanner.models import Origin
from scanner.sources.gitrepo import Repository, open_repository
from scanner.sources.gitsafe import GitError
from scanner.verify.reread import MAX_REREAD_BYTES, RereadError, register_reader


def read_blob(origin: Origin) -> bytes:
    """The blob a ``git`` finding (or the archive around it) was read from."""
    repo = _repository(origin)
    spec = origin.blob_id
    if spec is None and origin.commit and origin.path:
        spec = f"{origin.commit}:{origin.path.split('!', 1)[0]}"
    if spec is None:
        raise RereadError(f"{origin.root}: no blob id, or commit and path, recorded")
    return _object(repo, spec, b"blob")


def read_message(origin: Origin) -> bytes:
    """The message a ``commit-message`` finding was read from: a tag's (its object id is the
    blob id) or a commit's; lines count from the message's first, as in the scan."""
    repo = _repository(origin)
    oid, kind = (origin.blob_id, b"tag") if origin.blob_id else (origin.commit, b"commit")
    if oid is None:
        raise RereadError(f"{origin.root}: no commit recorded")
    return _object(repo, oid, kind).partition(b"\n\n")[2]


def _repository(origin: Origin) -> Repository:
    if origin.root is None:
        raise RereadError("no repository recorded")
    try:
        repo = open_repository(origin.root)
    except GitError as exc:
        raise RereadError(str(exc)) from None
    if repo is None:
        raise RereadError(f"{origin.root}: not a git repository any more")
    return repo


def _object(repo: Repository, spec: str, kind: bytes) -> bytes:
    """One object's content through the hardened ``cat-file --batch`` (never ``--filters``)."""
    if "\n" in spec:
        raise RereadError("malformed object name in the report")
    try:
        out = repo.run(["cat-file", "--batch"], stdin=spec.encode() + b"\n")
    except GitError as exc:
        raise RereadError(f"{repo.root}: {exc}") from None
    header, _, rest = out.partition(b"\n")
    parts = header.split()
    if len(parts) != 3 or parts[1] != kind:
        raise RereadError(f"{repo.root}: {spec}: no such {kind.decode()} any more")
    size = int(parts[2])
    if size > MAX_REREAD_BYTES:
        raise RereadError(f"{repo.root}: {spec}: too large to re-read")
    return rest[:size]


def register() -> None:
    """Make ``leakstop verify`` able to re-read git blobs and commit or tag messages."""
    register_reader("git", read_blob)
    register_reader("commit-message", read_message)


register()  # on import: ``scanner.verify.reread`` imports this module for it
