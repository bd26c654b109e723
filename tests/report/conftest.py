"""A scan result with one of each kind of finding, secrets generated at run time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import scanner
from scanner.config import Config
from scanner.models import ScanResult
from scanner.samples import expand, pem


@pytest.fixture
def result(tmp_path: Path) -> ScanResult:
    client_id = expand("«digits:12»-«lower:32».apps.googleusercontent.com", "r")
    (tmp_path / "settings.py").write_text(
        f'CLIENT_ID = "{client_id}"\nCLIENT_SECRET = "{expand("GOCSPX-«b64u:28»", "r")}"\n'
    )
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "key.pem").write_text(pem("pkcs8-ec"))
    (tmp_path / "weird,name:x%.env").write_text(f"GH_TOKEN={expand('ghp_«alnum:36»', 'r')}\n")
    scanned = scanner.scan([tmp_path], Config(jobs=1))
    assert len(scanned.findings) == 3
    first = replace(
        scanned.findings[0],
        verdict="live",
        verdict_reason="token endpoint 200",
        owner="team-orders",
    )
    return replace(scanned, findings=(first, *scanned.findings[1:]))
