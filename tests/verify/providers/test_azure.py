from __future__ import annotations

import uuid

import pytest

from tests.verify.fakes import Reply, Seen, finding, new_secret

TENANT = str(uuid.uuid4())
APP = str(uuid.uuid4())


def azure_finding(secret: str, tenant: str | None = TENANT, client_id: str | None = APP):
    return finding(
        secret,
        client_id=client_id,
        provider="azure",
        rule_id="azure-ad-client-secret",
        attributes={"tenant_id": tenant} if tenant else {},
    )


def aad(code: str, error: str, status: int) -> Reply:
    return Reply(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: see docs. Trace ID: {uuid.uuid4()}",
            "error_codes": [int(code)],
        },
    )


def test_live(fake_server, check):
    secret = new_secret()

    def entra(seen: Seen) -> Reply:
        assert seen.path == f"/{TENANT}/oauth2/v2.0/token"
        form = seen.form
        assert form["scope"] == "https://graph.microsoft.com/.default"
        assert form["grant_type"] == "client_credentials" and form["client_id"] == APP
        if form["client_secret"] == secret:
            return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0"})
        return aad("7000215", "invalid_client", 401)

    out = check(azure_finding(secret), {"azure": fake_server(entra).url})
    assert out.verdict == "live"
    assert out.verdict_reason == "azure: token endpoint: 200 token issued (client_secret_post)"


@pytest.mark.parametrize(
    ("reply", "verdict", "reason"),
    [
        (
            aad("7000215", "invalid_client", 401),
            "dead",
            "401 AADSTS7000215 (invalid client secret)",
        ),
        (
            aad("7000222", "invalid_client", 401),
            "dead",
            "401 AADSTS7000222 (client secret expired)",
        ),
        # Entra reports an unknown application as unauthorized_client: never read as live
        (
            aad("700016", "unauthorized_client", 400),
            "dead",
            "400 AADSTS700016 (application not found in the tenant)",
        ),
        (aad("90002", "invalid_request", 400), "unknown", "400 AADSTS90002 (tenant not found)"),
        (
            aad("900023", "invalid_request", 400),
            "unknown",
            "400 AADSTS900023 (tenant id not valid)",
        ),
        (Reply(503, "<html>Service Unavailable</html>"), "unknown", "503 server error"),
    ],
)
def test_aadsts_codes(fake_server, check, reply, verdict, reason):
    out = check(azure_finding(new_secret()), {"azure": fake_server(reply).url})
    assert out.verdict == verdict
    assert out.verdict_reason == f"azure: token endpoint: {reason} (client_secret_post)"


def test_no_tenant_no_request(fake_server, check):
    server = fake_server(Reply(200, {"access_token": "t"}))
    out = check(azure_finding(new_secret(), tenant=None), {"azure": server.url})
    assert out.verdict == "unknown"
    assert (
        out.verdict_reason == "azure: no tenant id near the secret (Entra checks need the tenant)"
    )
    injected = check(azure_finding(new_secret(), tenant="../../evil"), {"azure": server.url})
    assert injected.verdict == "unknown"
    assert server.requests == []
