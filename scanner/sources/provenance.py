"""Provenance for the git findings only, worked out after the scan in the main process.

For each blob with a finding: the first commit (oldest first, parents before children) whose
tree diff introduced it, its author, date and path there, from one pass over history's tree
diffs (``git log --raw``: names only, never a content diff), split into consecutive segments
that run in parallel, tracking just those blob ids and stopping once all are placed. Then the
refs that reach each of those commits, from one streaming ``git rev-list --topo-order``:
every ref is a bit, bits flow from children to parents, and only the frontier of the walk is
held. Memory follows the number of findings and the width of history, not the number of
objects; the list of commit ids (41 bytes each) is the one thing held per commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import IO

from scanner.filters import location_confidence
from scanner.models import Finding, Origin
from scanner.sources.base import Problems
from scanner.sources.gitobjects import ident
from scanner.sources.gitrepo import Repository, open_repository
from scanner.sources.gitsafe import GitError, GitStream

UNREACHABLE_NOTE = "unreachable object: no commit or ref reaches it"
UNREACHABLE_COMMIT_NOTE = "unreachable commit: no ref reaches it"
UNREACHABLE_TAG_NOTE = "unreachable tag object: no ref points at it"
UNKNOWN_NOTE = "provenance unknown: the history walk failed"
LOG_FORMAT = "%x01%H%x00%an <%ae>%x00%aI"
# `git log` options for a names-only walk: each commit's tree diff against its parents
# (combined for merges, so a merge shows only what it made itself), no rename detection (a
# rename is a delete plus an add of the same blob, which keeps the oldest path), root commits
# included, NUL-separated so any path survives.
WALK_OPTIONS = (
    "--raw",
    "-c",
    "--root",
    "--no-renames",
    "--no-abbrev",
    "-z",
    f"--format={LOG_FORMAT}",
)
# Up to this many blobs, the walk asks git to print only the changes that add or remove one
# of them (``--find-object``): the tree diffs cost the same, but git no longer writes, and
# Python no longer parses, every change in history. Beyond it the command line grows long.
MAX_FIND_OBJECTS = 256
# Below this many commits per segment, one git log is faster than several.
MIN_SEGMENT_COMMITS = 500


@dataclass(frozen=True)
class Change:
    """One path a commit's tree diff touched: the blob(s) before, the blob after."""

    sources: tuple[str, ...]
    target: str
    status: str
    path: str
    mode: bytes = b""


@dataclass
class CommitChanges:
    commit: str
    author: str
    date: str
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Introduction:
    """Where a blob first entered history."""

    commit: str
    author: str
    date: str
    path: str


@dataclass(frozen=True)
class Ref:
    name: str
    object_id: str
    commit: str | None
    """The commit the ref leads to (tags peeled), None for a ref to a tree or blob."""


def attach_provenance(
    findings: Iterable[Finding],
    problems: Problems,
    jobs: int = 1,
    prefetched: Mapping[str, HistoryMetadata] | None = None,
) -> list[Finding]:
    """Findings with provenance filled in for those from git objects (and from archives
    inside them): commit, author, date, path and refs, or a note saying why there are none.
    Other findings pass through. ``jobs`` git processes share the history walk;
    ``prefetched`` holds the history metadata a scan started reading when it planned (by
    the repository's root as given), read here instead of asking git again."""
    result: list[Finding] = []
    by_root: dict[str, list[Finding]] = {}
    for f in findings:
        if _from_git(f.origin) and f.origin.root is not None:
            by_root.setdefault(f.origin.root, []).append(f)
        else:
            result.append(f)
    for root, group in by_root.items():
        try:
            repo = open_repository(root)
        except GitError as exc:
            problems.error(f"{root}: no provenance: {exc}")
            repo = None
        if repo is None:
            result.extend(group)
            continue
        metadata = (prefetched or {}).get(root) or HistoryMetadata(repo, problems)
        try:
            result.extend(_attach(repo, group, problems, jobs, metadata))
        finally:
            metadata.close()
    return result


class HistoryMetadata:
    """What provenance reads about history besides the objects: the refs, the commit order
    (oldest first, parents before children) and the child-to-parent stream that says which
    refs reach a commit. A full-history scan creates it when it plans, so both git commands
    run while the objects are scanned (until they are read, only their pipes fill); created
    after the scan, it is the same reads done then. Close it in any case."""

    def __init__(self, repo: Repository, problems: Problems) -> None:
        self.refs = list_refs(repo, problems)
        self._order: GitStream | None = None
        self._topo: GitStream | None = None
        try:
            self._order = repo.stream(_order_args(self.refs))
            self._topo = _topo_stream(repo, self.refs)
        except GitError:  # git cannot even start: the reads below retry and report it
            self.close()

    def commit_order(self, repo: Repository) -> bytes:
        """Every commit id, newline-terminated, oldest first; GitError if git failed."""
        stream, self._order = self._order, None
        if stream is None:
            return repo.run(_order_args(self.refs))
        with stream:
            out = stream.stdout.read()
            stream.finish()
            if stream.failed:
                raise GitError(stream.complaint() or "git rev-list failed")
        return out

    def take_topo(self) -> GitStream | None:
        """The started ``rev-list --topo-order`` stream, for ``reaching_refs`` to read."""
        stream, self._topo = self._topo, None
        return stream

    def close(self) -> None:
        for stream in (self._order, self._topo):
            if stream is not None:
                stream.__exit__(None, None, None)
        self._order = self._topo = None


def _order_args(refs: list[Ref]) -> list[str]:
    extra = [r.commit for r in refs if r.commit and "@{" in r.name]  # older stash entries
    return ["rev-list", "--all", "--date-order", "--reverse", *extra]


def _topo_stream(repo: Repository, refs: list[Ref]) -> GitStream | None:
    """Every commit the refs reach, children before parents, with its parents."""
    tips = dict.fromkeys(r.commit.encode() for r in refs if r.commit)
    if not tips:
        return None
    given = b"".join(tip + b"\n" for tip in tips)
    return repo.stream(["rev-list", "--topo-order", "--parents", "--stdin"], input=given)


def _attach(
    repo: Repository,
    findings: list[Finding],
    problems: Problems,
    segments: int,
    metadata: HistoryMetadata,
) -> list[Finding]:
    refs = metadata.refs
    wanted = {
        f.origin.blob_id
        for f in findings
        if f.origin.source in ("git", "archive") and f.origin.commit is None and f.origin.blob_id
    }
    walked = True
    introduced: dict[str, Introduction] = {}
    if wanted:
        introduced, walked = introductions(repo, wanted, refs, problems, segments, metadata)
    commits = {i.commit for i in introduced.values()}
    commits.update(
        f.origin.commit
        for f in findings
        if f.origin.commit and not (f.origin.source == "commit-message" and f.origin.blob_id)
    )
    reaching = reaching_refs(repo, refs, commits, problems, metadata.take_topo())
    authors = commit_authors(
        repo, {f.origin.commit for f in findings if f.origin.source == "commit-message"}
    )
    pointing: dict[str, list[str]] = {}
    for ref in refs:
        pointing.setdefault(ref.object_id, []).append(ref.name)
    out = []
    for f in findings:
        o = f.origin
        if o.source == "commit-message" and o.blob_id:  # a tag's message
            names = tuple(sorted(pointing.get(o.blob_id, ())))
            origin = replace(o, refs=names, note=o.note if names else UNREACHABLE_TAG_NOTE)
        elif o.source == "commit-message":
            names = reaching.get(o.commit or "", ())
            author, date = authors.get(o.commit or "", (None, None))
            origin = replace(
                o,
                author=o.author or author,
                date=o.date or date,
                refs=names,
                note=None if names else UNREACHABLE_COMMIT_NOTE,
            )
        elif o.commit is not None:  # placed by the planner (a range)
            origin = replace(o, refs=reaching.get(o.commit, ()))
        elif o.blob_id in introduced:
            intro = introduced[o.blob_id]
            origin = replace(
                o,
                path=_at_path(o, intro.path),
                commit=intro.commit,
                author=intro.author,
                date=intro.date,
                refs=reaching.get(intro.commit, ()),
            )
        else:
            origin = replace(o, refs=(), note=UNREACHABLE_NOTE if walked else UNKNOWN_NOTE)
        out.append(_relocated(f, origin))
    return out


def _from_git(origin: Origin) -> bool:
    """A git blob or message, or a member of an archive that is a git blob."""
    if origin.source in ("git", "commit-message"):
        return True
    return origin.source == "archive" and origin.blob_id is not None


def _at_path(origin: Origin, path: str) -> str:
    """The finding's path once its blob is known to be ``path``: the blob's own path, or for
    an archive member the chain with the blob id at its head replaced (``id!a/b`` →
    ``dist/app.zip!a/b``)."""
    if origin.source == "archive" and origin.path and origin.blob_id:
        head, bang, rest = origin.path.partition("!")
        if head == origin.blob_id and bang:
            return f"{path}!{rest}"
    return path


def _relocated(f: Finding, origin: Origin) -> Finding:
    confidence = f.confidence
    if origin.path != f.origin.path:
        confidence = location_confidence(origin.path)  # type: ignore[assignment]
    return replace(f, origin=origin, confidence=confidence)


def commit_authors(repo: Repository, commits: set[str | None]) -> dict[str, tuple[str, str]]:
    """Author and date of each commit, read from the commit objects (reachable or not)."""
    wanted = sorted(c for c in commits if c)
    if not wanted:
        return {}
    try:
        out = repo.run(["cat-file", "--batch"], stdin="".join(f"{c}\n" for c in wanted).encode())
    except GitError:
        return {}
    found: dict[str, tuple[str, str]] = {}
    at = 0
    while at < len(out):
        end = out.find(b"\n", at)
        if end < 0:
            break
        parts = out[at:end].split()
        at = end + 1
        if len(parts) != 3:
            continue
        size = int(parts[2])
        body = out[at : at + size]
        at += size + 1
        if parts[1] == b"commit":
            author, date = ident(body.partition(b"\n\n")[0], b"author ")
            if author and date:
                found[parts[0].decode()] = (author, date)
    return found


def introductions(
    repo: Repository,
    blob_ids: set[str],
    refs: list[Ref],
    problems: Problems,
    segments: int = 1,
    metadata: HistoryMetadata | None = None,
) -> tuple[dict[str, Introduction], bool]:
    """The introducing commit and path of each blob that history reaches, and whether the
    walk read all of history it needed (False when git failed part way).

    History (every ref, older stash entries too) is listed oldest first, parents before
    children, and cut into ``segments`` runs of consecutive commits whose tree diffs are
    computed in parallel, one ``git log --no-walk`` each. A blob is placed by the earliest
    segment that has it; once earlier segments place every blob, later ones are stopped.
    The order comes from ``metadata`` when the scan started reading it already."""
    try:
        order = metadata.commit_order(repo) if metadata else repo.run(_order_args(refs))
    except GitError as exc:
        problems.error(f"{repo.root}: walking history for provenance failed ({exc})")
        return {}, False
    width = repo.hex_length + 1
    count = len(order) // width
    parts = max(1, min(segments, count // MIN_SEGMENT_COMMITS))
    bounds = [count * k // parts for k in range(parts + 1)]
    walk = _SegmentedWalk({b.encode() for b in blob_ids}, parts)
    threads = [
        threading.Thread(
            target=walk.run,
            args=(repo, k, order[bounds[k] * width : bounds[k + 1] * width]),
            daemon=True,
        )
        for k in range(parts)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if walk.failures:
        problems.error(
            f"{repo.root}: walking history for provenance failed ({walk.failures[0]}); some "
            "findings have no commit"
        )
    return walk.result(), not walk.failures


class _SegmentedWalk:
    """Shared state of the segment walks: what each placed, and which may stop."""

    def __init__(self, wanted: set[bytes], parts: int) -> None:
        self.wanted = wanted
        self.found: list[dict[bytes, Introduction]] = [{} for _ in range(parts)]
        self.streams: list[GitStream | None] = [None] * parts
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.needed = parts
        """Segments from this index on are no longer needed."""

    def run(self, repo: Repository, k: int, commits: bytes) -> None:
        args = ["log", "--no-walk=unsorted", "--stdin", *WALK_OPTIONS]
        if len(self.wanted) <= MAX_FIND_OBJECTS:  # git drops every other change itself
            args += [f"--find-object={blob.decode()}" for blob in sorted(self.wanted)]
        with repo.stream(args, input=commits) as git:
            with self.lock:
                if k >= self.needed:
                    return
                self.streams[k] = git
            if self._read(k, git):
                git.close()
            else:
                git.finish()
            if git.failed:
                with self.lock:
                    self.failures.append(git.complaint() or "git log failed")

    def _read(self, k: int, git: GitStream) -> bool:
        """Place blobs from segment ``k``; True when it stopped before the end."""
        found = self.found[k]
        header = (b"", b"", b"")
        # The hot loop runs over every change in history: test the id before decoding.
        for first, second, third in log_records(git.stdout):
            if first.startswith(b"\x01"):
                header = (first, second, third)
                continue
            fields = first.rsplit(b" ", 2)
            target = fields[-2] if len(fields) == 3 else b""
            if target in self.wanted and target not in found:
                commit = _commit_of(header)
                intro = Introduction(commit.commit, commit.author, commit.date, _path(second))
                with self.lock:
                    found[target] = intro
                    prefix = self._covered()  # stops later segments that are not needed
                    # This segment may stop only once segments 0..k place every blob: while
                    # that prefix is incomplete, a blob a later segment placed may still turn
                    # up earlier here (a blob re-added later at a new path).
                    if (prefix is not None and prefix <= k + 1) or len(found) == len(self.wanted):
                        return True
        return False

    def _covered(self) -> int | None:
        """How many leading segments place every blob together (None: not yet); the ones
        after them are stopped. Called with the lock held."""
        placed: set[bytes] = set()
        for k, found in enumerate(self.found):
            placed.update(found)
            if len(placed) == len(self.wanted):
                self.needed = min(self.needed, k + 1)
                for stream in self.streams[k + 1 :]:
                    if stream is not None:
                        stream.kill()
                return k + 1
        return None

    def result(self) -> dict[str, Introduction]:
        placed: dict[str, Introduction] = {}
        for found in self.found:
            for blob, intro in found.items():
                placed.setdefault(blob.decode(), intro)
        return placed


def walk_changes(repo: Repository, revisions: list[str]) -> Iterator[CommitChanges]:
    """Each commit of ``revisions`` (oldest first) with its tree changes; for ranges."""
    args = ["log", "--date-order", "--reverse", *WALK_OPTIONS, "--end-of-options", *revisions]
    with repo.stream(args) as git:
        yield from parse_log(git.stdout)
        git.finish()
        if git.failed:
            raise GitError(git.complaint() or "git log failed")


def parse_log(stream: IO[bytes]) -> Iterator[CommitChanges]:
    """Commits and their changes from ``git log -z`` with WALK_OPTIONS."""
    current: CommitChanges | None = None
    for first, second, third in log_records(stream):
        if first.startswith(b"\x01"):
            if current is not None:
                yield current
            current = _commit_of((first, second, third))
        elif current is not None:
            change = _change(first, second)
            if change is not None:
                current.changes.append(change)
    if current is not None:
        yield current


def log_records(stream: IO[bytes]) -> Iterator[tuple[bytes, bytes, bytes]]:
    """The raw records of ``git log -z`` with WALK_OPTIONS: ``(b"\\x01" + id, author, date)``
    for a commit, ``(meta, path, b"")`` for each change after it. Fields are taken by
    position, so no path or name can pass for a record of another kind."""
    tokens = _tokens(stream)
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(b"\x01"):
            yield token, next(tokens, b""), next(tokens, b"")
        elif token.startswith(b":"):
            yield token, next(tokens, b""), b""


def _commit_of(record: tuple[bytes, bytes, bytes]) -> CommitChanges:
    marker, author, date = record
    return CommitChanges(
        marker[1:].decode("ascii", "replace"),
        author.decode("utf-8", "replace"),
        date.decode("ascii", "replace"),
    )


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    tail = b""
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        parts = (tail + chunk).split(b"\0")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail


def _change(meta: bytes, path: bytes) -> Change | None:
    """``:100644 100644 <a> <b> M`` (or ``::...`` for a merge, one id per parent) + path."""
    parents = len(meta) - len(meta.lstrip(b":"))
    fields = meta[parents:].split()
    if len(fields) != 2 * (parents + 1) + 1:
        return None
    ids = [x.decode("ascii") for x in fields[parents + 1 : 2 * parents + 2]]
    return Change(
        sources=tuple(ids[:-1]),
        target=ids[-1],
        status=fields[-1].decode("ascii", "replace"),
        path=_path(path),
        mode=fields[parents],
    )


def list_refs(repo: Repository, problems: Problems) -> list[Ref]:
    """Every ref (branches, tags, remotes, notes, stash), a detached HEAD, and the older
    stash entries (``refs/stash@{1}``...), each with the commit it leads to."""
    fmt = "%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)"
    try:
        out = repo.run(["for-each-ref", f"--format={fmt}"])
    except GitError as exc:
        problems.error(f"{repo.root}: cannot list refs: {exc}")
        return []
    refs: list[Ref] = []
    unpeeled: list[tuple[str, str]] = []
    for line in out.splitlines():
        name_b, oid_b, kind, peeled, peeled_kind = (line.split(b"\0") + [b""] * 5)[:5]
        name, oid = name_b.decode("utf-8", "replace"), oid_b.decode("ascii")
        if kind == b"commit":
            refs.append(Ref(name, oid, oid))
        elif kind == b"tag" and peeled_kind == b"commit":
            refs.append(Ref(name, oid, peeled.decode("ascii")))
        elif kind == b"tag" and peeled_kind == b"tag":
            unpeeled.append((name, oid))  # a tag of a tag: peeled below
        else:
            refs.append(Ref(name, oid, None))
    head = _detached_head(repo)
    if head:
        unpeeled.append(("HEAD", head))
    refs.extend(_peel(repo, unpeeled))
    if any(r.name == "refs/stash" for r in refs):
        refs.extend(_stash_entries(repo))
    return refs


def _detached_head(repo: Repository) -> str | None:
    try:
        name = repo.run(["rev-parse", "--verify", "-q", "--symbolic-full-name", "HEAD"])
        if name.strip() != b"HEAD":
            return None
        return repo.run(["rev-parse", "--verify", "-q", "HEAD"]).decode("ascii").strip() or None
    except GitError:
        return None


def _peel(repo: Repository, refs: list[tuple[str, str]]) -> list[Ref]:
    if not refs:
        return []
    query = "".join(f"{oid}^{{commit}}\n" for _, oid in refs).encode()
    try:
        out = repo.run(["cat-file", "--batch-check=%(objectname)"], stdin=query).splitlines()
    except GitError:
        out = []
    peeled = []
    for i, (name, oid) in enumerate(refs):
        answer = out[i].decode("ascii", "replace").split() if i < len(out) else []
        commit = answer[0] if len(answer) == 1 and len(answer[0]) == len(oid) else None
        peeled.append(Ref(name, oid, commit))
    return peeled


def _stash_entries(repo: Repository) -> list[Ref]:
    try:
        out = repo.run(["log", "--walk-reflogs", "--format=%H", "refs/stash"])
    except GitError:
        return []
    ids = out.decode("ascii", "replace").split()
    return [Ref(f"refs/stash@{{{n}}}", oid, oid) for n, oid in enumerate(ids) if n > 0]


def reaching_refs(
    repo: Repository,
    refs: list[Ref],
    commits: set[str],
    problems: Problems,
    stream: GitStream | None = None,
) -> dict[str, tuple[str, ...]]:
    """For each commit, the names of the refs whose history contains it (sorted).
    ``stream`` is the ``_topo_stream`` for these refs when one was started already."""
    if not commits:
        if stream is not None:
            stream.__exit__(None, None, None)
        return {}
    names = [r.name for r in refs if r.commit]
    tips: dict[bytes, int] = {}
    for bit, ref in enumerate(r for r in refs if r.commit):
        assert ref.commit is not None
        key = ref.commit.encode()
        tips[key] = tips.get(key, 0) | (1 << bit)
    if not tips:
        return {}
    remaining = {c.encode() for c in commits}
    masks: dict[bytes, int] = {}
    frontier: dict[bytes, int] = {}
    if stream is None:
        stream = _topo_stream(repo, refs)
    assert stream is not None  # there are tips
    with stream as git:
        for line in git.stdout:
            ids = line.split()
            if not ids:
                continue
            commit = ids[0]
            mask = frontier.pop(commit, 0) | tips.get(commit, 0)
            if commit in remaining:
                masks[commit] = mask
                remaining.discard(commit)
                if not remaining:
                    break
            for parent in ids[1:]:
                frontier[parent] = frontier.get(parent, 0) | mask
        if remaining:
            git.finish()
        else:
            git.close()
        if git.failed:
            problems.error(
                f"{repo.root}: finding the refs that reach findings failed "
                f"({git.complaint() or 'git rev-list failed'})"
            )
    return {c.decode(): tuple(sorted(_bits(mask, names))) for c, mask in masks.items()}


def _bits(mask: int, names: list[str]) -> Iterator[str]:
    while mask:
        low = mask & -mask
        yield names[low.bit_length() - 1]
        mask ^= low
