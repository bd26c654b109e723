"""Git objects in bulk: list them once, cut the list into tasks, and stream each task's
objects through its own ``git cat-file --batch`` inside a worker.

The main process never holds content, nor the whole list: it streams object ids and sizes
(``--batch-all-objects --unordered``, in pack order, so a task's objects share their delta
bases) and hands out runs of consecutive objects while git is still listing. A corrupt object
costs a warning and a restart of the stream after it, never the scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO

from scanner.models import Blob, Origin, git_object_blob
from scanner.sources.base import Problems
from scanner.sources.gitrepo import Repository

# Objects are handed to workers in tasks of about this many bytes (or objects): big enough to
# amortise starting a cat-file (a few ms), small enough to balance workers and move progress.
TASK_BYTES = 32 << 20
TASK_OBJECTS = 50_000
_SCANNED_TYPES = frozenset({b"blob", b"commit", b"tag"})
LIST_CHUNK = 1 << 20
# A stream that dies this many times in a row without delivering an object is given up on.
MAX_BARREN_RESTARTS = 3
READ_CHUNK = 1 << 20


def list_all_objects(repo: Repository, problems: Problems) -> Iterator[tuple[bytes, int]]:
    """(hex id, size) of every blob, commit and tag in the object database, alternates
    included, each once, in pack order (so consecutive objects share delta bases). Streamed:
    a history can hold millions, and the first tasks start while git still lists."""
    args = [
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        "--batch-all-objects",
        "--unordered",
    ]
    with repo.stream(args) as git:
        tail = b""
        while chunk := git.stdout.read(LIST_CHUNK):
            block, _, tail = (tail + chunk).rpartition(b"\n")
            yield from _listed(block, problems)
        yield from _listed(tail, problems)
        git.finish()
        if git.failed:
            problems.error(
                f"{repo.root}: listing objects stopped early ({git.complaint() or 'git failed'});"
                " scanned what was listed before that"
            )


def _listed(block: bytes, problems: Problems) -> Iterator[tuple[bytes, int]]:
    """(id, size) of the blobs, commits and tags in lines of ``--batch-check`` output; trees
    are left out. A ``<id> missing`` line (listed by git, yet its header cannot be read) is
    reported. Split, not a multi-line regex: a listing has a line per object, millions in a
    big history, and a regex anchored at each line start tries every byte."""
    for line in block.split(b"\n"):
        parts = line.split(b" ")
        if len(parts) == 3:
            if parts[1] in _SCANNED_TYPES and parts[2].isdigit():
                yield parts[0], int(parts[2])
        elif len(parts) == 2 and parts[1] == b"missing":
            problems.error(unreadable(parts[0]))


def unreadable(oid: bytes, reason: str = "") -> str:
    """The warning for an object that git lists but cannot read."""
    return f"object {oid.decode('ascii', 'replace')}: corrupt or unreadable, not scanned" + (
        f" ({reason})" if reason else ""
    )


def object_batches(
    repo: Repository,
    listed: Iterable[tuple[bytes, int]],
    max_file_size: int,
    origins: Mapping[bytes, Origin] | None = None,
) -> Iterator[tuple[ObjectBatch, int]]:
    """Consecutive runs of listed objects as tasks, each with its total size in bytes."""
    ids: list[bytes] = []
    placed: list[Origin | None] = []
    size = 0
    for oid, n in listed:
        ids.append(oid)
        if origins is not None:
            placed.append(origins.get(oid))
        size += n
        if size >= TASK_BYTES or len(ids) >= TASK_OBJECTS:
            yield (
                ObjectBatch(repo, b"\n".join(ids) + b"\n", max_file_size, tuple(placed), size),
                size,
            )
            ids, placed, size = [], [], 0
    if ids:
        yield ObjectBatch(repo, b"\n".join(ids) + b"\n", max_file_size, tuple(placed), size), size


def list_objects(
    repo: Repository, ids: Sequence[bytes], problems: Problems
) -> list[tuple[bytes, int]]:
    """(id, size) of the given objects that exist, in order; missing ones (a shallow or
    partial clone) are reported once."""
    if not ids:
        return []
    out = repo.run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
        stdin=b"".join(oid + b"\n" for oid in ids),
    )
    present: list[tuple[bytes, int]] = []
    missing: list[str] = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            present.append((parts[0], int(parts[2])))
        elif parts:
            missing.append(parts[0].decode("ascii", "replace"))
    if missing:
        problems.error(
            f"{repo.root}: {len(missing)} object(s) are not in this repository (a shallow or "
            f"partial clone?), not scanned: {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
        )
    return present


@dataclass(frozen=True)
class ObjectBatch:
    """A picklable task: stream these objects through one ``git cat-file --batch`` in the
    worker; blobs become Blobs, commits and tags their messages."""

    repo: Repository
    ids: bytes
    """Newline-terminated hex object ids."""
    max_file_size: int
    origins: tuple[Origin | None, ...] = ()
    """Where each blob is reported, when the planner already knows (ranges, the index);
    empty means ``Origin(source="git", blob_id=...)``, provenance attached after the scan."""
    size: int = 0
    """Bytes of content the task will read (the pipeline sizes its worker pool by it)."""

    def blobs(self, problems: Problems) -> Iterator[Blob]:
        root = self.repo.root
        for i, oid, kind, data in read_objects(self.repo, self.ids, self.max_file_size, problems):
            if kind == b"blob":
                origin = self.origins[i] if self.origins else None
                if origin is None:
                    yield git_object_blob(data, root, oid)
                else:
                    yield Blob(data=data, origin=origin)
            elif kind == b"commit":
                message = commit_message(root, oid, data)
                if message is not None:
                    yield message
            elif kind == b"tag":
                message = tag_message(root, oid, data)
                if message is not None:
                    yield message


def read_objects(
    repo: Repository, ids: bytes, max_size: int, problems: Problems
) -> Iterator[tuple[int, str, bytes, bytes]]:
    """(index in ``ids``, id, type, content) for each readable object, in order. Objects
    larger than ``max_size`` are skipped (and reported); a corrupt object is reported and the
    stream restarted after it."""
    line_length = repo.hex_length + 1
    count = len(ids) // line_length
    position = 0
    barren = 0
    while position < count:
        delivered = 0
        with repo.stream(
            ["cat-file", "--batch", "--buffer"], input=ids[position * line_length :]
        ) as git:
            out = git.stdout
            while position < count:
                oid = ids[position * line_length : (position + 1) * line_length - 1]
                header = out.readline()
                parts = header.split()
                if len(parts) == 2 and parts[0] == oid:  # "<id> missing": unreadable
                    problems.error(unreadable(oid))
                    position += 1
                    continue
                if len(parts) != 3 or parts[0] != oid:
                    break  # git died (or lost its way): this object is the culprit
                size = int(parts[2])
                if size > max_size:
                    if not _discard(out, size + 1):
                        break
                    problems.skip(
                        f"blob {oid.decode()}",
                        f"object larger than --max-file-size ({max_size} bytes)",
                    )
                    position += 1
                    continue
                data = out.read(size)
                if len(data) != size or out.read(1) != b"\n":
                    break
                yield position, oid.decode(), parts[1], data
                position += 1
                delivered += 1
            if position < count:
                git.close()
                culprit = ids[position * line_length : (position + 1) * line_length - 1]
                problems.error(unreadable(culprit, git.complaint()))
                position += 1
        barren = 0 if delivered else barren + 1
        if barren >= MAX_BARREN_RESTARTS and position < count:
            problems.error(
                f"{repo.root}: git cat-file keeps failing; {count - position} object(s) not scanned"
            )
            return


def _discard(out: IO[bytes], size: int) -> bool:
    while size > 0:
        chunk = out.read(min(size, READ_CHUNK))
        if not chunk:
            return False
        size -= len(chunk)
    return True


def commit_message(root: str, oid: str, data: bytes) -> Blob | None:
    """A commit's message as a Blob (lines counted within the message). Its author and date
    are read after the scan, for the few messages with findings."""
    _, _, message = data.partition(b"\n\n")
    if not message.strip():
        return None
    return Blob(
        data=message, origin=Origin(source="commit-message", path=None, root=root, commit=oid)
    )


def tag_message(root: str, oid: str, data: bytes) -> Blob | None:
    """An annotated tag's message, located at the commit it tags."""
    header, _, message = data.partition(b"\n\n")
    if not message.strip():
        return None
    fields = dict(_header_fields(header))
    target = fields.get(b"object", b"").decode("ascii", "replace")
    name = fields.get(b"tag", b"").decode("utf-8", "replace")
    tagger, date = ident(header, b"tagger ")
    return Blob(
        data=message,
        origin=Origin(
            source="commit-message",
            path=None,
            root=root,
            commit=target if fields.get(b"type") == b"commit" else None,
            author=tagger,
            date=date,
            blob_id=oid,
            note=f"message of annotated tag {name}",
        ),
    )


def _header_fields(header: bytes) -> Iterator[tuple[bytes, bytes]]:
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key:
            yield key, value


def ident(header: bytes, key: bytes) -> tuple[str | None, str | None]:
    """("Name <email>", ISO 8601 date) from an author/tagger header line."""
    start = header.find(b"\n" + key)
    if start < 0:
        if not header.startswith(key):
            return None, None
        start = 0
    else:
        start += 1
    end = header.find(b"\n", start)
    line = header[start + len(key) : end if end >= 0 else len(header)]
    who, bracket, stamp = line.rpartition(b"> ")
    if not bracket:
        return line.decode("utf-8", "replace") or None, None
    return (who + b">").decode("utf-8", "replace"), iso_date(stamp)


def iso_date(stamp: bytes) -> str | None:
    """``1700000000 +0100`` as ``2023-11-14T23:13:20+01:00`` (what git's %aI prints)."""
    try:
        seconds, offset = stamp.split()
        sign = -1 if offset.startswith(b"-") else 1
        minutes = int(offset[-4:-2]) * 60 + int(offset[-2:])
        tz = timezone(sign * timedelta(minutes=minutes))
        return datetime.fromtimestamp(int(seconds), tz).isoformat()
    except (ValueError, OverflowError, OSError):
        return None
