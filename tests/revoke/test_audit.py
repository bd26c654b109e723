"""The audit log: one fsync'd JSON line per phase, an exclusive lock per acting run, readable
after a torn write, read-only (and never created) for a dry run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.revoke.audit import AuditLog
from scanner.revoke.base import RevokeError


def test_lines_and_latest_phase(tmp_path):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, write=True) as log:
        log.record("fp", "client", "rfc7592-delete", "intent", {"endpoint": "https://x"})
        log.record("fp", "client", "rfc7592-delete", "done", {"reason": "DELETE 204"})
    assert path.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["phase"] for line in lines] == ["intent", "done"]
    assert list(lines[0]) == [
        "time", "run", "fingerprint", "client_id", "action", "phase", "detail"
    ]  # fmt: skip
    assert lines[0]["time"].endswith("Z") and lines[0]["run"] == lines[1]["run"]
    again = AuditLog(path, write=False)
    last = again.last(("fp", "client", "rfc7592-delete"))
    assert last is not None and last.phase == "done" and last.at > 0
    assert again.last(("fp", "client", "notify")) is None


def test_a_dry_run_never_creates_the_log(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, write=False)
    assert not path.exists()
    with pytest.raises(RevokeError, match="reading only"):
        log.record("fp", "c", "notify", "intent", {})


def test_two_acting_runs_exclude_each_other(tmp_path):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, write=True):
        with pytest.raises(RevokeError, match="another leakstop revoke is using"):
            AuditLog(path, write=True)
        # a separate process is refused as well
        code = (
            "import sys; from pathlib import Path; from scanner.revoke.audit import AuditLog\n"
            "try:\n    AuditLog(Path(sys.argv[1]), write=True)\n"
            "except Exception as e:\n    print(type(e).__name__); sys.exit(3)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=False,
        )
        assert other.returncode == 3 and other.stdout.strip() == "RevokeError"
    with AuditLog(path, write=True):  # released when closed
        pass


def test_unreadable_lines_are_warned_about_and_skipped(tmp_path):
    path = tmp_path / "audit.jsonl"
    good = {
        "time": "2026-01-01T00:00:00.000000Z",
        "fingerprint": "fp",
        "client_id": "c",
        "action": "notify",
        "phase": "intent",
        "detail": {},
    }
    path.write_text(json.dumps(good) + "\n[1, 2]\n" + '{"phase": "done", "finger')
    log = AuditLog(path, write=True)
    try:
        assert len(log.warnings) == 2
        entry = log.last(("fp", "c", "notify"))
        assert entry is not None and entry.phase == "intent"
        log.record("fp", "c", "notify", "done", {})
    finally:
        log.close()
    assert path.read_text().splitlines()[-1].startswith('{"time"')


def test_a_symlinked_log_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    os.symlink(target, tmp_path / "audit.jsonl")
    with pytest.raises(RevokeError, match="cannot open audit log"):
        AuditLog(tmp_path / "audit.jsonl", write=True)
