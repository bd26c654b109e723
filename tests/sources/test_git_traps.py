"""Hostile repositories: each test arms one way a repository's config can make git run a
program (it would create a marker file), shows that plain git does fire it, then scans the
repository in every mode (full history + work tree, --range, --staged) and checks that the
trap stayed quiet and the planted secret was still found."""

from __future__ import annotations

import http.server
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner import Config, scan
from scanner.sources.gitsafe import ALLOWED_COMMANDS, HARDENING_CONFIG, invocation
from tests.sources.conftest import GitRepo, secret, settings

PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class Armed:
    repo: GitRepo
    script: Path
    marker: Path
    base: str
    """The commit before the secret: ranges start here."""

    def fired(self) -> bool:
        return self.marker.exists()

    def reset(self) -> None:
        self.marker.unlink(missing_ok=True)


def make_script(tmp_path: Path, body: str) -> tuple[Path, Path]:
    marker = tmp_path / "TRAP-FIRED"
    script = tmp_path / "trap.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker}"\n{body}\n')
    script.chmod(0o755)
    return script, marker


@pytest.fixture
def armed_repo(repo: GitRepo, tmp_path: Path) -> Iterator[Callable[[str], Armed]]:
    """A repository with a secret in history, one staged, and a trap script to arm."""
    base = repo.commit("start", {"README": "hello\n", "app.py": "x = 1\n"})
    repo.commit("add secret", {"app.py": settings("trap-history")})
    repo.write("staged.py", settings("trap-staged"))
    repo.git("add", "staged.py")

    def arm(body: str) -> Armed:
        script, marker = make_script(tmp_path, body)
        return Armed(repo, script, marker, base)

    yield arm


def scan_every_way(armed: Armed) -> None:
    """Full scan (history, provenance, work tree), a range and the index: the trap must not
    fire and the secrets must be found."""
    path = str(armed.repo.path)
    full = scan([path], Config(jobs=1, progress=False))
    assert any(f.secret == secret("trap-history") for f in full.findings)
    spec = f"{armed.base}..HEAD"
    ranged = scan([path], Config(jobs=1, progress=False, commit_range=spec))
    assert any(f.secret == secret("trap-history") for f in ranged.findings)
    staged = scan([path], Config(jobs=2, progress=False, staged=True))
    assert any(f.secret == secret("trap-staged") for f in staged.findings)
    assert not armed.fired(), "a program from the scanned repository's config ran"


def test_fsmonitor_hook(armed_repo: Callable[[str], Armed]) -> None:
    armed = armed_repo("exit 0")
    armed.repo.git("config", "core.fsmonitor", str(armed.script))
    armed.repo.git("status")
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


@pytest.mark.parametrize("where", ["hooks-dir", "hooksPath"])
def test_hooks(armed_repo: Callable[[str], Armed], tmp_path: Path, where: str) -> None:
    armed = armed_repo("exit 0")
    hooks = armed.repo.path / ".git" / "hooks"
    if where == "hooksPath":
        hooks = tmp_path / "their-hooks"
        hooks.mkdir()
        armed.repo.git("config", "core.hooksPath", str(hooks))
    for name in (
        "pre-commit",
        "post-commit",
        "post-checkout",
        "post-index-change",
        "reference-transaction",
        "pre-auto-gc",
        "post-rewrite",
        "post-merge",
    ):
        target = hooks / name
        target.write_text(armed.script.read_text())
        target.chmod(0o755)
    armed.repo.git("checkout", "-q", "-b", "control")  # post-checkout, reference-transaction
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


def test_external_diff(armed_repo: Callable[[str], Armed]) -> None:
    armed = armed_repo("exit 0")
    armed.repo.git("config", "diff.external", str(armed.script))
    armed.repo.git("diff", "HEAD~1", "HEAD")
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


def test_textconv_driver(armed_repo: Callable[[str], Armed]) -> None:
    armed = armed_repo('cat "$1"')
    armed.repo.write(".gitattributes", "*.py diff=trap\n")
    armed.repo.git("config", "diff.trap.textconv", str(armed.script))
    armed.repo.git("show", "HEAD")
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


def test_clean_and_smudge_filters(armed_repo: Callable[[str], Armed]) -> None:
    armed = armed_repo("cat")
    repo = armed.repo
    repo.write(".gitattributes", "*.py filter=trap\n")
    repo.git("config", "filter.trap.clean", str(armed.script))
    repo.git("config", "filter.trap.smudge", str(armed.script))
    (repo.path / "app.py").unlink()
    repo.git("checkout", "--", "app.py")  # smudge
    assert armed.fired()
    armed.reset()
    os.utime(repo.path / "app.py", (1, 1))
    repo.git("status")  # clean, to compare the touched file
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


def test_gpg_program_on_signed_commits(armed_repo: Callable[[str], Armed]) -> None:
    armed = armed_repo("exit 1")
    repo = armed.repo
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
    repo.git("config", "gpg.program", str(armed.script))
    repo.git("config", "log.showSignature", "true")
    repo.git("log", "-1")
    assert armed.fired()
    armed.reset()
    scan_every_way(armed)


def test_pagers_even_on_a_terminal(armed_repo: Callable[[str], Armed], tmp_path: Path) -> None:
    armed = armed_repo("exec cat")
    repo = armed.repo
    repo.git("config", "core.pager", str(armed.script))
    repo.git("config", "pager.log", str(armed.script))
    repo.git("config", "pager.cat-file", str(armed.script))
    on_terminal(["git", "-C", str(repo.path), "log"])
    assert armed.fired()
    armed.reset()
    report = tmp_path / "report.json"
    status = on_terminal(
        [sys.executable, "-m", "scanner", "scan", str(repo.path), "-f", "json", "-o", str(report)],
        env={"GIT_PAGER": str(armed.script), "PAGER": str(armed.script)},
    )
    assert status == 1
    assert secret("trap-history") not in report.read_text()  # redacted, but reported:
    assert '"source": "git"' in report.read_text()
    scan_every_way(armed)


def on_terminal(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Run with stdout and stderr on a pseudo-terminal, so a pager would start."""
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=child,
            stderr=child,
            cwd=PROJECT,
            env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})},
        )
        os.close(child)
        child = -1
        while True:  # drain, or a chatty child would block on a full terminal
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


# ---------------------------------------------------------------- transports (lazy fetch)


@pytest.fixture
def partial_clone(repo: GitRepo) -> Iterator[tuple[GitRepo, str]]:
    """A repository whose newest commit refers to a blob it does not have, with a promisor
    remote: reading that blob makes plain git fetch it (a partial clone's lazy fetch)."""
    repo.commit("start", {"README": "hello\n"})
    repo.commit(
        "secret and a missing blob", {"app.py": settings("trap-history"), "big.bin": "B" * 50}
    )
    missing = repo.blob("HEAD:big.bin")
    (repo.path / ".git" / "objects" / missing[:2] / missing[2:]).unlink()
    repo.git("config", "core.repositoryformatversion", "1")
    repo.git("config", "extensions.partialClone", "origin")
    repo.git("config", "remote.origin.promisor", "true")
    yield repo, missing


def test_ssh_command_on_lazy_fetch(partial_clone: tuple[GitRepo, str], tmp_path: Path) -> None:
    repo, missing = partial_clone
    script, marker = make_script(tmp_path, "exit 1")
    repo.git("config", "remote.origin.url", "ssh://git@example.invalid/x.git")
    repo.git("config", "core.sshCommand", str(script))
    repo.git("cat-file", "-e", missing, check=False)
    assert marker.exists()
    marker.unlink()

    result = scan([str(repo.path)], Config(jobs=1, progress=False, commit_range="HEAD~1..HEAD"))
    assert any(f.secret == secret("trap-history") for f in result.findings)
    assert any(missing in e for e in result.summary.errors)
    assert not marker.exists()


class _Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="trap"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def unauthorized_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/repo.git"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("key", ["credential.helper", "core.askPass"])
def test_credential_programs_on_lazy_fetch(
    partial_clone: tuple[GitRepo, str], unauthorized_server: str, tmp_path: Path, key: str
) -> None:
    repo, missing = partial_clone
    script, marker = make_script(tmp_path, "echo user")
    repo.git("config", "remote.origin.url", unauthorized_server)
    value = f"!{script}" if key == "credential.helper" else str(script)
    repo.git("config", key, value)
    repo.git("cat-file", "-e", missing, check=False)
    assert marker.exists()
    marker.unlink()

    result = scan([str(repo.path)], Config(jobs=1, progress=False, commit_range="HEAD~1..HEAD"))
    assert any(f.secret == secret("trap-history") for f in result.findings)
    assert not marker.exists()


# ---------------------------------------------------------------- the list itself


def test_every_command_carries_the_whole_hardening_list() -> None:
    argv, env = invocation(["cat-file", "--batch"], git_dir="/nowhere")
    for key, value, _why in HARDENING_CONFIG:
        assert f"{key}={value}" in argv
    assert "--no-replace-objects" in argv
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_ATTR_NOSYSTEM"] == "1"
    keys = {k for k, _v, _w in HARDENING_CONFIG}
    for needed in (
        "core.fsmonitor",
        "core.hooksPath",
        "diff.external",
        "core.pager",
        "core.sshCommand",
        "credential.helper",
        "gpg.program",
        "protocol.allow",
        "core.askPass",
    ):
        assert needed in keys


def test_diff_commands_never_run_drivers() -> None:
    argv, _ = invocation(["log", "--raw"], git_dir="/nowhere")
    assert "--no-ext-diff" in argv and "--no-textconv" in argv


@pytest.mark.parametrize(
    "args",
    [["checkout", "main"], ["fetch"], ["status"], ["cat-file", "--filters", "x"], ["log", "-p"]],
)
def test_commands_that_could_run_programs_are_refused(args: list[str]) -> None:
    assert args[0] not in ALLOWED_COMMANDS or args[1] in ("--filters", "-p")
    with pytest.raises(ValueError):
        invocation(args, git_dir="/nowhere")


def test_environment_cannot_redirect_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_EXTERNAL_DIFF", "GIT_SSH_COMMAND", "GIT_PAGER"):
        monkeypatch.setenv(name, "/tmp/evil")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.pager")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "/tmp/evil")
    monkeypatch.setenv("SSH_ASKPASS", "/tmp/evil")
    _, env = invocation(["rev-parse", "HEAD"], git_dir="/nowhere")
    assert not any(v == "/tmp/evil" for v in env.values())
