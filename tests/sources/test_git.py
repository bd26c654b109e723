"""The git source on real repositories: every blob once, provenance for findings only,
ranges, the index, the work tree, damaged and shallow repositories."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from io import BytesIO, StringIO
from pathlib import Path

import pytest

from scanner import Config, Finding, ScanResult, samples, scan
from scanner.errors import ConfigError, SourceError
from scanner.progress import Progress
from scanner.report.base import ReportOptions
from scanner.report.json import report_dict
from scanner.sources import git
from scanner.sources.base import Problems
from scanner.sources.provenance import UNREACHABLE_COMMIT_NOTE, UNREACHABLE_NOTE
from tests.sources.conftest import GitRepo, secret, settings

AUTHOR = "Test Author <author@example.test>"


def run(path: Path | str, **options: object) -> ScanResult:
    return scan([str(path)], Config(jobs=1, progress=False, **options))  # type: ignore[arg-type]


def with_secret(result: ScanResult, seed: str) -> list[Finding]:
    return [f for f in result.findings if f.secret == secret(seed)]


def only(result: ScanResult, seed: str) -> Finding:
    found = with_secret(result, seed)
    assert len(found) == 1, [(f.origin.source, f.origin.path) for f in found]
    return found[0]


# ---------------------------------------------------------------------------- history


def test_secret_added_then_removed_is_found_at_the_commit_that_added_it(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    added = repo.commit("add settings", {"app/settings.py": settings("removed")})
    repo.commit("remove the secret", {"app/settings.py": "CLIENT_SECRET = os.environ['X']\n"})

    result = run(repo.path)

    f = only(result, "removed")
    assert f.origin.source == "git"
    assert f.origin.path == "app/settings.py"
    assert f.origin.commit == added
    assert f.origin.author == AUTHOR
    # the added commit's own author date (the test clock advances per git call across tests,
    # so no fixed day can be assumed)
    assert f.origin.date == repo.git("log", "-1", "--format=%aI", added).strip()
    assert f.origin.refs == ("refs/heads/main",)
    assert f.origin.blob_id == repo.blob(f"{added}:app/settings.py")
    assert f.origin.root == str(repo.path)
    assert f.line == 1 and f.column == 18
    assert result.summary.errors == ()


def test_secret_only_in_a_deleted_file(repo: GitRepo) -> None:
    added = repo.commit("add old config", {"old/conf.py": settings("deleted")})
    repo.git("rm", "-q", "old/conf.py")
    repo.commit("drop old config")

    f = only(run(repo.path), "deleted")
    assert (f.origin.commit, f.origin.path) == (added, "old/conf.py")


def test_renamed_file_is_reported_at_its_introducing_commit_and_path(repo: GitRepo) -> None:
    added = repo.commit("add", {"first/name.py": settings("renamed")})
    repo.git("mv", "first/name.py", "second.py")
    repo.commit("rename")
    repo.git("mv", "second.py", "third.py")
    repo.commit("rename again")

    f = only(run(repo.path), "renamed")
    assert (f.origin.commit, f.origin.path) == (added, "first/name.py")


def test_secret_only_on_an_unmerged_branch(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    repo.git("checkout", "-q", "-b", "feature/login")
    added = repo.commit("wip", {"login.py": settings("branch")})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", {"README": "hello again\n"})

    f = only(run(repo.path), "branch")
    assert f.origin.commit == added
    assert f.origin.refs == ("refs/heads/feature/login",)


def test_secret_reachable_only_from_a_tag(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    repo.git("checkout", "-q", "--detach")
    added = repo.commit("release build", {"build/creds.py": settings("tagged")})
    repo.git("tag", "v1.0")
    repo.git("tag", "-a", "v1.0-annotated", "-m", "annotated")
    repo.git("checkout", "-q", "main")

    f = only(run(repo.path), "tagged")
    assert f.origin.commit == added
    assert f.origin.refs == ("refs/tags/v1.0", "refs/tags/v1.0-annotated")


def test_secret_in_a_commit_message(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    sha = repo.commit(f"Fix login\n\nTemporary workaround:\nclient_secret = {secret('message')}\n")

    f = only(run(repo.path), "message")
    assert f.origin.source == "commit-message"
    assert f.origin.path is None
    assert f.origin.commit == sha
    assert f.origin.author == AUTHOR
    assert f.origin.refs == ("refs/heads/main",)
    assert f.line == 4


def test_secret_in_an_annotated_tag_message(repo: GitRepo) -> None:
    tagged = repo.commit("start", {"README": "hello\n"})
    repo.git("tag", "-a", "v2", "-m", f"release\n\nclient_secret = {secret('tag-message')}")

    f = only(run(repo.path), "tag-message")
    assert f.origin.source == "commit-message"
    assert f.origin.commit == tagged
    assert f.origin.blob_id == repo.head("refs/tags/v2")
    assert f.origin.refs == ("refs/tags/v2",)
    assert f.line == 3


def test_secret_introduced_by_a_merge(repo: GitRepo) -> None:
    repo.commit("start", {"conf.py": "A = 1\n"})
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("topic side", {"conf.py": "A = 2\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main side", {"conf.py": "A = 3\n"})
    repo.git("merge", "-q", "topic", "-m", "merge", check=False)  # conflicts
    repo.write("conf.py", "A = 4\n" + settings("merge"))
    merge = repo.commit("Merge topic, resolving by hand")

    f = only(run(repo.path), "merge")
    assert len(repo.git("rev-list", "--parents", "-n1", merge).split()) == 3
    assert (f.origin.commit, f.origin.path) == (merge, "conf.py")


def test_secret_merged_from_a_branch_belongs_to_the_branch_commit(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    repo.git("checkout", "-q", "-b", "topic")
    added = repo.commit("add on topic", {"topic.py": settings("merged")})
    repo.git("checkout", "-q", "main")
    repo.commit("main side", {"other.py": "B = 1\n"})
    repo.git("merge", "-q", "--no-ff", "topic", "-m", "merge topic")

    f = only(run(repo.path), "merged")
    assert f.origin.commit == added
    assert f.origin.refs == ("refs/heads/main", "refs/heads/topic")


def test_unreachable_object_after_a_reset(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    dropped = repo.commit(
        f"oops\n\nclient_secret = {secret('reset-message')}", {"x.py": settings("reset")}
    )
    repo.git("reset", "-q", "--hard", "HEAD~1")

    result = run(repo.path)
    f = only(result, "reset")
    assert f.origin.source == "git"
    assert f.origin.refs == ()
    assert f.origin.commit is None and f.origin.path is None
    assert f.origin.note == UNREACHABLE_NOTE
    assert f.origin.blob_id == repo.blob(f"{dropped}:x.py")
    message = only(result, "reset-message")
    assert message.origin.commit == dropped
    assert message.origin.refs == ()
    assert message.origin.note == UNREACHABLE_COMMIT_NOTE
    assert message.origin.author == AUTHOR


def test_stash_and_notes_are_scanned_and_named(repo: GitRepo) -> None:
    base = repo.commit("start", {"README": "hello\n"})
    repo.write("wip.py", settings("stash-old"))
    repo.git("add", "wip.py")
    repo.git("stash", "-q")
    repo.write("wip.py", settings("stash-new"))
    repo.git("add", "wip.py")
    repo.git("stash", "-q")
    repo.git("notes", "add", "-m", f"client_secret = {secret('note')}", base)

    result = run(repo.path)
    assert "refs/stash" in only(result, "stash-new").origin.refs
    assert only(result, "stash-old").origin.refs == ("refs/stash@{1}",)
    assert only(result, "note").origin.refs == ("refs/notes/commits",)


def test_every_blob_is_scanned_once(repo: GitRepo) -> None:
    repo.commit("one", {"a.py": settings("same")})
    repo.commit("two", {"b.py": settings("same")})  # the same content at a second path
    repo.commit("three", {"a.py": "x = 1\n"})

    result = run(repo.path)
    assert len(with_secret(result, "same")) == 1
    objects = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    messages = 3
    assert result.summary.blobs_scanned == objects.count("blob") + messages


def test_merge_order_and_content_are_identical_across_runs_and_jobs(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    for n in range(6):
        repo.commit(f"step {n}", {f"m{n}/s.py": settings(f"order-{n}")})
        repo.commit(f"change {n}", {f"m{n}/s.py": f"x = {n}\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit(f"side\n\n{secret('order-msg')}", {"side.py": settings("order-side")})
    repo.git("checkout", "-q", "main")

    def report(jobs: int) -> object:
        result = scan([str(repo.path)], Config(jobs=jobs, progress=False))
        data = report_dict(result, ReportOptions())
        data["summary"].pop("seconds")
        return data

    first = report(1)
    assert first == report(1) == report(2) == report(2) == report(3)
    assert len(first["findings"]) == 8  # type: ignore[index]


def test_bare_repository(git_repo: Callable[..., GitRepo], tmp_path: Path) -> None:
    work = git_repo("work")
    added = work.commit("add", {"k.py": settings("bare")})
    work.commit("remove", {"k.py": "k = 1\n"})
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(work.path), str(bare)], check=True)

    f = only(run(bare), "bare")
    assert (f.origin.commit, f.origin.path, f.origin.root) == (added, "k.py", str(bare))
    assert f.origin.refs == ("refs/heads/main",)


def test_shallow_clone_scans_what_exists_and_warns_once(
    git_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    origin = git_repo("origin")
    origin.commit("old", {"old.py": settings("before-boundary")})
    origin.commit("drop", {"old.py": "x = 1\n"})
    last = origin.commit("new", {"new.py": settings("after-boundary")})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin.path}", str(clone)], check=True
    )

    result = run(clone)
    assert not with_secret(result, "before-boundary")
    f = only(result, "after-boundary")
    assert f.origin.source == "git"
    assert (f.origin.commit, f.origin.path) == (last, "new.py")
    shallow = [e for e in result.summary.errors if "shallow" in e]
    assert len(shallow) == 1, result.summary.errors


def test_corrupt_object_is_named_and_the_scan_goes_on(repo: GitRepo) -> None:
    repo.commit("good", {"good.py": settings("intact")})
    data = os.urandom(4000)
    bad_id = _write_broken_loose_object(repo.path / ".git", data)

    result = run(repo.path)
    only(result, "intact")
    assert any(bad_id in e for e in result.summary.errors), result.summary.errors


def _write_broken_loose_object(git_dir: Path, data: bytes) -> str:
    """A loose blob whose header inflates but whose body does not: git lists it, then dies
    reading it."""
    raw = b"blob %d\0" % len(data) + data
    oid = hashlib.sha1(raw).hexdigest()
    packed = zlib.compress(raw)
    path = git_dir / "objects" / oid[:2] / oid[2:]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(packed[:100] + bytes(200) + packed[300:])
    return oid


def test_a_truncated_object_costs_one_warning(repo: GitRepo) -> None:
    repo.commit("good", {"good.py": settings("survivor")})
    junk = repo.path / ".git" / "objects" / "ab"
    junk.mkdir(exist_ok=True)
    (junk / ("c" * 38)).write_bytes(b"not zlib at all")

    result = run(repo.path)
    only(result, "survivor")
    assert any(("ab" + "c" * 38) in e for e in result.summary.errors), result.summary.errors


def test_blob_larger_than_the_limit_is_skipped_and_reported(repo: GitRepo) -> None:
    repo.commit("big", {"big.txt": "x" * 5000 + settings("too-big"), "small.py": settings("small")})

    result = run(repo.path, max_file_size=1000)
    only(result, "small")
    assert not with_secret(result, "too-big")
    assert any("max-file-size" in s.reason for s in result.summary.skipped)


def test_paths_with_spaces_and_unicode(repo: GitRepo) -> None:
    added = repo.commit("odd names", {"dir with space/naïve file.py": settings("odd")})

    f = only(run(repo.path), "odd")
    assert (f.origin.commit, f.origin.path) == (added, "dir with space/naïve file.py")


def test_test_fixture_confidence_follows_the_historic_path(repo: GitRepo) -> None:
    repo.commit("fixture", {"tests/fixtures/creds.py": settings("fixture")})
    repo.git("rm", "-q", "-r", "tests")
    repo.commit("drop")

    f = only(run(repo.path), "fixture")
    assert f.origin.path == "tests/fixtures/creds.py"
    assert f.confidence == "test-fixture"


def test_private_key_in_history(repo: GitRepo) -> None:
    key = samples.pem("pkcs8-ec")
    added = repo.commit("deploy key", {"deploy/id_ec.pem": key})
    repo.git("rm", "-q", "deploy/id_ec.pem")
    repo.commit("remove key")

    keys = [f for f in run(repo.path).findings if f.kind == "private-key"]
    assert len(keys) == 1
    assert (keys[0].origin.commit, keys[0].origin.path) == (added, "deploy/id_ec.pem")


# ---------------------------------------------------------------------------- work tree


def test_work_tree_changes_are_scanned_as_files(repo: GitRepo) -> None:
    repo.commit("start", {"committed.py": settings("committed"), "edited.py": "x = 1\n"})
    repo.write(".gitignore", "ignored.py\n")
    repo.write("ignored.py", settings("ignored"))
    repo.write("edited.py", settings("edited"))
    repo.write("new/untracked.py", settings("untracked"))

    result = run(repo.path)
    assert only(result, "committed").origin.source == "git"  # no duplicate from the file
    edited = only(result, "edited")
    assert (edited.origin.source, edited.origin.path) == ("file", "edited.py")
    untracked = only(result, "untracked")
    assert (untracked.origin.source, untracked.origin.path) == ("file", "new/untracked.py")
    assert not with_secret(result, "ignored")


def test_no_history_scans_only_the_files(repo: GitRepo) -> None:
    repo.commit("start", {"gone.py": settings("history-only")})
    repo.commit("remove", {"gone.py": "x = 1\n"})
    repo.write("here.py", settings("on-disk"))

    result = run(repo.path, history=False)
    assert not with_secret(result, "history-only")
    assert only(result, "on-disk").origin.source == "file"


def test_a_subdirectory_of_a_work_tree_is_scanned_as_a_directory(repo: GitRepo) -> None:
    repo.commit("start", {"sub/a.py": settings("in-sub"), "b.py": settings("outside")})
    repo.commit("remove", {"sub/a.py": "x = 1\n"})

    result = run(repo.path / "sub")
    assert not result.findings  # the file moved on; history is only scanned at the top


def test_core_worktree_of_the_repository_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "loot.py").write_text(settings("elsewhere"))
    repo.commit("start", {"README": "hello\n"})
    repo.git("config", "core.worktree", str(elsewhere))

    assert not with_secret(run(repo.path), "elsewhere")


# ---------------------------------------------------------------------------- ranges


def test_range_reports_only_what_the_range_introduces(repo: GitRepo) -> None:
    repo.commit("old secret", {"old.py": settings("base"), "keep.py": settings("moved-in-range")})
    base = repo.head()
    repo.git("checkout", "-q", "-b", "pr")
    repo.git("mv", "keep.py", "kept.py")
    repo.commit("move a file")
    added = repo.commit("new secret", {"new.py": settings("range")})
    message = repo.commit(f"note\n\nclient_secret = {secret('range-message')}")

    result = run(repo.path, commit_range=f"{base}..pr")
    assert not with_secret(result, "base")
    assert not with_secret(result, "moved-in-range")
    f = only(result, "range")
    assert (f.origin.source, f.origin.commit, f.origin.path) == ("git", added, "new.py")
    assert f.origin.author == AUTHOR
    assert f.origin.refs == ("refs/heads/pr",)
    assert only(result, "range-message").origin.commit == message


def test_range_with_a_merge_of_the_base_branch(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    base = repo.head()
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("pr work", {"pr.py": settings("pr-side")})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"main.py": settings("main-side")})
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-ff", "main", "-m", "merge main into pr")

    result = run(repo.path, commit_range=f"{base}..pr")
    only(result, "pr-side")
    # main's commit is in the range too (it is reachable from pr, not from base)
    only(result, "main-side")


@pytest.mark.parametrize("spec", ["main", "-x..y", "a ..b"])
def test_range_must_look_like_a_range(repo: GitRepo, spec: str) -> None:
    repo.commit("start", {"README": "hello\n"})
    with pytest.raises(ConfigError):
        run(repo.path, commit_range=spec)


def test_range_with_unknown_revisions_is_an_error(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    with pytest.raises(SourceError, match="--range"):
        run(repo.path, commit_range="nosuchref..main")


def test_range_needs_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="git repository"):
        run(tmp_path, commit_range="a..b")


# ---------------------------------------------------------------------------- staged


def test_staged_reports_only_the_index(repo: GitRepo) -> None:
    repo.commit("start", {"committed.py": settings("in-head"), "edit.py": "x = 1\n"})
    repo.write("new.py", settings("staged-new"))
    repo.write("edit.py", settings("staged-edit"))
    repo.git("add", "new.py", "edit.py")
    repo.write("edit.py", "x = 2\n")  # the work tree moved on; the index did not
    repo.write("unstaged.py", settings("not-staged"))

    result = run(repo.path, staged=True)
    assert {(f.origin.source, f.origin.path) for f in result.findings} == {
        ("file", "new.py"),
        ("file", "edit.py"),
    }
    assert only(result, "staged-edit").origin.commit is None


def test_staged_before_the_first_commit(repo: GitRepo) -> None:
    repo.write("first.py", settings("first-staged"))
    repo.git("add", "first.py")

    assert only(run(repo.path, staged=True), "first-staged").origin.path == "first.py"


def test_staged_honours_a_hooks_temporary_index(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("start", {"README": "hello\n"})
    repo.write("partial.py", settings("temporary-index"))
    index = repo.path / ".git" / "other-index"
    repo.git("add", "partial.py", env={"GIT_INDEX_FILE": str(index)})
    monkeypatch.setenv("GIT_INDEX_FILE", str(index))

    only(run(repo.path, staged=True), "temporary-index")


def test_staged_and_range_are_exclusive(repo: GitRepo) -> None:
    repo.commit("start", {"README": "hello\n"})
    with pytest.raises(ConfigError):
        run(repo.path, staged=True, commit_range="a..b")


def test_staged_in_a_bare_repository_is_an_error(git_repo: Callable[..., GitRepo]) -> None:
    bare = git_repo("bare.git", bare=True)
    with pytest.raises(ConfigError, match="work tree"):
        run(bare.path, staged=True)


# ---------------------------------------------------------------------------- ownership


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_repository_owned_by_another_user(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("start", {"a.py": settings("foreign")})
    foreign = tmp_path / "foreign"
    shutil.copytree(repo.path, foreign)
    for root, dirs, files in os.walk(foreign):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), 65534, 65534, follow_symlinks=False)
    os.chown(foreign, 65534, 65534)
    plain = subprocess.run(["git", "-C", str(foreign), "log"], capture_output=True, text=True)
    assert "dubious ownership" in plain.stderr  # git alone refuses

    f = only(run(foreign), "foreign")
    assert f.origin.path == "a.py"


def test_an_unreadable_git_directory_falls_back_to_the_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("garbage\n")
    (tmp_path / "app.py").write_text(settings("broken-git"))

    result = run(tmp_path)
    assert only(result, "broken-git").origin.source == "file"
    assert any("scanned its files only" in e for e in result.summary.errors)
    with pytest.raises(SourceError):
        run(tmp_path, staged=True)


def test_empty_repository_scans_its_untracked_files(repo: GitRepo) -> None:
    repo.write("draft.py", settings("no-commits-yet"))

    result = run(repo.path)
    assert only(result, "no-commits-yet").origin.source == "file"
    assert result.summary.errors == ()


def test_linked_worktree(repo: GitRepo, tmp_path: Path) -> None:
    added = repo.commit("start", {"a.py": settings("shared-history")})
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "wip.py").write_text(settings("linked-wip"))

    result = run(linked)
    f = only(result, "shared-history")
    assert (f.origin.commit, f.origin.root) == (added, str(linked))
    assert only(result, "linked-wip").origin.path == "wip.py"


def test_planning_tells_progress_the_total(repo: GitRepo) -> None:
    repo.commit("start", {"a.py": "x = 1\n" * 100})
    opened = git.open_repository(str(repo.path))
    assert opened is not None
    progress = Progress(stream=StringIO())
    tasks = list(git.plan(opened, Config(jobs=1), Problems(), progress))
    assert tasks
    assert progress.total_bytes is not None and progress.total_bytes >= 600


def test_a_relative_path_is_the_root_of_every_finding(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("start", {"a.py": settings("relative-history")})
    repo.write("b.py", settings("relative-file"))
    monkeypatch.chdir(repo.path)

    result = run(".")
    assert {f.origin.root for f in result.findings} == {"."}
    assert only(result, "relative-file").origin.path == "b.py"
    assert only(result, "relative-history").origin.path == "a.py"


def test_archive_in_history_is_opened_and_placed(repo: GitRepo) -> None:
    packed = BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("conf/settings.py", settings("zipped"))
    (repo.path / "dist").mkdir()
    (repo.path / "dist" / "app.zip").write_bytes(packed.getvalue())
    added = repo.commit("ship a build")
    repo.git("rm", "-q", "dist/app.zip")
    repo.commit("drop the build")

    f = only(run(repo.path), "zipped")
    assert f.origin.source == "archive"
    assert f.origin.path == "dist/app.zip!conf/settings.py"
    assert f.origin.commit == added
    assert f.origin.refs == ("refs/heads/main",)


@pytest.mark.parametrize("count", [3, 120_000])
def test_git_gets_all_of_its_input_small_or_larger_than_a_pipe(repo: GitRepo, count: int) -> None:
    """Input that fits in the pipe is written at once; more (here 4.9 MB) by a feeder
    thread. Either way git reads all of it and answers every line."""
    repo.commit("one", {"a.py": "x = 1\n"})
    opened = git.open_repository(str(repo.path))
    assert opened is not None
    ids = b"".join(b"%040x\n" % n for n in range(1, count + 1))
    out = opened.run(["cat-file", "--batch-check"], stdin=ids)
    assert out.count(b" missing\n") == count
