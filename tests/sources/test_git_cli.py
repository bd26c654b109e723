"""``leakstop scan`` on repositories, through the command line (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from tests.sources.conftest import GitRepo, secret, settings

runner = CliRunner()


def cli(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    """Exit code, the JSON report (when one was printed) and stderr."""
    result = runner.invoke(app, ["scan", "--no-progress", "-f", "json", *args])
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


@pytest.fixture
def history(repo: GitRepo) -> tuple[GitRepo, str, str]:
    """main: an old secret added then removed; then a new one. Returns (repo, base, added)."""
    repo.commit("old", {"old.py": settings("cli-old")})
    repo.commit("remove", {"old.py": "x = 1\n"})
    base = repo.head()
    added = repo.commit("new", {"new.py": settings("cli-new")})
    return repo, base, added


def test_full_history_json_report(history: tuple[GitRepo, str, str]) -> None:
    repo, _base, added = history
    code, report, stderr = cli(str(repo.path), "--jobs", "2")
    assert code == 1, stderr
    assert report is not None
    by_path = {f["path"]: f for f in report["findings"]}
    assert set(by_path) == {"old.py", "new.py"}
    new = by_path["new.py"]
    assert new["source"] == "git"
    assert new["commit"] == added
    assert new["author"] == "Test Author <author@example.test>"
    assert new["refs"] == ["refs/heads/main"]
    assert new["secret"] != secret("cli-new")  # redacted
    assert report["summary"]["blobs_scanned"] > 0


def test_range_reports_only_new_secrets(history: tuple[GitRepo, str, str]) -> None:
    repo, base, added = history
    code, report, _ = cli(str(repo.path), "--range", f"{base}..HEAD")
    assert code == 1
    assert report is not None
    assert [(f["path"], f["commit"]) for f in report["findings"]] == [("new.py", added)]

    code, report, _ = cli(str(repo.path), "--range", "HEAD..HEAD")
    assert code == 0
    assert report is not None and report["findings"] == []


def test_bad_range_is_exit_2_with_one_line(history: tuple[GitRepo, str, str]) -> None:
    repo, _, _ = history
    code, report, stderr = cli(str(repo.path), "--range", "nosuch..HEAD")
    assert code == 2
    assert report is None
    assert stderr.startswith("leakstop: error: ") and "--range" in stderr
    assert "Traceback" not in stderr

    code, _, stderr = cli(str(repo.path), "--range", "HEAD")
    assert code == 2 and "BASE..HEAD" in stderr


def test_staged(history: tuple[GitRepo, str, str]) -> None:
    repo, _, _ = history
    code, report, _ = cli(str(repo.path), "--staged")
    assert code == 0
    repo.write("cfg/prod.py", settings("cli-staged"))
    repo.git("add", "cfg/prod.py")
    code, report, _ = cli(str(repo.path), "--staged")
    assert code == 1
    assert report is not None
    assert [(f["source"], f["path"]) for f in report["findings"]] == [("file", "cfg/prod.py")]


def test_staged_outside_a_repository(tmp_path: Path) -> None:
    code, _, stderr = cli(str(tmp_path), "--staged")
    assert code == 2 and "git repository" in stderr


def test_no_history(history: tuple[GitRepo, str, str]) -> None:
    repo, _, _ = history
    code, report, _ = cli(str(repo.path), "--no-history")
    assert code == 1
    assert report is not None
    assert [(f["source"], f["path"]) for f in report["findings"]] == [("file", "new.py")]


def test_text_report_and_warnings(history: tuple[GitRepo, str, str]) -> None:
    repo, _, added = history
    (repo.path / ".git" / "objects" / "ab").mkdir(exist_ok=True)
    (repo.path / ".git" / "objects" / "ab" / ("0" * 38)).write_bytes(b"junk")
    result = runner.invoke(app, ["scan", "--no-progress", str(repo.path)])
    assert result.exit_code == 1
    assert added[:12] in result.stdout or added in result.stdout
    assert "leakstop: warning: object ab" in result.stderr
