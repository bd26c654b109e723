"""The engine helper of `leakstop scan` (scanner.preload): the same report as a scan in
process, errors as one line, nothing left running, and a scan that survives the helper's
death. Each case runs in a fresh interpreter: the helper is a fork, never of pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from scanner import preload
from scanner.samples import expand
from tests.support.processes import alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _tree(root: Path) -> Path:
    root.mkdir()
    (root / "settings.py").write_text(
        f'CLIENT_ID = "{expand("«digits:12»-«lower:32»")}.apps.googleusercontent.com"\n'
        f'CLIENT_SECRET = "{expand("GOCSPX-«b64u:28»")}"\n'
    )
    (root / "clean.py").write_text("print('hello')\n")
    return root


def _leakstop(*args: str, helper: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop(preload.DISABLE_ENV, None)
    if not helper:
        env[preload.DISABLE_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(done.stdout)
    report["summary"].pop("seconds")
    return report


def test_the_helper_reports_what_a_scan_in_process_reports(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    with_helper = _leakstop("scan", str(tree), "--no-progress", "-f", "json")
    in_process = _leakstop("scan", str(tree), "--no-progress", "-f", "json", helper=False)
    assert with_helper.returncode == in_process.returncode == 1
    assert _report(with_helper) == _report(in_process)
    assert with_helper.stderr == in_process.stderr == ""


@pytest.mark.parametrize("fmt", ["sarif", "github", "jsonl"])
def test_every_format_comes_out_the_same_through_the_helper(tmp_path: Path, fmt: str) -> None:
    tree = _tree(tmp_path / "tree")
    with_helper = _leakstop("scan", str(tree), "--no-progress", "-f", fmt)
    in_process = _leakstop("scan", str(tree), "--no-progress", "-f", fmt, helper=False)
    assert with_helper.returncode == in_process.returncode == 1
    assert with_helper.stdout == in_process.stdout
    assert "GOCSPX-" not in with_helper.stdout  # redacted, as in process


def test_a_large_answer_comes_back_whole(tmp_path: Path) -> None:
    """Hundreds of findings: the answer is far larger than a pipe's buffer."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for k in range(300):
        secret = expand("GOCSPX-«b64u:28»", f"large-{k}")
        (tree / f"settings_{k}.py").write_text(f'CLIENT_SECRET = "{secret}"\n' * 3)
    with_helper = _leakstop("scan", str(tree), "--no-progress", "-f", "json")
    in_process = _leakstop("scan", str(tree), "--no-progress", "-f", "json", helper=False)
    assert len(_report(with_helper)["findings"]) == 900  # each location is a finding
    assert _report(with_helper) == _report(in_process)


def test_the_parent_never_loads_the_engine(tmp_path: Path) -> None:
    """The point of the helper: the CLI process imports no engine, regexes or hyperscan."""
    tree = _tree(tmp_path / "tree")
    program = textwrap.dedent(
        """
        import json, sys
        from scanner import preload
        preload.start(["scan", sys.argv[1]])
        from scanner.config import Config
        result = preload.scan([sys.argv[1]], Config(progress=False))
        loaded = [m for m in ("scanner.engine", "scanner.rules", "regex", "hyperscan")
                  if m in sys.modules]
        print(json.dumps([len(result.findings), loaded]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tree)], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [1, []]


def test_a_scan_error_comes_back_as_one_line() -> None:
    done = _leakstop("scan", "/nonexistent/leakstop-preload-test")
    assert done.returncode == 2
    assert done.stderr == (
        "leakstop: error: /nonexistent/leakstop-preload-test: no such file or directory\n"
    )


def test_a_helper_that_dies_leaves_the_scan_to_the_cli(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    program = textwrap.dedent(
        """
        import os, signal, sys
        from scanner import preload
        preload.start(["scan", sys.argv[1]])
        os.kill(preload._helper.pid, signal.SIGKILL)
        from scanner.config import Config
        print(len(preload.scan([sys.argv[1]], Config(progress=False)).findings))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tree)], capture_output=True, text=True, check=True
    )
    assert done.stdout == "1\n"


def test_ctrl_c_in_the_helper_stops_the_cli_as_interrupted(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    program = textwrap.dedent(
        """
        import os, signal, sys, time
        from scanner import preload
        preload.start(["scan", sys.argv[1]])
        time.sleep(0.2)  # the helper's handler for SIGINT is Python's by now
        os.kill(preload._helper.pid, signal.SIGINT)
        from scanner.config import Config
        try:
            preload.scan([sys.argv[1]], Config(progress=False))
        except KeyboardInterrupt:
            print("interrupted")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tree)], capture_output=True, text=True, check=True
    )
    assert done.stdout == "interrupted\n"


def test_no_helper_outlives_a_command_line_that_does_not_scan(tmp_path: Path) -> None:
    marker = str(tmp_path / "no-such-dir-for-the-helper")
    done = _leakstop("scan", "--no-such-option", marker)
    assert done.returncode == 2  # typer's usage error; the helper had started meanwhile
    assert _processes_naming(marker) == []


def test_the_helper_stops_when_the_cli_is_killed_mid_scan(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    program = textwrap.dedent(
        """
        import sys, time
        import scanner.api
        scanner.api.scan = lambda paths, config: time.sleep(600)  # a scan that takes long
        from scanner import preload
        preload.start(["scan", sys.argv[1]])
        from scanner.config import Config
        print(preload._helper.pid, flush=True)
        preload.scan([sys.argv[1]], Config(progress=False))
        """
    )
    cli = subprocess.Popen(
        [sys.executable, "-c", program, str(tree)], stdout=subprocess.PIPE, text=True
    )
    assert cli.stdout is not None
    helper_pid = int(cli.stdout.readline())
    time.sleep(0.5)  # the request is in: the helper is "scanning"
    assert alive(helper_pid)
    cli.kill()
    cli.wait(timeout=30)
    deadline = time.monotonic() + 30
    while alive(helper_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(helper_pid)


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["rules", "list"], ["scan", "--help"], ["scan", "-h", "."], ["merge", "x"]],
)
def test_only_a_scan_command_line_starts_a_helper(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.delenv(preload.DISABLE_ENV, raising=False)
    preload.start(argv)
    assert preload._helper is None


def test_the_helper_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setenv(preload.DISABLE_ENV, "1")
    preload.start(["scan", "."])
    assert preload._helper is None


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found
