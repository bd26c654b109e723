from __future__ import annotations

import secrets

import pytest

from tests.verify.fakes import Reply, Seen, finding

CONSUMER_KEY = "3MVG9" + secrets.token_urlsafe(60).replace("-", "a").replace("_", "b")


def sf_finding(secret: str):
    return finding(
        secret, client_id=CONSUMER_KEY, provider="salesforce", rule_id="salesforce-consumer-secret"
    )


def new_consumer_secret() -> str:
    return secrets.token_hex(32).upper()


def org(secret: str | None):
    """A Salesforce login host; ``secret`` None: the consumer key is unknown there."""

    def answer(seen: Seen) -> Reply:
        assert seen.path == "/services/oauth2/token"
        form = seen.form
        assert form["grant_type"] == "authorization_code"
        if secret is None:
            return Reply(
                400,
                {"error": "invalid_client_id", "error_description": "client identifier invalid"},
            )
        if form["client_secret"] != secret:
            return Reply(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        return Reply(
            400, {"error": "invalid_grant", "error_description": "invalid authorization code"}
        )

    return answer


def test_production_app_live(fake_server, check):
    secret = new_consumer_secret()
    out = check(sf_finding(secret), {"salesforce": fake_server(org(secret)).url})
    assert out.verdict == "live"
    assert out.verdict_reason == (
        "salesforce: token endpoint: 400 invalid_grant after client authentication; "
        "a wrong secret is refused (client_secret_post)"
    )


def test_wrong_secret_dead(fake_server, check):
    out = check(
        sf_finding(new_consumer_secret()),
        {"salesforce": fake_server(org(new_consumer_secret())).url},
    )
    assert out.verdict == "dead"
    assert "400 invalid_client (wrong consumer secret)" in (out.verdict_reason or "")


def test_sandbox_app_live(fake_server, check):
    secret = new_consumer_secret()
    production, sandbox = fake_server(org(None)), fake_server(org(secret))
    out = check(
        sf_finding(secret), {"salesforce": production.url, "salesforce-sandbox": sandbox.url}
    )
    assert out.verdict == "live"
    assert out.verdict_reason.startswith("salesforce: sandbox: token endpoint: 400 invalid_grant")


def test_unknown_everywhere_is_dead(fake_server, check):
    production, sandbox = fake_server(org(None)), fake_server(org(None))
    out = check(
        sf_finding(new_consumer_secret()),
        {"salesforce": production.url, "salesforce-sandbox": sandbox.url},
    )
    assert out.verdict == "dead"
    assert out.verdict_reason == (
        "salesforce: production: token endpoint: 400 invalid_client_id (unknown consumer key) "
        "(client_secret_post); sandbox: token endpoint: 400 invalid_client_id "
        "(unknown consumer key) (client_secret_post)"
    )


@pytest.mark.parametrize(
    "reply",
    [Reply(503, "<html>maintenance</html>"), Reply(400, {"error": "unsupported_grant_type"})],
)
def test_trouble_is_unknown(fake_server, check, reply):
    out = check(sf_finding(new_consumer_secret()), {"salesforce": fake_server(reply).url})
    assert out.verdict == "unknown"
