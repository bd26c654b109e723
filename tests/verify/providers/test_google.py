from __future__ import annotations

import random

import pytest

from tests.verify.fakes import Reply, Seen, finding, new_secret

CLIENT_ID = f"{random.randrange(10**11, 10**12)}-{'a1b2c3d4' * 4}.apps.googleusercontent.com"


def google_finding(secret: str, client_id: str | None = CLIENT_ID):
    return finding(
        secret, client_id=client_id, provider="google", rule_id="google-oauth-client-secret"
    )


def google(secret: str, refusal: Reply):
    """Google's answers: the real secret passes authentication and the made-up code fails
    (400 invalid_grant); anything else gets ``refusal``."""

    def answer(seen: Seen) -> Reply:
        assert seen.path == "/token"
        form = seen.form
        assert form["grant_type"] == "authorization_code" and form["code"].startswith("leakstop-")
        given = form.get("client_secret") or seen.headers.get("Authorization", "")
        if secret in given or _basic(secret) in given:
            return Reply(
                400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
            )
        return refusal

    return answer


def _basic(secret: str) -> str:
    import base64
    from urllib.parse import quote

    return base64.b64encode(
        f"{quote(CLIENT_ID, safe='')}:{quote(secret, safe='')}".encode()
    ).decode()


def test_live(fake_server, check):
    secret = new_secret()
    server = fake_server(
        google(secret, Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"}))
    )
    out = check(google_finding(secret), {"google": server.url})
    assert out.verdict == "live"
    assert out.verdict_reason == (
        "google: token endpoint: 400 invalid_grant after client authentication; "
        "a wrong secret is refused (client_secret_basic)"
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"}),
            "401 invalid_client",
        ),
        (
            Reply(
                401,
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
            ),
            "401 invalid_client",
        ),
        (
            Reply(
                401,
                {"error": "deleted_client", "error_description": "The OAuth client was deleted."},
            ),
            "401 deleted_client (client deleted)",
        ),
        (
            Reply(
                401,
                {"error": "disabled_client", "error_description": "The OAuth client was disabled."},
            ),
            "401 disabled_client (client disabled)",
        ),
    ],
)
def test_dead(fake_server, check, reply, reason):
    server = fake_server(reply)
    out = check(google_finding(new_secret()), {"google": server.url})
    assert out.verdict == "dead"
    assert reason in (out.verdict_reason or "")


@pytest.mark.parametrize(
    "reply",
    [Reply(500, {"error": "internal_failure"}), Reply(429, b""), Reply(200, "<html>x</html>")],
)
def test_trouble_is_unknown(fake_server, check, reply):
    out = check(google_finding(new_secret()), {"google": fake_server(reply).url})
    assert out.verdict == "unknown"


def test_without_a_google_client_id_nothing_is_sent(fake_server, check):
    server = fake_server(Reply(200, {"access_token": "t"}))
    out = check(google_finding(new_secret(), client_id=None), {"google": server.url})
    assert out.verdict == "unknown"
    assert (
        out.verdict_reason
        == "google: no Google client id (….apps.googleusercontent.com) near the secret"
    )
    assert server.requests == []
