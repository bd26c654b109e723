"""Promise: nothing in scanned content makes leakstop run a program.

``tests/sources/test_git_traps.py`` arms one trap at a time and scans through the library in
history, range and staged modes. Here one repository carries every trap at once (each would
touch its own marker file) and the real ``leakstop`` command scans it every way a user or CI
can: history + work tree on a terminal (so a pager would start), ``--no-history``, a
subdirectory of the work tree, the ``.git`` directory itself, ``--range``, ``--staged``,
``leakstop verify`` re-reading from git, and the Action's entry point on a pull request and on
a schedule. Then an organisation scan clones a repository whose ``.gitattributes`` names the
filter and diff drivers of the user's own global config (as git-lfs installs them). No marker
may appear, every planted secret is still found, and the scanned repository, ``.git``
included, is left exactly as it was."""

from __future__ import annotations

import http.server
import json
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner.models import make_fingerprint
from scanner.sources.gitsafe import invocation
from tests.security.support import (
    Run,
    changes,
    child_env,
    google_secret,
    leakstop,
    settings,
    snapshot,
)
from tests.sources.conftest import GitRepo
from tests.support.fake_github import FakeGitHub

GOOGLE = "google-oauth-client-secret"
HOOKS = (
    "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
    "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout",
    "post-merge", "pre-push", "pre-receive", "update", "proc-receive", "post-receive",
    "post-update", "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite",
    "sendemail-validate", "fsmonitor-watchman", "post-index-change",
)  # fmt: skip


@dataclass
class Traps:
    """Marker-touching scripts, one per way a repository could make git run a program."""

    root: Path
    names: list[str] = field(default_factory=list)

    @property
    def markers(self) -> Path:
        return self.root / "markers"

    def script(self, name: str, body: str = "exit 1") -> Path:
        self.markers.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{name}.sh"
        path.write_text(f'#!/bin/sh\ntouch "{self.markers / name}"\n{body}\n')
        path.chmod(0o755)
        self.names.append(name)
        return path

    def fired(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir()) if self.markers.exists() else []

    def reset(self) -> None:
        for marker in self.markers.iterdir():
            marker.unlink()


@dataclass
class TrapRepo:
    repo: GitRepo
    traps: Traps
    base: str
    missing: str
    """A blob the newest commit names but the repository lacks (a partial clone's)."""
    secrets: dict[str, str]
    web_requests: list[str]


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="trap"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def web_remote() -> Iterator[tuple[str, list[str]]]:
    """An http git remote that asks for credentials (so helpers and askpass would run)."""
    seen: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/repo.git", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def trap_repo(make_repo, tmp_path: Path, web_remote: tuple[str, list[str]]) -> TrapRepo:
    repo = GitRepo(make_repo("trap"))
    traps = Traps(tmp_path / "traps")
    secrets = {
        name: google_secret(f"trap-{name}")
        for name in ("history", "sub", "staged", "untracked", "modified")
    }
    base = repo.commit(
        "start",
        {
            "README": "hello\n",
            "app.py": "x = 1\n",
            "notes.txt": "notes\n",
            "sub/deep.py": "y = 2\n",
            ".gitattributes": "*.py diff=trap filter=trap\n*.txt diff=trap filter=trap2\n",
        },
    )
    repo.commit(
        "add secrets",
        {"app.py": settings("trap-history"), "sub/deep.py": settings("trap-sub")},
    )
    repo.commit("a blob that will go missing", {"big.bin": "B" * 64})
    missing = repo.blob("HEAD:big.bin")
    _signed_commit(repo)
    (repo.path / ".git" / "objects" / missing[:2] / missing[2:]).unlink()

    repo.write("staged.py", settings("trap-staged"))
    repo.git("add", "staged.py")
    repo.write("untracked.py", settings("trap-untracked"))
    repo.write("sub/deep.py", settings("trap-modified"))

    web_url, seen = web_remote
    hooks = tmp_path / "their-hooks"
    hooks.mkdir()
    for name in HOOKS:
        for where in (hooks, repo.path / ".git" / "hooks"):
            target = where / name
            target.write_text(traps.script(f"hook-{name}").read_text())
            target.chmod(0o755)
    (repo.path / "included.cfg").write_text(f"[core]\n\tpager = {traps.script('included-pager')}\n")
    config = {
        "core.fsmonitor": traps.script("fsmonitor", "exit 0"),
        "core.hooksPath": hooks,
        "diff.external": traps.script("diff-external"),
        "diff.trap.textconv": traps.script("textconv", 'cat "$1"'),
        "diff.trap.command": traps.script("diff-command"),
        "filter.trap.clean": traps.script("filter-clean", "cat"),
        "filter.trap.smudge": traps.script("filter-smudge", "cat"),
        "filter.trap2.process": traps.script("filter-process"),
        "filter.trap2.required": "true",
        "gpg.program": traps.script("gpg"),
        "gpg.ssh.program": traps.script("gpg-ssh"),
        "gpg.x509.program": traps.script("gpg-x509"),
        "log.showSignature": "true",
        "core.pager": traps.script("pager", "exec cat"),
        "pager.log": traps.script("pager-log", "exec cat"),
        "pager.cat-file": traps.script("pager-cat-file", "exec cat"),
        "pager.rev-list": traps.script("pager-rev-list", "exec cat"),
        "core.editor": traps.script("editor"),
        "sequence.editor": traps.script("sequence-editor"),
        "core.askPass": traps.script("askpass", "echo user"),
        "credential.helper": f"!{traps.script('credential-helper', 'echo username=u')}",
        "core.sshCommand": traps.script("ssh"),
        "core.gitProxy": traps.script("git-proxy"),
        "core.alternateRefsCommand": traps.script("alternate-refs"),
        "include.path": repo.path / "included.cfg",
        # A partial clone whose promisor remotes would each run a program on a lazy fetch.
        "core.repositoryformatversion": "1",
        "extensions.partialClone": "ext",
        "remote.ext.url": f"ext::sh -c touch% {traps.markers / 'ext-transport'}",
        "remote.ext.promisor": "true",
        "protocol.ext.allow": "always",
        "remote.upload.url": f"file://{repo.path}",
        "remote.upload.uploadpack": traps.script("uploadpack"),
        "remote.upload.promisor": "true",
        "protocol.file.allow": "always",
        "remote.sshy.url": "ssh://git@example.invalid/x.git",
        "remote.sshy.promisor": "true",
        "protocol.ssh.allow": "always",
        "remote.web.url": web_url,
        "remote.web.promisor": "true",
        "protocol.http.allow": "always",
    }
    for key, value in config.items():
        repo.git("config", key, str(value))
    return TrapRepo(repo, traps, base, missing, secrets, seen)


def _signed_commit(repo: GitRepo) -> None:
    parent = repo.head()
    tree = repo.git("rev-parse", "HEAD^{tree}")
    signed = (
        f"tree {tree}\nparent {parent}\n"
        "author Test Author <author@example.test> 1700000000 +0000\n"
        "committer Test Author <author@example.test> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n"
        " -----END PGP SIGNATURE-----\n\nsigned commit\n"
    )
    commit = subprocess.run(
        ["git", "-C", str(repo.path), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=signed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    repo.git("update-ref", "refs/heads/main", commit)


def _plain_git(repo: Path, *args: str) -> None:
    """git as a user would run it (no leakstop hardening), lazy fetches allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, check=False)


def test_the_traps_are_live_for_plain_git(trap_repo: TrapRepo) -> None:
    """The control: ordinary git commands set off the traps the scans must not (the hooks'
    control is in tests/sources/test_git_traps.py: here a checkout would stop at the missing
    blob)."""
    path, traps = trap_repo.repo.path, trap_repo.traps
    _plain_git(path, "status")
    _plain_git(path, "log", "-1")
    _plain_git(path, "diff", "HEAD~3", "HEAD~2")
    _plain_git(path, "log", "-1", "-p", "--no-ext-diff", "HEAD~2")
    _plain_git(path, "cat-file", "-e", trap_repo.missing)
    fired = traps.fired()
    live = ("fsmonitor", "filter-clean", "gpg", "diff-command", "textconv", "ext-transport")
    live += ("uploadpack", "ssh", "credential-helper", "askpass")
    for expected in live:
        assert expected in fired, " ".join(fired)


def fingerprints(report: Path) -> set[str]:
    return {f["fingerprint"] for f in json.loads(report.read_text())["findings"]}


def expect(trap_repo: TrapRepo, *names: str) -> set[str]:
    return {make_fingerprint(GOOGLE, trap_repo.secrets[n]) for n in names}


def test_no_scan_mode_runs_anything_the_repository_names(
    trap_repo: TrapRepo, tmp_path: Path
) -> None:
    repo, traps = trap_repo.repo, trap_repo.traps
    sandbox = tmp_path / "sandbox"
    (sandbox / "home").mkdir(parents=True)
    (sandbox / "tmp").mkdir()
    env = child_env(HOME=str(sandbox / "home"), TMPDIR=str(sandbox / "tmp"), NO_COLOR="1")
    before = snapshot(repo.path)
    path = str(repo.path)
    report = sandbox / "report.json"

    def scan(*args: str, expected: set[str]) -> Run:
        run = leakstop(
            "scan", *args, "-f", "json", "-o", report, "--jobs", "2", cwd=sandbox, env=env
        )
        assert run.returncode == 1, run.stderr
        assert expected <= fingerprints(report), (args, run.stderr)
        return run

    everything = expect(trap_repo, "history", "sub", "staged", "untracked", "modified")
    assert on_terminal(["scan", path, "-f", "json", "-o", str(report)], cwd=sandbox, env=env) == 1
    assert everything <= fingerprints(report)
    scan(path, "--no-history", expected=expect(trap_repo, "history", "modified", "staged"))
    scan(f"{path}/sub", expected=expect(trap_repo, "modified"))
    scan(f"{path}/.git", expected=expect(trap_repo, "history", "sub", "staged"))
    scan(path, "--range", f"{trap_repo.base}..HEAD", expected=expect(trap_repo, "history", "sub"))
    scan(path, "--staged", expected=expect(trap_repo, "staged"))
    scan(path, expected=everything)  # last: `verify` re-reads this report from git
    verified = leakstop("verify", report, "--offline", "-f", "json", cwd=sandbox, env=env)
    assert verified.returncode == 1, verified.stderr

    for event, payload in (
        ("pull_request", _pull_request(trap_repo)),
        ("schedule", {}),
    ):
        (sandbox / "event.json").write_text(json.dumps(payload))
        action_env = {
            **env,
            "GITHUB_WORKSPACE": path,
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(sandbox / "event.json"),
            "GITHUB_STEP_SUMMARY": str(sandbox / "summary.md"),
            "GITHUB_OUTPUT": str(sandbox / "outputs.txt"),
            "RUNNER_TEMP": str(sandbox),
            "LEAKSTOP_EXTRA_ARGS": "--jobs 1",
        }
        run = leakstop("action", cwd=sandbox, env=action_env)
        assert run.returncode == 1, run.output
        assert "google-oauth-client-secret" in run.stdout

    assert traps.fired() == [], "a program named by the scanned repository ran"
    assert trap_repo.web_requests == [], "git fetched from a remote of the scanned repository"
    assert changes(before, snapshot(repo.path)) == [], "the scan changed the repository"
    assert sorted(os.listdir(sandbox / "tmp")) == []


def test_a_missing_base_commit_in_the_action_fetches_nothing(
    trap_repo: TrapRepo, tmp_path: Path
) -> None:
    """The Action asks git whether the pull request's base commit is there; in a partial
    clone that is a lazy fetch, which the checkout's remotes would turn into a command."""
    payload = _pull_request(trap_repo)
    payload["pull_request"]["base"]["sha"] = "ab" * 20  # not in the repository
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = child_env(
        GITHUB_WORKSPACE=str(trap_repo.repo.path),
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        RUNNER_TEMP=str(tmp_path),
    )
    run = leakstop("action", cwd=tmp_path, env=env)
    assert run.returncode == 2 and "fetch-depth: 0" in run.stdout
    assert trap_repo.traps.fired() == []
    assert trap_repo.web_requests == []


def test_old_git_without_no_lazy_fetch_still_fetches_nothing(trap_repo: TrapRepo) -> None:
    """git before 2.39.4 ignores GIT_NO_LAZY_FETCH; the repository's own
    ``protocol.ext.allow=always`` outranks ``-c protocol.allow=never``, so only
    GIT_ALLOW_PROTOCOL keeps its ``ext::`` command from running."""
    argv, env = invocation(
        ["cat-file", "-e", trap_repo.missing], git_dir=str(trap_repo.repo.path / ".git")
    )
    del env["GIT_NO_LAZY_FETCH"]  # what an older git does with it
    subprocess.run(argv, env=env, capture_output=True, check=False)
    assert trap_repo.traps.fired() == []
    assert trap_repo.web_requests == []


def _pull_request(trap_repo: TrapRepo) -> dict[str, object]:
    return {
        "pull_request": {
            "number": 7,
            "base": {"sha": trap_repo.base, "repo": {"full_name": "acme/app"}},
            "head": {"sha": trap_repo.repo.head(), "repo": {"full_name": "acme/app"}},
        }
    }


def on_terminal(args: list[str], *, cwd: Path, env: dict[str, str]) -> int:
    """``leakstop ARGS`` with stdout and stderr on a pseudo-terminal, so a pager would start
    and the progress bar draws."""
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scanner", *args],
            stdin=subprocess.DEVNULL,
            stdout=child,
            stderr=child,
            cwd=cwd,
            env=env,
        )
        os.close(child)
        child = -1
        while True:
            try:
                if not os.read(main, 65536):
                    break
            except OSError:
                break
        return proc.wait(timeout=120)
    finally:
        os.close(main)
        if child >= 0:
            os.close(child)


# ------------------------------------------------------------------------- organisation scans


def test_scan_org_clones_never_run_the_users_drivers(make_repo, tmp_path: Path) -> None:
    """A user with git-lfs-style drivers in ~/.gitconfig scans an organisation whose
    repository names those drivers in .gitattributes, and a submodule with an ext:: URL."""
    traps = Traps(tmp_path / "traps")
    home = tmp_path / "home"
    home.mkdir()
    textconv = traps.script("lfs-textconv", 'cat "$1"')
    (home / ".gitconfig").write_text(
        '[filter "lfs"]\n'
        f"\tclean = {traps.script('lfs-clean', 'cat')}\n"
        f"\tsmudge = {traps.script('lfs-smudge', 'cat')}\n"
        f"\tprocess = {traps.script('lfs-process')}\n"
        "\trequired = true\n"
        '[diff "lfs"]\n'
        f"\ttextconv = {textconv}\n"
        "[core]\n"
        f"\tpager = {traps.script('user-pager', 'exec cat')}\n"
    )
    work = GitRepo(make_repo("work-app"))
    work.commit(
        "start",
        {
            ".gitattributes": "* filter=lfs diff=lfs\n",
            ".gitmodules": (
                '[submodule "evil"]\n\tpath = evil\n'
                f"\turl = ext::sh -c touch% {traps.markers / 'submodule-ext'}\n"
            ),
            "config/settings.py": settings("org-history"),
        },
    )
    work.git("update-index", "--add", "--cacheinfo", f"160000,{work.head()},evil")
    work.git("commit", "-q", "-m", "submodule")
    token = "fake-token-for-the-loopback-github"
    fake = FakeGitHub(tmp_path / "github", token=token).start()
    try:
        fake.add_repo("acme", "app", work.path)
        sandbox = tmp_path / "sandbox"
        sandbox.mkdir()
        env = child_env(HOME=str(home), GITHUB_TOKEN=token, NO_COLOR="1")
        report = sandbox / "org.json"
        args = ("scan-org", "acme", "--api-url", fake.api_url, "--cache-dir", sandbox / "cache")
        for _ in range(2):  # a clone, then a fetch into the cache
            run = leakstop(*args, "-f", "json", "-o", report, "-j", "1", cwd=sandbox, env=env)
            assert run.returncode in (0, 1), run.stderr
            work.commit("more", {"more.txt": f"{time.monotonic_ns()}\n"})
            work.git("push", "-q", str(fake.bare("acme", "app")), "main")
        first = leakstop(*args, "--full", "-f", "json", "-o", report, cwd=sandbox, env=env)
        assert first.returncode == 1, first.stderr
        assert make_fingerprint(GOOGLE, google_secret("org-history")) in fingerprints(report)
    finally:
        fake.stop()
    assert traps.fired() == []
