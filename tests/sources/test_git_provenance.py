"""Provenance pieces on their own: the log parser, the segmented walk, ref reachability, and
the small parsers for commit headers."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from scanner import Config, scan
from scanner.sources import provenance
from scanner.sources.base import Problems
from scanner.sources.gitobjects import ident, iso_date
from scanner.sources.gitrepo import open_repository
from scanner.sources.provenance import (
    introductions,
    list_refs,
    log_records,
    parse_log,
    reaching_refs,
)
from tests.sources.conftest import GitRepo, settings

A, B, C, Z = "a" * 40, "b" * 40, "c" * 40, "0" * 40


def test_parse_log_reads_commits_changes_and_merges() -> None:
    raw = (
        f"\x01{A}\0Ann <ann@x>\0"
        "2024-01-01T00:00:00+00:00\0"
        f"\n:000000 100644 {Z} {B} A\0dir/new file.py\0"
        f":100644 100644 {B} {C} M\0:odd:name\0"
        f"\x01{C}\0Bob <bob@x>\0"
        "2024-01-02T00:00:00+00:00\0\0"
        f"::100644 100644 100644 {A} {B} {C} MM\0\x01not-a-commit\nbut a path\0"
    ).encode()
    commits = list(parse_log(io.BytesIO(raw)))
    assert [c.commit for c in commits] == [A, C]
    assert commits[0].author == "Ann <ann@x>"
    assert [(ch.status, ch.target, ch.path) for ch in commits[0].changes] == [
        ("A", B, "dir/new file.py"),
        ("M", C, ":odd:name"),
    ]
    (merge,) = commits[1].changes
    assert merge.sources == (A, B) and merge.target == C
    assert merge.path == "\x01not-a-commit\nbut a path"


def test_log_records_survive_any_chunking() -> None:
    raw = f"\x01{A}\0n <e>\0d\0\n:000000 100644 {Z} {B} A\0p\0".encode()

    class Trickle(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(1)

    assert list(log_records(Trickle(raw))) == list(log_records(io.BytesIO(raw)))


@pytest.fixture
def long_history(repo: GitRepo) -> tuple[GitRepo, dict[str, tuple[str, str]]]:
    """Twelve commits; some blobs appear in early and late commits at different paths.
    Returns the repo and, per blob, the (commit, path) that first introduced it."""
    expected: dict[str, tuple[str, str]] = {}
    for n in range(12):
        files = {f"f{n}.py": settings(f"walk-{n}")}
        if n in (2, 9):
            files[f"again-{n}.py"] = settings("walk-1")  # the blob of commit 1, at a new path
        sha = repo.commit(f"commit {n}", files)
        expected.setdefault(repo.blob(f"{sha}:f{n}.py"), (sha, f"f{n}.py"))
    return repo, expected


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
@pytest.mark.parametrize("find_object", [True, False], ids=["git-filters", "all-changes"])
def test_segmented_walk_places_each_blob_where_one_walk_would(
    long_history: tuple[GitRepo, dict[str, tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
    segments: int,
    find_object: bool,
) -> None:
    """Whether git filters the changes (--find-object, few blobs) or the walk reads them all
    (many blobs), each blob is placed at its first commit and path."""
    repo, expected = long_history
    monkeypatch.setattr(provenance, "MIN_SEGMENT_COMMITS", 1)
    monkeypatch.setattr(provenance, "MAX_FIND_OBJECTS", 256 if find_object else 0)
    opened = open_repository(str(repo.path))
    assert opened is not None
    problems = Problems()
    found, complete = introductions(
        opened, set(expected), list_refs(opened, problems), problems, segments
    )
    assert complete and not problems.errors
    assert {blob: (i.commit, i.path) for blob, i in found.items()} == expected


def test_segmented_walk_with_a_blob_history_does_not_reach(
    long_history: tuple[GitRepo, dict[str, tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, expected = long_history
    monkeypatch.setattr(provenance, "MIN_SEGMENT_COMMITS", 1)
    loose = repo.git("hash-object", "-w", "--stdin", check=True)  # empty blob, in no tree
    opened = open_repository(str(repo.path))
    assert opened is not None
    problems = Problems()
    found, complete = introductions(
        opened, {*expected, loose}, list_refs(opened, problems), problems, 3
    )
    assert complete
    assert loose not in found and set(found) == set(expected)


def test_reaching_refs_on_a_branchy_history(repo: GitRepo) -> None:
    root = repo.commit("root", {"a": "1"})
    repo.git("checkout", "-q", "-b", "left")
    left = repo.commit("left", {"l": "1"})
    repo.git("tag", "-a", "on-left", "-m", "tag")
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "right")
    right = repo.commit("right", {"r": "1"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "left", "-m", "merge left")
    opened = open_repository(str(repo.path))
    assert opened is not None
    problems = Problems()
    refs = list_refs(opened, problems)
    reached = reaching_refs(opened, refs, {root, left, right}, problems)
    assert reached[root] == (
        "refs/heads/left",
        "refs/heads/main",
        "refs/heads/right",
        "refs/tags/on-left",
    )
    assert reached[left] == ("refs/heads/left", "refs/heads/main", "refs/tags/on-left")
    assert reached[right] == ("refs/heads/right",)


def test_prefetched_metadata_answers_as_fresh_reads_do(
    long_history: tuple[GitRepo, dict[str, tuple[str, str]]],
) -> None:
    """What a scan starts reading when it plans (refs, commit order, the reachability
    stream) gives the same placements and refs as reading it all after the scan."""
    repo, expected = long_history
    opened = open_repository(str(repo.path))
    assert opened is not None
    problems = Problems()
    metadata = provenance.HistoryMetadata(opened, problems)
    try:
        found, complete = introductions(opened, set(expected), metadata.refs, problems, 2, metadata)
        commits = {i.commit for i in found.values()}
        reached = reaching_refs(opened, metadata.refs, commits, problems, metadata.take_topo())
    finally:
        metadata.close()
    assert complete and not problems.errors
    assert {blob: (i.commit, i.path) for blob, i in found.items()} == expected
    fresh_refs = list_refs(opened, problems)
    assert reached == reaching_refs(opened, fresh_refs, commits, problems)


def _child_processes() -> set[str]:
    """This process's children, from each of its threads (a thread may end meanwhile)."""
    pids: set[str] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            pids.update((task / "children").read_text().split())
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("with_finding", [True, False])
def test_a_scan_leaves_no_git_process_running(repo: GitRepo, with_finding: bool) -> None:
    """The history metadata started at planning is read or stopped, findings or not."""
    repo.commit("one", {"a.py": settings("leftover") if with_finding else "x = 1\n"})
    repo.commit("two", {"b.py": "y = 2\n"})
    before = _child_processes()
    result = scan([str(repo.path)], Config(jobs=1))
    assert bool(result.findings) == with_finding
    left = _child_processes() - before
    assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]


def test_ident_and_iso_date() -> None:
    header = b"tree x\nparent y\nauthor Ann Example <ann@x> 1700000000 +0130\ncommitter c"
    assert ident(header, b"author ") == ("Ann Example <ann@x>", "2023-11-14T23:43:20+01:30")
    assert ident(header, b"tagger ") == (None, None)
    assert iso_date(b"1700000000 -0800") == "2023-11-14T14:13:20-08:00"
    assert iso_date(b"garbage") is None


def test_a_segment_keeps_reading_while_its_prefix_is_incomplete() -> None:
    """Segment 1 has placed blob C (re-added late at a new path); segment 0 then places B,
    so segments 0..1 cover every blob. Segment 0 must still read on: C's real introduction
    is later in segment 0, before anything segment 1 saw."""
    walk = provenance._SegmentedWalk({B.encode(), C.encode()}, 2)
    walk.found[1][C.encode()] = provenance.Introduction("f" * 40, "x <x>", "2024-01-09", "late.py")
    first, second = "1" * 40, "2" * 40
    raw = (
        f"\x01{first}\0Ann <ann@x>\x002024-01-01T00:00:00+00:00\0\0"
        f":000000 100644 {Z} {B} A\0b.py\0"
        f"\x01{second}\0Ann <ann@x>\x002024-01-02T00:00:00+00:00\0\0"
        f":000000 100644 {Z} {C} A\0c.py\0"
    ).encode()

    class Stream:
        stdout = io.BytesIO(raw)

    walk._read(0, Stream())  # type: ignore[arg-type]
    placed = walk.result()[C]
    assert (placed.commit, placed.path) == (second, "c.py")
