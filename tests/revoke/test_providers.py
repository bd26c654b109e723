"""Each provider backend against a loopback fake of its documented API: the rotation itself
(the new secret authenticates, the leaked one no longer does, the new one reaches the sink and
nowhere else) and the provider's error answers."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest

from tests.revoke.conftest import live_secret, registry
from tests.support.fake_providers import (
    AUTH0_ERRORS,
    GRAPH_ERRORS,
    KEYCLOAK_ERRORS,
    OKTA_ERRORS,
    FakeAuth0,
    FakeGitHub,
    FakeGraph,
    FakeKeycloak,
    FakeOkta,
)
from tests.verify.fakes import Reply


def sink_values(path: Path) -> dict[str, str]:
    assert path.stat().st_mode & 0o777 == 0o600
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {k: v.strip("'") for k, v in pairs}


def assert_clean(text: str, *values: str) -> None:
    for value in values:
        assert value not in text


def outputs(outcomes) -> str:
    return "\n".join(
        f"{o.status} {o.reason} {o.verdict} {o.new_verdict} {o.planned}" for o in outcomes
    )


# ---------------------------------------------------------------- Auth0


def auth0_case(fakes, runner, tmp_path):
    fake = fakes(FakeAuth0())
    client_id = secrets.token_hex(16)
    fake.clients[client_id] = old = secrets.token_urlsafe(48)
    runner.environ["AUTH0_MGMT"] = fake.admin_token
    runner.endpoints["auth0"] = fake.url
    reg = registry(
        [
            {
                "client_id": client_id,
                "provider": "auth0",
                "domain": "acme.eu.auth0.com",
                "revoke": "provider:auth0",
                "admin_token_env": "AUTH0_MGMT",
                "secret_sink": f"file:{tmp_path}/auth0.env",
            }
        ]
    )
    found = live_secret(old, client_id, provider="auth0", rule_id="auth0-client-secret")
    return fake, reg, found, old, client_id


def test_auth0_rotates_and_delivers(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = auth0_case(fakes, runner, tmp_path)
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    new = sink_values(tmp_path / "auth0.env")["CLIENT_SECRET"]
    assert fake.clients[client_id] == new != old
    assert outcome.verdict.status == "dead" and outcome.new_verdict.status == "live"
    [rotate] = [s for s in fake.calls("POST") if s.path.endswith("/rotate-secret")]
    assert rotate.headers["Authorization"] == f"Bearer {fake.admin_token}"
    assert_clean(
        outputs([outcome]) + (tmp_path / "audit.jsonl").read_text(), old, new, fake.admin_token
    )
    # a rerun does nothing at all
    before = len(fake.server.requests)
    [again] = runner([found], reg)
    assert again.status == "skipped" and len(fake.server.requests) == before


@pytest.mark.parametrize("status", [401, 403, 404, 429])
def test_auth0_error_answers(fakes, runner, tmp_path, status):
    fake, reg, found, old, client_id = auth0_case(fakes, runner, tmp_path)
    fake.fail["rotate"] = Reply(status, AUTH0_ERRORS[status], headers={"Retry-After": "0"})
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    code = AUTH0_ERRORS[status].get("errorCode", AUTH0_ERRORS[status]["error"])
    assert outcome.reason == f"Auth0 rotate-secret: {status} {code}" + (
        " (Retry-After 0s)" if status == 429 else ""
    )
    assert fake.clients[client_id] == old and not (tmp_path / "auth0.env").exists()
    assert outcome.verdict.status == "live"


def test_auth0_needs_its_admin_token(fakes, runner, tmp_path):
    fake, reg, found, _old, _ = auth0_case(fakes, runner, tmp_path)
    runner.environ.clear()
    [outcome] = runner([found], reg)
    assert outcome.status == "failed" and outcome.reason == "refused: AUTH0_MGMT is not set"
    assert fake.server.requests == []


# ---------------------------------------------------------------- Okta


def okta_registry(client_id, tmp_path, **extra):
    return registry(
        [
            {
                "client_id": client_id,
                "provider": "okta",
                "domain": "dev-123456.okta.com",
                "revoke": "provider:okta",
                "admin_token_env": "OKTA_API",
                "secret_sink": f"file:{tmp_path}/okta.env",
                **extra,
            }
        ]
    )


def okta_case(fakes, runner, tmp_path):
    fake = fakes(FakeOkta())
    client_id = "0oa" + secrets.token_hex(8)
    old = fake.add_app(client_id)
    runner.environ["OKTA_API"] = fake.admin_token
    runner.endpoints["okta"] = fake.url
    found = live_secret(old, client_id, provider="okta", rule_id="okta-client-secret")
    return fake, okta_registry(client_id, tmp_path), found, old, client_id


def test_okta_adds_delivers_then_deactivates_and_deletes(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = okta_case(fakes, runner, tmp_path)
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    new = sink_values(tmp_path / "okta.env")["CLIENT_SECRET"]
    assert fake.active(client_id) == [new] and len(fake.apps[client_id]) == 1
    assert outcome.verdict.status == "dead" and outcome.new_verdict.status == "live"
    admin = [(s.method, s.path.split("/credentials/secrets")[-1]) for s in fake.server.requests]
    admin = [a for a in admin if not a[1].startswith("/oauth2")]
    leaked = admin[2][1].split("/")[1]
    assert admin == [
        ("GET", ""),
        ("POST", ""),
        ("POST", f"/{leaked}/lifecycle/deactivate"),
        ("DELETE", f"/{leaked}"),
    ]
    assert fake.server.requests[0].headers["Authorization"] == f"SSWS {fake.admin_token}"
    assert_clean(outputs([outcome]) + runner.audit.read_text(), old, new, fake.admin_token)


def test_okta_key_id_names_the_leaked_secret(fakes, runner, tmp_path):
    fake, _, found, _old, client_id = okta_case(fakes, runner, tmp_path)
    other = fake._secret_entry(secrets.token_urlsafe(48))
    fake.apps[client_id].append(other)
    fake.max_secrets = 3
    leaked_id = fake.apps[client_id][0]["id"]
    reg = okta_registry(client_id, tmp_path, key_id=leaked_id)
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    ids = [s["id"] for s in fake.apps[client_id]]
    assert leaked_id not in ids and other["id"] in ids
    assert runner.lines()[-1]["detail"]["old_key_id"] == leaked_id


def test_okta_masked_value_tells_two_active_secrets_apart(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = okta_case(fakes, runner, tmp_path)
    other = fake._secret_entry(secrets.token_urlsafe(48))
    fake.apps[client_id].insert(0, other)
    fake.max_secrets = 3
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    assert old not in fake.active(client_id) and other["client_secret"] in fake.active(client_id)


@pytest.mark.parametrize(
    ("operation", "status", "code"),
    [
        ("list", 401, "E0000011"),
        ("list", 403, "E0000006"),
        ("list", 404, "E0000007"),
        ("add", 429, "E0000047"),
    ],
)
def test_okta_error_answers(fakes, runner, tmp_path, operation, status, code):
    fake, reg, found, old, client_id = okta_case(fakes, runner, tmp_path)
    fake.fail[operation] = Reply(status, OKTA_ERRORS[status])
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert f"{status} {code}" in outcome.reason
    assert fake.active(client_id) == [old]
    assert not (tmp_path / "okta.env").exists()


def test_okta_limit_of_two_secrets(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = okta_case(fakes, runner, tmp_path)
    fake.max_secrets = 1
    [outcome] = runner([found], reg)
    assert outcome.status == "failed" and outcome.reason == "Okta add secret: 400 E0000001"
    assert fake.active(client_id) == [old]


def test_okta_deactivate_refused_leaves_a_delivered_secret_and_fails(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = okta_case(fakes, runner, tmp_path)
    fake.fail["deactivate"] = Reply(403, OKTA_ERRORS[403])
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == "Okta deactivate the leaked secret: 403 E0000006"
    assert old in fake.active(client_id)  # still live: reported, not hidden
    assert outcome.verdict.status == "live"
    new = sink_values(tmp_path / "okta.env")["CLIENT_SECRET"]
    assert new in fake.active(client_id)


# ---------------------------------------------------------------- Keycloak


def keycloak_case(fakes, runner, tmp_path):
    fake = fakes(FakeKeycloak())
    client_id = "orders-" + secrets.token_hex(4)
    old = fake.add_client(client_id)
    runner.environ["KC_ADMIN"] = fake.admin_token
    reg = registry(
        [
            {
                "client_id": client_id,
                "issuer": "kc",
                "revoke": "provider:keycloak",
                "admin_token_env": "KC_ADMIN",
                "secret_sink": f"file:{tmp_path}/kc.env",
            }
        ],
        {"kc": fake.issuer},
    )
    return fake, reg, live_secret(old, client_id), old, client_id


def test_keycloak_regenerates(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = keycloak_case(fakes, runner, tmp_path)
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    new = sink_values(tmp_path / "kc.env")["CLIENT_SECRET"]
    assert fake.clients[client_id]["secret"] == new != old
    assert outcome.verdict.status == "dead" and outcome.new_verdict.status == "live"
    internal = fake.clients[client_id]["id"]
    assert [s.path for s in fake.calls("POST") if "/admin/" in s.path] == [
        f"/admin/realms/test/clients/{internal}/client-secret"
    ]
    assert_clean(outputs([outcome]) + runner.audit.read_text(), old, new, fake.admin_token)


@pytest.mark.parametrize(
    ("operation", "status", "expected"),
    [
        ("find", 401, "Keycloak find client: 401 HTTP 401 Unauthorized"),
        ("find", 403, "Keycloak find client: 403 unknown_error"),
        ("regenerate", 404, "Keycloak regenerate secret: 404 Could not find client"),
    ],
)
def test_keycloak_error_answers(fakes, runner, tmp_path, operation, status, expected):
    fake, reg, found, old, client_id = keycloak_case(fakes, runner, tmp_path)
    fake.fail[operation] = Reply(status, KEYCLOAK_ERRORS[status])
    [outcome] = runner([found], reg)
    assert (outcome.status, outcome.reason) == ("failed", expected)
    assert fake.clients[client_id]["secret"] == old


def test_keycloak_unknown_client(fakes, runner, tmp_path):
    fake, reg, found, _old, client_id = keycloak_case(fakes, runner, tmp_path)
    del fake.clients[client_id]
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == f"Keycloak has 0 clients with clientId {client_id}"


def test_keycloak_needs_a_realm_issuer(runner, tmp_path):
    reg = registry(
        [{"client_id": "x", "issuer": "plain", "revoke": "provider:keycloak"}],
        {"plain": "https://idp.example.com/oauth"},
    )
    [outcome] = runner([live_secret(secrets.token_urlsafe(20), "x")], reg, act=False)
    assert outcome.status == "refused"
    assert "not a Keycloak realm URL" in outcome.reason


# ---------------------------------------------------------------- Microsoft Graph


def azure_case(fakes, runner, tmp_path, **extra):
    fake = fakes(FakeGraph())
    app_id = str(uuid.uuid4())
    old = fake.add_app(app_id)
    runner.environ["GRAPH_TOKEN"] = fake.admin_token
    runner.endpoints.update(graph=f"{fake.url}/v1.0", azure=fake.url)
    reg = registry(
        [
            {
                "client_id": app_id,
                "provider": "azure",
                "tenant_id": fake.tenant,
                "revoke": "provider:azure",
                "admin_token_env": "GRAPH_TOKEN",
                "secret_sink": f"file:{tmp_path}/azure.env",
                **extra,
            }
        ]
    )
    found = live_secret(old, app_id, provider="azure", rule_id="azure-client-secret")
    return fake, reg, found, old, app_id


def test_azure_add_then_remove_password(fakes, runner, tmp_path):
    fake, reg, found, old, app_id = azure_case(fakes, runner, tmp_path)
    leaked_key = fake.apps[app_id][0]["keyId"]
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    new = sink_values(tmp_path / "azure.env")["CLIENT_SECRET"]
    assert [p["secretText"] for p in fake.apps[app_id]] == [new]
    assert outcome.verdict.status == "dead" and outcome.new_verdict.status == "live"
    removed = [s for s in fake.calls("POST") if s.path.endswith("/removePassword")]
    assert removed[0].json == {"keyId": leaked_key}
    assert_clean(outputs([outcome]) + runner.audit.read_text(), old, new, fake.admin_token)


def test_azure_ambiguous_hint_needs_key_id(fakes, runner, tmp_path):
    fake, reg, found, old, app_id = azure_case(fakes, runner, tmp_path)
    fake.apps[app_id].append(fake._password(old[:3] + secrets.token_urlsafe(20), "other"))
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == "cannot tell which password leaked: set key_id in the registry"
    assert not fake.calls("POST") or all("addPassword" not in s.path for s in fake.calls("POST"))


@pytest.mark.parametrize(
    ("operation", "status", "code"),
    [
        ("read", 401, "InvalidAuthenticationToken"),
        ("add", 403, "Authorization_RequestDenied"),
        ("add", 404, "Request_ResourceNotFound"),
    ],
)
def test_azure_error_answers(fakes, runner, tmp_path, operation, status, code):
    fake, reg, found, old, app_id = azure_case(fakes, runner, tmp_path)
    fake.fail[operation] = Reply(status, GRAPH_ERRORS[status])
    [outcome] = runner([found], reg)
    assert outcome.status == "failed" and outcome.reason.endswith(f"{status} {code}")
    assert [p["secretText"] for p in fake.apps[app_id]] == [old]


def test_azure_unknown_key_id(fakes, runner, tmp_path):
    fake, reg, found, old, app_id = azure_case(fakes, runner, tmp_path, key_id=str(uuid.uuid4()))
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == "Graph removePassword: 400 Request_BadRequest"
    assert old in [p["secretText"] for p in fake.apps[app_id]]


# ---------------------------------------------------------------- GitHub


def github_token() -> str:
    return "ghp_" + secrets.token_hex(18)


def test_github_credential_revocation(fakes, runner):
    fake = fakes(FakeGitHub())
    tokens = [github_token(), github_token()]
    runner.environ["APP_TOKENS"] = " ".join(tokens)
    runner.endpoints["github"] = fake.url
    reg = registry(
        [
            {
                "client_id": "Ov23" + secrets.token_hex(8),
                "provider": "github",
                "revoke": "provider:github",
                "tokens_env": "APP_TOKENS",
            }
        ]
    )
    found = live_secret(secrets.token_hex(20), reg.clients[0].client_id, provider="github")
    [outcome] = runner([found], reg)
    assert outcome.status == "done", outcome.reason
    assert fake.revoked == tokens
    [call] = [s for s in fake.calls("POST") if s.path == "/credentials/revoke"]
    assert "Authorization" not in call.headers  # unauthenticated is allowed
    assert_clean(outputs([outcome]) + runner.audit.read_text(), *tokens)


def test_github_credential_revocation_errors(fakes, runner):
    fake = fakes(FakeGitHub())
    runner.environ["APP_TOKENS"] = github_token()
    runner.endpoints["github"] = fake.url
    fake.fail["revoke"] = Reply(422, {"message": "Validation Failed"})
    reg = registry(
        [
            {
                "client_id": "c",
                "provider": "github",
                "revoke": "provider:github",
                "tokens_env": "APP_TOKENS",
            }
        ]
    )
    [outcome] = runner([live_secret(secrets.token_hex(20), "c")], reg)
    assert (outcome.status, outcome.reason) == ("failed", "GitHub credential revocation: 422")


def test_github_with_nothing_to_revoke_is_refused(runner):
    reg = registry([{"client_id": "c", "provider": "github", "revoke": "provider:github"}])
    [outcome] = runner([live_secret(secrets.token_hex(20), "c")], reg, act=False)
    assert outcome.status == "refused"


def test_a_server_echoing_a_token_never_gets_it_into_output(fakes, runner, tmp_path):
    fake, reg, found, old, _ = auth0_case(fakes, runner, tmp_path)
    fake.fail["rotate"] = Reply(400, {"errorCode": fake.admin_token, "message": old})
    [outcome] = runner([found], reg)
    assert outcome.status == "failed"
    assert outcome.reason == "Auth0 rotate-secret: 400 [redacted]"
    assert_clean(outputs([outcome]) + runner.audit.read_text(), old, fake.admin_token)


def test_a_rotation_without_an_answer_is_resolved_by_the_next_run(fakes, runner, tmp_path):
    fake, reg, found, old, client_id = auth0_case(fakes, runner, tmp_path)
    fake.rotate_delay, runner.timeout = 2.0, 0.5
    [lost] = runner([found], reg)
    assert lost.status == "failed" and lost.reason == "Auth0 rotate-secret: timed out after 0.5s"
    assert fake.clients[client_id] != old  # it happened; the answer with the new secret is lost
    assert runner.lines()[-1]["detail"]["uncertain"] is True

    fake.rotate_delay, runner.timeout = 0.0, 5.0
    [preview] = runner([found], reg, act=False)
    assert preview.reason.startswith("interrupted at ")
    [resumed] = runner([found], reg)
    assert resumed.status == "done", resumed.reason
    assert sink_values(tmp_path / "auth0.env")["CLIENT_SECRET"] == fake.clients[client_id]
    assert [line["phase"] for line in runner.lines()] == ["intent", "failed", "intent", "done"]
