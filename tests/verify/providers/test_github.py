from __future__ import annotations

import base64
import secrets

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.verify.fakes import Reply, Seen, finding, new_secret

CLIENT_ID = "Ov23" + secrets.token_hex(8)


def oauth_finding(secret: str, client_id: str | None = CLIENT_ID):
    return finding(
        secret, client_id=client_id, provider="github", rule_id="github-oauth-client-secret"
    )


def token_check(secret: str, refusal: Reply):
    """GitHub's application token check: Basic client_id:client_secret; an unknown token is
    404 for an authenticated app; bad credentials are 401."""

    def answer(seen: Seen) -> Reply:
        assert seen.method == "POST" and seen.path == f"/applications/{CLIENT_ID}/token"
        assert seen.json["access_token"].startswith("gho_")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
        if seen.headers.get("Authorization") == expected:
            return Reply(
                404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
            )
        return refusal

    return answer


def test_oauth_app_live(fake_server, check):
    secret = secrets.token_hex(20)
    server = fake_server(token_check(secret, Reply(401, {"message": "Bad credentials"})))
    out = check(oauth_finding(secret), {"github": server.url})
    assert out.verdict == "live"
    assert out.verdict_reason == (
        "github: application token check: 404 for an unknown token (client authenticated); "
        "a wrong secret is refused"
    )


@pytest.mark.parametrize(
    ("reply", "verdict", "reason"),
    [
        (Reply(401, {"message": "Bad credentials"}), "dead", "401 bad credentials"),
        (Reply(422, {"message": "Validation Failed"}), "unknown", "422 validation failed"),
        (
            Reply(403, {"message": "API rate limit exceeded"}),
            "unknown",
            "403 forbidden or rate limited",
        ),
        (Reply(502, "<html>bad gateway</html>"), "unknown", "502 server error"),
    ],
)
def test_oauth_app_refusals(fake_server, check, reply, verdict, reason):
    out = check(oauth_finding(secrets.token_hex(20)), {"github": fake_server(reply).url})
    assert out.verdict == verdict
    assert reason in (out.verdict_reason or "")


def test_oauth_app_404_for_any_secret_is_not_live(fake_server, check):
    out = check(
        oauth_finding(secrets.token_hex(20)),
        {"github": fake_server(Reply(404, {"message": "Not Found"})).url},
    )
    assert out.verdict == "unknown"


def test_malformed_client_id_is_never_sent(fake_server, check):
    server = fake_server(Reply(404, {}))
    out = check(oauth_finding(new_secret(), client_id="../../admin"), {"github": server.url})
    assert out.verdict == "unknown" and server.requests == []


# --------------------------------------------------------------------------- GitHub App keys

APP_ID = "424242"


def app_key_finding(key: rsa.RSAPrivateKey, app_id: str | None = APP_ID):
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    attributes = {"app_id": app_id} if app_id else {}
    return finding(text, kind="private-key", rule_id="private-key-pem", attributes=attributes)


def get_app(registered: rsa.RSAPrivateKey):
    """GET /app: 200 for a JWT signed by the App's key with iss = the App id; GitHub's 401."""

    def answer(seen: Seen) -> Reply:
        assert seen.method == "GET" and seen.path == "/app"
        token = seen.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, registered.public_key(), algorithms=["RS256"])
        except jwt.PyJWTError:
            return Reply(401, {"message": "A JSON web token could not be decoded"})
        if str(claims["iss"]) != APP_ID:
            return Reply(401, {"message": "Integration not found"})
        return Reply(200, {"id": int(APP_ID), "slug": "leakstop-test-app", "name": "test"})

    return answer


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_app_key_live(fake_server, check, app_key):
    server = fake_server(get_app(app_key))
    out = check(app_key_finding(app_key), {"github": server.url})
    assert out.verdict == "live"
    assert (
        out.verdict_reason
        == "github-app: GET /app: 200, the key authenticates as leakstop-test-app"
    )
    assert len(server.requests) == 2  # the check and a control with a throwaway key


def test_other_key_for_the_app_is_dead(fake_server, check, app_key):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    out = check(app_key_finding(stranger), {"github": fake_server(get_app(app_key)).url})
    assert out.verdict == "dead"
    assert (
        out.verdict_reason == "github-app: GET /app: 401, the key does not authenticate as this App"
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(401, {"message": "'Expiration time' claim ('exp') is too far in the future"}),
            "clock skew",
        ),
        (Reply(403, {"message": "API rate limit exceeded"}), "403 rate limited"),
        (Reply(500, {"message": "oops"}), "500 server error"),
    ],
)
def test_app_key_trouble_is_unknown(fake_server, check, app_key, reply, reason):
    out = check(app_key_finding(app_key), {"github": fake_server(reply).url})
    assert out.verdict == "unknown"
    assert reason in (out.verdict_reason or "")


def test_app_key_without_an_app_id_is_not_checked_as_one(fake_server, check, app_key):
    server = fake_server(get_app(app_key))
    out = check(app_key_finding(app_key, app_id=None), {"github": server.url})
    assert out.verdict == "unknown"
    assert server.requests == []


def test_app_id_from_the_registry(fake_server, check, app_key):
    from scanner.keys import jwk_thumbprint
    from tests.verify.fakes import registry

    reg = registry(
        clients=[
            {
                "client_id": "Iv23" + "x" * 16,
                "provider": "github-app",
                "app_id": APP_ID,
                "owner": "platform",
                "jwk_thumbprints": [jwk_thumbprint(app_key)],
            }
        ]
    )
    out = check(
        app_key_finding(app_key, app_id=None), {"github": fake_server(get_app(app_key)).url}, reg
    )
    assert out.verdict == "live" and out.owner == "platform"
