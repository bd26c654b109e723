from __future__ import annotations

import random
import secrets

import pytest

from tests.verify.fakes import Reply, Seen, finding

CLIENT_ID = f"{random.randrange(10**11, 10**12)}.{random.randrange(10**12, 10**13)}"


def slack_finding(secret: str, client_id: str | None = CLIENT_ID):
    return finding(secret, client_id=client_id, provider="slack", rule_id="slack-client-secret")


def slack(secret: str):
    """oauth.v2.access: always HTTP 200, ok false with the error."""

    def answer(seen: Seen) -> Reply:
        assert seen.path == "/api/oauth.v2.access"
        form = seen.form
        if form["client_id"] != CLIENT_ID:
            return Reply(200, {"ok": False, "error": "invalid_client_id"})
        if form["client_secret"] != secret:
            return Reply(200, {"ok": False, "error": "bad_client_secret"})
        return Reply(200, {"ok": False, "error": "invalid_code"})

    return answer


def test_live(fake_server, check):
    secret = secrets.token_hex(16)
    out = check(slack_finding(secret), {"slack": fake_server(slack(secret)).url})
    assert out.verdict == "live"
    assert out.verdict_reason == (
        "slack: oauth.v2.access: invalid_code after client authentication; "
        "a wrong secret is refused"
    )


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        ("bad_client_secret", "dead"),
        ("invalid_client_id", "dead"),
        ("ratelimited", "unknown"),
        ("invalid_grant_type", "unknown"),
        ("invalid_code", "unknown"),
    ],
)
def test_errors(fake_server, check, error, verdict):
    server = fake_server(Reply(200, {"ok": False, "error": error}))
    out = check(slack_finding(secrets.token_hex(16)), {"slack": server.url})
    assert out.verdict == verdict
    assert error in (out.verdict_reason or "")


def test_ok_true_is_live(fake_server, check):
    server = fake_server(Reply(200, {"ok": True, "access_token": "xoxb-redacted"}))
    assert check(slack_finding(secrets.token_hex(16)), {"slack": server.url}).verdict == "live"


def test_unknown_client_id_shape_is_not_sent(fake_server, check):
    server = fake_server(Reply(200, {"ok": True}))
    assert (
        check(slack_finding(secrets.token_hex(16), client_id=None), {"slack": server.url}).verdict
        == "unknown"
    )
    assert server.requests == []
