from __future__ import annotations

import secrets

import pytest

from tests.verify.fakes import Reply, Seen, finding, new_secret

CLIENT_ID = "0oa" + secrets.token_hex(8)[:17]


def okta_finding(secret: str, domain: str = "dev-12345.okta.com"):
    return finding(
        secret,
        client_id=CLIENT_ID,
        provider="okta",
        rule_id="okta-client-secret",
        attributes={"domain": domain},
    )


def okta(secret: str):
    def answer(seen: Seen) -> Reply:
        assert seen.path == "/oauth2/v1/token"
        form = seen.form
        assert form["grant_type"] == "authorization_code"
        if form.get("client_secret") == secret:
            return Reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The authorization code is invalid or has expired.",
                },
            )
        return Reply(
            401,
            {
                "errorCode": "invalid_client",
                "error": "invalid_client",
                "error_description": "The client secret supplied is invalid.",
            },
        )

    return answer


def test_live_and_dead(fake_server, check):
    secret = new_secret()
    server = fake_server(okta(secret))
    live = check(okta_finding(secret), {"okta": server.url})
    assert live.verdict == "live"
    assert live.verdict_reason == (
        "okta: token endpoint: 400 invalid_grant after client authentication; "
        "a wrong secret is refused (client_secret_post)"
    )
    dead = check(okta_finding(new_secret()), {"okta": server.url})
    assert dead.verdict == "dead"


@pytest.mark.parametrize(
    "domain",
    [
        "evil.example.com",
        "okta.com.evil.example",
        "127.0.0.1",
        "acme.okta.com:8443",
        "a.okta.com/x",
    ],
)
def test_only_okta_domains_are_used(fake_server, check, domain):
    server = fake_server(Reply(200, {"access_token": "t"}))
    out = check(okta_finding(new_secret(), domain=domain), {"okta": server.url})
    assert out.verdict == "unknown" and server.requests == []


@pytest.mark.parametrize("domain", ["acme.okta.com", "acme.oktapreview.com", "acme.okta-emea.com"])
def test_okta_domains(fake_server, check, domain):
    server = fake_server(Reply(429, {"errorCode": "E0000047"}, headers={"Retry-After": "60"}))
    out = check(okta_finding(new_secret(), domain=domain), {"okta": server.url})
    assert out.verdict == "unknown" and "429 rate limited" in (out.verdict_reason or "")
