"""``leakstop revoke`` against the real authorization server (oidc-provider 9.13.3): the dry run
changes nothing, ``--yes`` deletes and rotates, a rerun calls nothing, ``revoke = "none"`` is
untouched, a server that keeps secrets makes rotation fail, exit codes 0 / 1 / 2, and no
secret or token in any output."""

from __future__ import annotations

import fcntl
import json

import pytest

from scanner.verify.http import HttpClient
from tests.revoke.conftest import audit_lines
from tests.revoke.realcase import Case, env_file
from tests.support.fake_providers import FakeGitHub
from tests.support.oidc import OidcServer


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every HTTP request leakstop sends in-process, as (method, URL)."""
    calls: list[tuple[str, str]] = []
    original = HttpClient.request

    def record(self: HttpClient, method: str, url: str, **kwargs: object):
        calls.append((method, url))
        return original(self, method, url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HttpClient, "request", record)
    return calls


@pytest.fixture
def github(fakes) -> FakeGitHub:
    return fakes(FakeGitHub())


def state_changing(calls: list[tuple[str, str]], server: OidcServer) -> list[tuple[str, str]]:
    """Requests other than reads and client authentication checks at the token endpoint."""
    return [(m, u) for m, u in calls if m not in ("GET", "HEAD") and u != server.token_endpoint]


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path, oidc_server_rotating, sent):
    case = Case(tmp_path, oidc_server_rotating)
    case.add("gone", "rfc7592-delete")
    case.add("renew", "rfc7592-rotate", secret_sink=f"file:{tmp_path}/renew.env")
    case.add("keep", "none")
    case.write()
    sent.clear()

    result = case.revoke()
    assert result.exit_code == 0, result.output
    out = result.output
    for name, action in (("gone", "rfc7592-delete"), ("renew", "rfc7592-rotate")):
        client = case.clients[name]
        line = next(line for line in out.splitlines() if client.client_id in line)
        assert line.startswith(f"[would act] {action} client={client.client_id}")
        assert f"owner=team-{name}" in line and "fingerprint=generic-client-secret/" in line
        assert f"endpoint: {client.registration_client_uri}" in out
    assert "[skip] none client=" in out and 'revoke = "none": never touched' in out
    assert "dry run, nothing changed (run with --yes to act)" in out
    assert "?" not in out.splitlines()[-1]  # no question without a terminal

    assert sent == []  # no request at all, so no state change anywhere
    assert not case.audit.exists() and not (tmp_path / "renew.env").exists()
    for name, client in case.clients.items():
        assert case.token_status(name) == (200, None)
        read = case.read_status(name)  # the registration access token was never rotated
        assert read.status_code == 200 and read.json()["client_secret"] == client.client_secret
    assert not any(s in case.everything_written() for s in case.sensitive)


def test_yes_deletes_and_rotates_and_a_rerun_calls_nothing(
    tmp_path, oidc_server_rotating, sent, github
):
    server = oidc_server_rotating
    case = Case(tmp_path, server)
    gone = case.add("gone", "rfc7592-delete", tokens_env="GONE_TOKENS")
    access_token = server.access_token(gone)
    case.env["GONE_TOKENS"] = access_token
    renew = case.add("renew", "rfc7592-rotate", secret_sink=f"file:{tmp_path}/renew.env")
    ci = case.add("ci", "rfc7592-rotate", secret_sink="github:acme/app:APP_SECRET")
    keep = case.add("keep", "none")
    case.env["GITHUB_TOKEN"] = github.admin_token
    case.sensitive |= {access_token, github.admin_token}
    case.write()
    sent.clear()

    result = case.revoke("--yes", "--endpoint", f"github={github.url}")
    assert result.exit_code == 0, result.output
    assert "4 done, 0 failed, 1 skipped" in result.output  # 1 RFC 7009 + 3, and "none"

    # delete: tokens revoked first (only the client itself may), then the client is gone
    assert case.token_status("gone") == (401, "invalid_client")
    assert server.is_active(access_token) is False
    assert case.read_status("gone").status_code == 401

    # rotate to a 0600 file: new secret and the newest registration access token
    delivered = tmp_path / "renew.env"
    assert delivered.stat().st_mode & 0o777 == 0o600
    values = env_file(delivered)
    new_secret, new_rat = values["CLIENT_SECRET"], values[case.rat_env("renew")]
    assert values["CLIENT_ID"] == renew.client_id
    assert case.token_status("renew") == (401, "invalid_client")
    assert case.token_status("renew", new_secret) == (200, None)
    assert case.read_status("renew").status_code == 401  # the old token died with the PUT
    assert case.read_status("renew", new_rat).json()["client_secret"] == new_secret

    # rotate to a GitHub Actions secret (sealed box opened by the fake with its private key)
    stored = github.secrets["repos/acme/app"]
    assert set(stored) == {"APP_SECRET", case.rat_env("ci")}
    assert case.token_status("ci") == (401, "invalid_client")
    assert case.token_status("ci", stored["APP_SECRET"]) == (200, None)
    assert case.read_status("ci", stored[case.rat_env("ci")]).status_code == 200

    # revoke = "none": untouched
    assert case.token_status("keep") == (200, None)
    assert case.read_status("keep").json()["client_secret"] == keep.client_secret

    lines = audit_lines(case.audit)
    by_client = {
        name: [
            (line["action"], line["phase"]) for line in lines if line["client_id"] == c.client_id
        ]
        for name, c in case.clients.items()
    }
    assert by_client == {
        "gone": [
            ("rfc7009-revoke", "intent"),
            ("rfc7009-revoke", "done"),
            ("rfc7592-delete", "intent"),
            ("rfc7592-delete", "done"),
        ],
        "renew": [("rfc7592-rotate", "intent"), ("rfc7592-rotate", "done")],
        "ci": [("rfc7592-rotate", "intent"), ("rfc7592-rotate", "done")],
        "keep": [],
    }
    for line in lines:
        assert set(line) == {
            "time", "run", "fingerprint", "client_id", "action", "phase", "detail"
        }  # fmt: skip
    done = {(line["client_id"], line["action"]): line["detail"] for line in lines}
    assert done[(gone.client_id, "rfc7009-revoke")]["verdict"] == "live"  # the client still is
    assert done[(gone.client_id, "rfc7592-delete")]["verdict"] == "dead"
    for rotated in (renew, ci):
        assert done[(rotated.client_id, "rfc7592-rotate")]["verdict"] == "dead"
        assert done[(rotated.client_id, "rfc7592-rotate")]["new_secret_verdict"] == "live"
    assert "now: dead (corp: token endpoint: 401 invalid_client" in result.output
    assert "new secret: live (corp: token endpoint: 200 token issued" in result.output

    case.sensitive |= {new_secret, new_rat, *stored.values()}
    sent.clear()
    github_calls = len(github.server.requests)
    again = case.revoke("--yes", "--endpoint", f"github={github.url}")
    assert again.exit_code == 0, again.output
    assert "0 done, 0 failed, 5 skipped" in again.output
    assert again.output.count("done already (audit log") == 4
    assert sent == [] and len(github.server.requests) == github_calls
    assert len(audit_lines(case.audit)) == len(lines)

    written = case.everything_written()
    assert [s for s in case.sensitive if s in written] == []
    assert ci.client_secret not in written


def test_a_server_that_keeps_the_secret_fails_rotation(tmp_path, oidc_server, sent):
    case = Case(tmp_path, oidc_server)
    client = case.add("renew", "rfc7592-rotate", secret_sink=f"file:{tmp_path}/renew.env")
    case.write()

    result = case.revoke("--yes")
    assert result.exit_code == 1, result.output
    assert "[FAILED] rfc7592-rotate" in result.output
    assert (
        "rotation unsupported: the server kept the old client_secret on an RFC 7592 update; "
        "the new registration access token went to the sink"
    ) in result.output
    assert case.token_status("renew") == (200, None)  # still live, and reported as such
    assert "now: live" in result.output
    values = env_file(tmp_path / "renew.env")
    assert "CLIENT_SECRET" not in values
    new_rat = values[case.rat_env("renew")]
    assert case.read_status("renew").status_code == 401
    assert case.read_status("renew", new_rat).json()["client_secret"] == client.client_secret
    phases = [line["phase"] for line in audit_lines(case.audit)]
    assert phases == ["intent", "failed"]
    case.sensitive.add(new_rat)
    assert [s for s in case.sensitive if s in case.everything_written()] == []


def test_rotation_without_a_sink_is_refused(tmp_path, oidc_server_rotating, sent):
    case = Case(tmp_path, oidc_server_rotating)
    client = case.add("renew", "rfc7592-rotate")
    case.write()
    sent.clear()
    result = case.revoke("--yes")
    assert result.exit_code == 1
    assert "refused: rotation refused: the registry names no secret_sink" in result.output
    assert state_changing(sent, oidc_server_rotating) == []
    assert case.read_status("renew").json()["client_secret"] == client.client_secret
    assert [line["phase"] for line in audit_lines(case.audit)] == ["failed"]


def test_missing_registration_token_is_refused(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()
    del case.env[case.rat_env("gone")]
    result = case.revoke("--yes")
    assert result.exit_code == 1
    assert f"refused: {case.rat_env('gone')} is not set" in result.output
    assert case.token_status("gone") == (200, None)


def test_a_terminal_asks_before_acting(tmp_path, oidc_server, monkeypatch):
    monkeypatch.setattr("scanner.cli_revoke.interactive", lambda: True)
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()
    declined = case.revoke(input="n\n")
    assert declined.exit_code == 0 and "Carry out these 1 actions now?" in declined.output
    assert case.token_status("gone") == (200, None) and not case.audit.exists()
    accepted = case.revoke(input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert case.token_status("gone") == (401, "invalid_client")


def test_exit_code_2_when_it_cannot_run(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = case.leakstop("revoke", bad, "--registry", case.registry)
    assert result.exit_code == 2 and "not a leakstop report" in result.output
    result = case.leakstop("revoke", case.report, "--registry", tmp_path / "missing.toml")
    assert result.exit_code == 2 and "cannot read registry" in result.output
    result = case.leakstop("revoke", case.report, "--registry", case.registry,
                           "--endpoint", "github=http://example.com")  # fmt: skip
    assert result.exit_code == 2 and "must use https" in result.output

    with case.audit.open("a") as held:  # another run holds the log
        fcntl.flock(held, fcntl.LOCK_EX)
        result = case.revoke("--yes")
    assert result.exit_code == 2
    assert "another leakstop revoke is using this audit log" in result.output
    assert case.token_status("gone") == (200, None)


def test_nothing_live_is_nothing_to_do(tmp_path, oidc_server):
    case = Case(tmp_path, oidc_server)
    case.add("gone", "rfc7592-delete")
    case.write()
    report = json.loads(case.report.read_text())
    for finding in report["findings"]:
        finding["verdict"] = "dead"
    case.report.write_text(json.dumps(report))
    result = case.revoke("--yes")
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    assert case.token_status("gone") == (200, None)


def test_a_private_key_client_is_deleted(tmp_path, oidc_server, sent):
    from cryptography.hazmat.primitives import serialization

    from tests.support.oidc import generate_signing_key

    key = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(key.public_jwk, "ES256")
    case = Case(tmp_path, oidc_server)
    case.clients["signer"] = client
    case.repo.mkdir()
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    (case.repo / "signer.py").write_text(f'CLIENT_ID = "{client.client_id}"\nKEY = """{pem}"""\n')
    case.env["RAT_SIGNER"] = client.registration_access_token
    case.entries["signer"] = {
        "client_id": client.client_id,
        "issuer": "corp",
        "registration_client_uri": client.registration_client_uri,
        "registration_access_token_env": "RAT_SIGNER",
        "revoke": "rfc7592-delete",
    }
    case.write()
    result = case.revoke("--yes")
    assert result.exit_code == 0, result.output
    assert "now: dead" in result.output
    assert oidc_server.read_client(client).status_code == 401
    body = pem.splitlines()[1]
    assert body not in case.everything_written()
