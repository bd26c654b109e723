"""A ``leakstop revoke`` process killed between an audit ``intent`` and its outcome resumes
correctly: the next run asks the server first and repeats the call only when it did not
happen. The process dies through the test hook ``LEAKSTOP_TEST_CRASH_AFTER`` (``os._exit``
right after the intent line, or right after the call), against the real server."""

from __future__ import annotations

import json

import pytest

from tests.revoke.conftest import audit_lines
from tests.revoke.realcase import Case, env_file

CRASHED = 70


def phases(case: Case) -> list[str]:
    return [line["phase"] for line in audit_lines(case.audit)]


def test_killed_before_the_delete_deletes_on_the_next_run(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()

    killed = case.revoke_process("--yes", crash_after="intent")
    assert killed.returncode == CRASHED, killed.stderr
    assert phases(case) == ["intent"]
    assert case.token_status("gone") == (200, None)  # the call never went out

    resumed = case.revoke_process("--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert phases(case) == ["intent", "intent", "done"]  # asked, found it undone, did it
    assert case.token_status("gone") == (401, "invalid_client")
    assert not any(s in case.everything_written() for s in case.sensitive)


def test_killed_after_the_delete_is_resolved_without_calling_again(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()

    killed = case.revoke_process("--yes", crash_after="call")
    assert killed.returncode == CRASHED
    assert phases(case) == ["intent"]
    assert case.token_status("gone") == (401, "invalid_client")  # it did happen

    resumed = case.revoke_process("--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert phases(case) == ["intent", "done"]  # no second intent: no second DELETE
    [_, done] = audit_lines(case.audit)
    assert done["detail"]["reason"].startswith("resolved after an interruption: the client is gone")
    assert done["detail"]["verdict"] == "dead"
    assert "resolved after an interruption" in resumed.stdout


@pytest.mark.parametrize("point", ["intent", "call"])
def test_killed_rotation_resumes(tmp_path, oidc_server_rotating, point):
    case = Case(tmp_path, oidc_server_rotating)
    case.add("renew", "rfc7592-rotate", secret_sink=f"file:{tmp_path}/renew.env")
    case.write()

    killed = case.revoke_process("--yes", crash_after=point)
    assert killed.returncode == CRASHED
    resumed = case.revoke_process("--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    values = env_file(tmp_path / "renew.env")
    new_secret, new_rat = values["CLIENT_SECRET"], values[case.rat_env("renew")]
    assert case.token_status("renew") == (401, "invalid_client")
    assert case.token_status("renew", new_secret) == (200, None)
    assert case.read_status("renew", new_rat).status_code == 200
    expected = ["intent", "intent", "done"] if point == "intent" else ["intent", "done"]
    assert phases(case) == expected

    again = case.revoke_process("--yes")
    assert again.returncode == 0 and "done already (audit log" in again.stdout
    case.sensitive |= {new_secret, new_rat}
    assert not any(s in case.everything_written() for s in case.sensitive)


def test_a_torn_last_line_is_ignored(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()
    case.audit.write_text('{"time": "2026-01-01T00:00:00Z", "fingerprint": "x", "pha')
    resumed = case.revoke_process("--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "line 1 is not an audit entry (a torn write?); ignored" in resumed.stderr
    torn, *ours = case.audit.read_text().splitlines()
    assert torn.endswith('"pha')  # kept as it was; ours start on a fresh line
    assert [json.loads(line)["phase"] for line in ours] == ["intent", "done"]
