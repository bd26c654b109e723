"""Re-reading redacted secrets of a loaded report from where they were found."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.api import scan
from scanner.config import Config
from scanner.models import Finding, Origin
from scanner.report.base import ReportOptions
from scanner.report.json import load_report, write_json
from scanner.verify import VerifyOptions, verify_report
from scanner.verify.reread import Rereader, RereadError, register_reader
from tests.verify.fakes import Reply, new_secret, registry


def settings(directory: Path, secret: str, name: str = "settings.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f'CLIENT_ID = "orders"\nCLIENT_SECRET = "{secret}"\n', "utf-8")
    return path


def redacted_report(root: Path, tmp_path: Path) -> tuple[Finding, ...]:
    result = scan([str(root)], Config(jobs=1))
    out = io.StringIO()
    write_json(result, out, ReportOptions())
    report = tmp_path / "report.json"
    report.write_text(out.getvalue(), "utf-8")
    return load_report(report).findings


def test_file_secret_is_re_read(tmp_path):
    secret = new_secret()
    settings(tmp_path / "repo", secret)
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    assert secret not in found.secret
    assert Rereader().secret(found) == secret


def test_single_file_root(tmp_path):
    secret = new_secret()
    path = settings(tmp_path / "repo", secret)
    [found] = redacted_report(path, tmp_path)
    assert Rereader().secret(found) == secret


def test_changed_or_missing_file_is_reported(tmp_path):
    settings(tmp_path / "repo", new_secret())
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    settings(tmp_path / "repo", new_secret())  # rotated since the scan
    with pytest.raises(RereadError, match="no longer there"):
        Rereader().secret(found)
    (tmp_path / "repo" / "settings.py").unlink()
    with pytest.raises(RereadError, match="not a regular file"):
        Rereader().secret(found)


def test_path_outside_the_root_is_refused(tmp_path):
    settings(tmp_path, new_secret(), "outside.py")
    [found] = redacted_report(tmp_path / "outside.py", tmp_path)
    (tmp_path / "repo").mkdir()
    sneaky = replace(
        found, origin=Origin(source="file", path="../outside.py", root=str(tmp_path / "repo"))
    )
    with pytest.raises(RereadError, match="leaves the scanned root"):
        Rereader().secret(sneaky)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("git", "not a git repository any more"),
        ("archive", "not a git repository any more"),  # an archive found in git
        ("commit-message", "not a git repository any more"),
    ],
)
def test_git_findings_whose_repository_is_gone_say_so(tmp_path, source, message):
    settings(tmp_path / "repo", new_secret())
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    elsewhere = replace(found, origin=replace(found.origin, source=source, commit="c" * 40))
    with pytest.raises(RereadError, match=message):
        Rereader().secret(elsewhere)


def test_a_source_can_register_its_reader(tmp_path, monkeypatch):
    from scanner.verify import reread

    secret = new_secret()
    settings(tmp_path / "repo", secret)
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    blob = (tmp_path / "repo" / "settings.py").read_bytes()
    monkeypatch.setattr(reread, "_READERS", dict(reread._READERS))
    register_reader("git", lambda origin: blob if origin.commit == "c" * 40 else b"")
    in_git = replace(found, origin=replace(found.origin, source="git", commit="c" * 40, root=None))
    assert Rereader().secret(in_git) == secret


def test_verify_report_re_reads_and_says_what_it_could_not(tmp_path, fake_issuer):
    secret = new_secret()
    settings(tmp_path / "repo", secret)
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    issuer = fake_issuer(
        lambda seen: (
            Reply(200, {"access_token": "t"})
            if seen.headers.get("Authorization")
            else Reply(401, {"error": "invalid_client"})
        )
    )
    reg = registry({"corp": issuer.url}, [{"client_id": "orders", "issuer": "corp"}])
    in_git = replace(found, origin=replace(found.origin, source="git", commit="c" * 40))
    result = verify_report([found, in_git], reg, VerifyOptions(timeout=2, per_host_rate=0))
    live, unknown = result.findings
    assert live.verdict == "live"
    assert secret not in live.secret  # the report's redaction is kept
    assert unknown.verdict == "unknown"
    assert unknown.verdict_reason.startswith(
        "secret not available: redacted in the report and could not be re-read: "
    )
    assert unknown.verdict_reason.endswith("not a git repository any more")
    assert len(result.errors) == 1 and "could not be re-read" in result.errors[0]


def test_no_reread_when_disabled(tmp_path):
    settings(tmp_path / "repo", new_secret())
    [found] = redacted_report(tmp_path / "repo", tmp_path)
    reg = registry({"corp": "http://127.0.0.1:9"}, [{"client_id": "orders", "issuer": "corp"}])
    [out] = verify_report([found], reg, VerifyOptions(reread=False)).findings
    assert out.verdict == "unknown"
    assert out.verdict_reason == "secret not available: redacted in the report"
