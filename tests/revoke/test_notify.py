"""``notify``: one GitHub issue per leaked credential, found again by its hidden fingerprint
marker (so a rerun, even with another audit log, opens no second one), never showing the
secret."""

from __future__ import annotations

import secrets

from tests.revoke.conftest import live_secret, registry
from tests.support.fake_providers import FakeGitHub
from tests.verify.fakes import Reply


def notify_case(fakes, runner):
    fake = fakes(FakeGitHub())
    runner.environ["GITHUB_TOKEN"] = fake.admin_token
    runner.endpoints["github"] = fake.url
    secret = secrets.token_hex(20)
    client_id = "Ov23" + secrets.token_hex(8)
    reg = registry(
        [
            {
                "client_id": client_id,
                "provider": "github",
                "owner": "team-web",
                "revoke": "notify",
                "notify_repo": "acme/security",
            }
        ]
    )
    return fake, reg, live_secret(secret, client_id, provider="github"), secret


def test_opens_one_issue_and_finds_it_again(fakes, runner, tmp_path):
    fake, reg, found, secret = notify_case(fakes, runner)
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    [issue] = fake.issues["repos/acme/security"]
    assert outcome.reason == "opened issue #1 in acme/security"
    assert f"<!-- leakstop:fingerprint={found.fingerprint} -->" in issue["body"]
    assert "team-web" in issue["body"] and "app/settings.py:1" in issue["body"]
    assert secret[:4] + "…redacted…" in issue["body"]
    assert secret not in issue["body"] and secret not in issue["title"]
    assert outcome.verdict.status == "dead"  # the fake API refuses it; recorded, not required

    runner.audit = tmp_path / "other-audit.jsonl"  # a run that does not know the first one
    [again] = runner([found], reg)
    assert again.status == "done"
    assert again.reason == "already notified: issue #1 in acme/security"
    assert len(fake.issues["repos/acme/security"]) == 1


def test_notify_errors(fakes, runner):
    fake, reg, found, _ = notify_case(fakes, runner)
    fake.fail["create_issue"] = Reply(410, {"message": "Issues are disabled for this repo"})
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == "notify acme/security: GitHub 410 Issues are disabled for this repo"


def test_notify_needs_a_repository_and_a_token(runner):
    reg = registry([{"client_id": "c", "revoke": "notify"}])
    [outcome] = runner([live_secret(secrets.token_hex(20), "c")], reg, act=False)
    assert outcome.status == "refused"
    assert outcome.reason == "no notify_repo in the registry and the finding names no repository"
    reg = registry([{"client_id": "c", "revoke": "notify", "notify_repo": "a/b"}])
    [outcome] = runner([live_secret(secrets.token_hex(20), "c")], reg, act=False)
    assert outcome.reason == "GITHUB_TOKEN is not set"
