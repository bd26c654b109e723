from __future__ import annotations

import secrets

import pytest

from tests.verify.fakes import Reply, Seen, finding, new_secret

CLIENT_ID = secrets.token_hex(16)
DOMAIN = "acme.eu.auth0.com"


def auth0_finding(secret: str, domain: str = DOMAIN):
    return finding(
        secret,
        client_id=CLIENT_ID,
        provider="auth0",
        rule_id="auth0-client-secret",
        attributes={"domain": domain},
    )


def auth0(secret: str, authenticated: Reply):
    def answer(seen: Seen) -> Reply:
        assert seen.path == "/oauth/token"
        form = seen.form
        assert form["audience"] == f"https://{DOMAIN}/api/v2/"
        if form.get("client_secret") == secret:
            return authenticated
        return Reply(401, {"error": "access_denied", "error_description": "Unauthorized"})

    return answer


@pytest.mark.parametrize(
    ("authenticated", "reason"),
    [
        (Reply(200, {"access_token": "eyJ", "token_type": "Bearer"}), "200 token issued"),
        (
            Reply(
                403,
                {
                    "error": "access_denied",
                    "error_description": "Client is not authorized to access API",
                },
            ),
            "403 access_denied after client authentication; a wrong secret is refused",
        ),
        (
            Reply(
                403, {"error": "unauthorized_client", "error_description": "Grant type not allowed"}
            ),
            "403 unauthorized_client after client authentication; a wrong secret is refused",
        ),
    ],
)
def test_live(fake_server, check, authenticated, reason):
    secret = new_secret()
    out = check(auth0_finding(secret), {"auth0": fake_server(auth0(secret, authenticated)).url})
    assert out.verdict == "live"
    assert out.verdict_reason == f"auth0: token endpoint: {reason} (client_secret_post)"


def test_dead(fake_server, check):
    server = fake_server(
        Reply(401, {"error": "access_denied", "error_description": "Unauthorized"})
    )
    out = check(auth0_finding(new_secret()), {"auth0": server.url})
    assert out.verdict == "dead"
    assert "401 access_denied" in (out.verdict_reason or "")


def test_403_for_any_secret_is_not_live(fake_server, check):
    server = fake_server(Reply(403, {"error": "access_denied"}))
    assert check(auth0_finding(new_secret()), {"auth0": server.url}).verdict == "unknown"


def test_only_auth0_domains_are_used(fake_server, check):
    server = fake_server(Reply(200, {"access_token": "t"}))
    for domain in ("auth0.com.evil.example", "evil.example", "acme.auth0.com.evil"):
        assert (
            check(auth0_finding(new_secret(), domain), {"auth0": server.url}).verdict == "unknown"
        )
    assert server.requests == []
