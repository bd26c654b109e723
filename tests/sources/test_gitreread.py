"""``leakstop verify`` re-reads redacted git findings through the git source's readers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from scanner import Config, scan
from scanner.report.base import ReportOptions
from scanner.report.json import load_report, report_dict
from scanner.sources import gitreread
from scanner.verify import reread
from scanner.verify.reread import Rereader, RereadError
from tests.sources.conftest import GitRepo, secret, settings


@pytest.fixture(autouse=True)
def git_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """gitreread.register(), undone after the test (other tests see the registry as it was)."""
    monkeypatch.setattr(reread, "_READERS", dict(reread._READERS))
    gitreread.register()


def test_redacted_git_findings_are_read_again(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("start", {"app.py": settings("reread-blob")})
    repo.commit(f"msg\n\nclient_secret = {secret('reread-message')}", {"app.py": "x = 1\n"})
    repo.git("tag", "-a", "v1", "-m", f"tag\n\nclient_secret = {secret('reread-tag')}")
    report = tmp_path / "report.json"
    result = scan([str(repo.path)], Config(jobs=1, progress=False))
    report.write_text(json.dumps(report_dict(result, ReportOptions())))

    findings = load_report(report).findings
    assert len(findings) == 3 and all("redacted" in f.secret for f in findings)
    rereader = Rereader()
    assert {rereader.secret(f) for f in findings} == {
        secret("reread-blob"),
        secret("reread-message"),
        secret("reread-tag"),
    }


def test_a_blob_that_is_gone_says_so(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("start", {"app.py": settings("reread-gone")})
    (finding,) = scan([str(repo.path)], Config(jobs=1, progress=False)).findings
    other = tmp_path / "other"
    other.mkdir()
    GitRepo(other).git("init", "-q")
    elsewhere = replace(
        finding, secret="GOCS…redacted…", origin=replace(finding.origin, root=str(other))
    )

    with pytest.raises(RereadError, match="no such blob"):
        Rereader().secret(elsewhere)
