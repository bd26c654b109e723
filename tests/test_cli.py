"""The command line through typer's CliRunner: exit codes, formats, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner import __version__
from scanner.cli import app
from scanner.samples import expand, pem

runner = CliRunner()


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "leaky"
    root.mkdir()
    client_id = expand("«digits:12»-«lower:32».apps.googleusercontent.com", "cli")
    secret = expand("GOCSPX-«b64u:28»", "cli")
    (root / "settings.py").write_text(f'CLIENT_ID = "{client_id}"\nCLIENT_SECRET = "{secret}"\n')
    key = pem("pkcs8-ec")
    (root / "signing-key.pem").write_text(key)
    return root, {"client_id": client_id, "secret": secret, "key": key}


def test_scan_reports_the_secret_with_its_client_and_the_key(leaky):
    root, values = leaky
    done = runner.invoke(app, ["scan", str(root), "--format", "json"])
    assert done.exit_code == 1, done.output
    doc = json.loads(done.stdout)
    by_path = {f["path"]: f for f in doc["findings"]}
    google = by_path["settings.py"]
    assert (google["line"], google["kind"], google["provider"]) == (2, "client-secret", "google")
    assert google["client_id"] == values["client_id"]
    assert google["secret"].startswith("GOCS") and values["secret"] not in done.stdout
    key = by_path["signing-key.pem"]
    assert (key["line"], key["kind"], key["encrypted"]) == (1, "private-key", False)
    assert doc["summary"]["findings"] == 2


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "github"])
def test_no_output_contains_a_secret(leaky, fmt, tmp_path):
    root, values = leaky
    out = tmp_path / f"report.{fmt}"
    done = runner.invoke(app, ["scan", str(root), "-f", fmt, "-o", str(out)])
    assert done.exit_code == 1
    everything = done.output + out.read_text()
    assert values["secret"] not in everything
    assert values["key"].splitlines()[1] not in everything


def test_show_secrets_prints_them(leaky):
    root, values = leaky
    done = runner.invoke(app, ["scan", str(root), "--show-secrets", "-f", "json"])
    assert values["secret"] in done.stdout


def test_clean_directory_exits_zero(tmp_path):
    (tmp_path / "readme.md").write_text("client_secret = ${CLIENT_SECRET}\n")
    done = runner.invoke(app, ["scan", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "0 findings" in done.stdout


def test_missing_path_exits_two_with_one_line(tmp_path):
    done = runner.invoke(app, ["scan", str(tmp_path / "nope")])
    assert done.exit_code == 2
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("leakstop: error: ") and "nope" in done.stderr


def test_bad_arguments_exit_two(tmp_path):
    assert runner.invoke(app, ["scan", str(tmp_path), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--ruleset", "nope"]).exit_code == 2


def test_baseline_accepts_known_findings(leaky, tmp_path):
    root, values = leaky
    report = tmp_path / "report.json"
    runner.invoke(app, ["scan", str(root), "-f", "json", "-o", str(report)])
    baseline = tmp_path / "baseline.json"
    done = runner.invoke(app, ["baseline", str(report), "--output", str(baseline)])
    assert done.exit_code == 0, done.output
    assert values["secret"] not in baseline.read_text()
    assert runner.invoke(app, ["scan", str(root), "--baseline", str(baseline)]).exit_code == 0
    (root / "new.env").write_text(f"X={expand('GOCSPX-«b64u:28»', 'new')}\n")
    assert runner.invoke(app, ["scan", str(root), "--baseline", str(baseline)]).exit_code == 1


def test_unreadable_baseline_exits_two(leaky, tmp_path):
    root, _ = leaky
    bad = tmp_path / "baseline.json"
    bad.write_text("{not json")
    done = runner.invoke(app, ["scan", str(root), "--baseline", str(bad)])
    assert done.exit_code == 2 and "not a leakstop baseline" in done.stderr


def test_merge_deduplicates_shard_reports(leaky, tmp_path):
    root, _ = leaky
    a, b, merged = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "all.json"
    for out in (a, b):
        runner.invoke(app, ["scan", str(root), "-f", "json", "-o", str(out)])
    done = runner.invoke(app, ["merge", str(a), str(b), "--output", str(merged)])
    assert done.exit_code == 1
    assert json.loads(merged.read_text())["summary"]["findings"] == 2


def test_rules_list_and_check():
    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and "google-oauth-client-secret" in listed.stdout
    checked = runner.invoke(app, ["rules", "check"])
    assert checked.exit_code == 0, checked.output
    assert "0 failures" in checked.stdout


def test_version():
    done = runner.invoke(app, ["--version"])
    assert done.exit_code == 0 and __version__ in done.stdout


def test_python_dash_m_scanner_works(leaky):
    root, _ = leaky
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", str(root), "--jobs", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "google-oauth-client-secret" in done.stdout


def test_a_directory_s_own_baseline_is_used_unless_told_not_to(leaky, tmp_path):
    root, _ = leaky
    report = tmp_path / "report.json"
    runner.invoke(app, ["scan", str(root), "-f", "json", "-o", str(report)])
    done = runner.invoke(
        app, ["baseline", str(report), "--output", str(root / ".leakstop-baseline.json")]
    )
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["scan", str(root)]).exit_code == 0
    assert runner.invoke(app, ["scan", str(root), "--no-baseline"]).exit_code == 1


def test_explain_lists_what_filters_dropped(tmp_path):
    (tmp_path / "app.env").write_text("CLIENT_SECRET=your-client-secret-here-1\n")
    done = runner.invoke(app, ["scan", str(tmp_path), "--explain"])
    assert done.exit_code == 0
    assert "dropped (placeholder): generic-client-secret at app.env:1:" in done.stderr
    assert "your-client-secret-here-1" not in done.stderr
