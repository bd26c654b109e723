"""Facts about the real OAuth server (oidc-provider) that leakstop's tests rely on.

Every secret and key here is generated at run time (by the server or by the test).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.support.oidc")

from tests.support import oidc  # noqa: E402
from tests.support.oidc import OidcServer, RegisteredClient, generate_signing_key  # noqa: E402

# Load the fixtures even when no tests/conftest.py does (a no-op when one already did).
pytest_plugins = ["tests.support.oidc"]

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
JWT_ALGS = ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"]


def assert_invalid_client(response):
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


# --------------------------------------------------------------------------- server basics


def test_server_is_loopback_and_advertises_what_leakstop_uses(oidc_server: OidcServer):
    assert oidc_server.issuer == f"http://127.0.0.1:{oidc_server.port}"
    assert oidc_server.startup_seconds is not None and oidc_server.startup_seconds < 15
    meta = oidc_server.discovery()
    assert meta["issuer"] == oidc_server.issuer
    for key in (
        "token_endpoint",
        "registration_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ):
        assert meta[key].startswith(oidc_server.issuer + "/")
    assert "client_credentials" in meta["grant_types_supported"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert set(JWT_ALGS) <= set(meta["token_endpoint_auth_signing_alg_values_supported"])


def test_registration_returns_rfc7591_and_rfc7592_fields(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    assert client.client_secret and len(client.client_secret) >= 64
    expected_uri = f"{oidc_server.registration_endpoint}/{client.client_id}"
    assert client.registration_client_uri == expected_uri
    assert client.metadata["grant_types"] == ["client_credentials"]
    assert client.metadata["response_types"] == []
    assert client.metadata["client_secret_expires_at"] == 0
    # RFC 7592 read returns the current secret too
    read = oidc_server.read_client(client)
    assert read.status_code == 200
    assert read.json()["client_secret"] == client.client_secret
    assert read.json()["registration_access_token"] == client.registration_access_token


# --------------------------------------------------------------------------- secret auth


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_live_secret_gets_a_token(oidc_server: OidcServer, method):
    client = oidc_server.register_secret_client(method)
    response = oidc_server.token(client.client_id, client.client_secret, method)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert oidc_server.is_active(body["access_token"])


def test_secret_client_accepts_either_secret_method(oidc_server: OidcServer):
    # oidc-provider treats client_secret_basic and client_secret_post as interchangeable
    client = oidc_server.register_secret_client("client_secret_basic")
    response = oidc_server.token(client.client_id, client.client_secret, "client_secret_post")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_wrong_secret_and_unknown_client_are_indistinguishable(oidc_server: OidcServer, method):
    client = oidc_server.register_secret_client(method)
    first = "y" if client.client_secret.startswith("x") else "x"
    wrong = oidc_server.token(client.client_id, first + client.client_secret[1:], method)
    unknown = oidc_server.token("no-such-client-" + client.client_id, client.client_secret, method)
    for response in (wrong, unknown):
        assert_invalid_client(response)
        assert response.json() == {
            "error": "invalid_client",
            "error_description": "client authentication failed",
        }
    assert wrong.content == unknown.content
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
    if method == "client_secret_basic":
        assert wrong.headers["WWW-Authenticate"].startswith("Basic ")


def test_no_client_authentication_is_invalid_request(oidc_server: OidcServer):
    response = oidc_server.token(None, None, "none")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_client_id_without_secret_is_invalid_client(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    assert_invalid_client(oidc_server.token(client.client_id, None, "none"))


# --------------------------------------------------------------------------- private_key_jwt


@pytest.mark.parametrize("alg", JWT_ALGS)
def test_private_key_jwt(oidc_server: OidcServer, alg):
    key = generate_signing_key(alg)
    client = oidc_server.register_jwt_client(key.public_jwk, alg)
    assert client.client_secret is None
    response = oidc_server.token_jwt(client.client_id, key.private_key, alg, kid=key.kid)
    assert response.status_code == 200, response.text
    assert oidc_server.is_active(response.json()["access_token"])

    # a key the server does not know (fresh key, same alg, same kid) -> invalid_client
    stranger = generate_signing_key(alg)
    rejected = oidc_server.token_jwt(client.client_id, stranger.private_key, alg, kid=key.kid)
    assert_invalid_client(rejected)
    assert rejected.json()["error_description"] == "client authentication failed"


def test_private_key_jwt_assertion_cannot_be_replayed(oidc_server: OidcServer):
    key = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(key.public_jwk, "ES256")
    assertion = oidc_server.client_assertion(client.client_id, key.private_key, "ES256")
    assert oidc_server.token_with_assertion(assertion).status_code == 200
    assert_invalid_client(oidc_server.token_with_assertion(assertion))


def test_private_key_jwt_accepts_token_endpoint_audience(oidc_server: OidcServer):
    key = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(key.public_jwk, "ES256")
    assertion = oidc_server.client_assertion(
        client.client_id, key.private_key, "ES256", audience=oidc_server.token_endpoint
    )
    assert oidc_server.token_with_assertion(assertion).status_code == 200


# --------------------------------------------------------------------------- delete / revoke


def test_delete_kills_the_secret_but_not_issued_tokens(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    token = oidc_server.access_token(client)

    deleted = oidc_server.delete_client(client)
    assert deleted.status_code == 204

    after = oidc_server.token(client.client_id, client.client_secret)
    assert_invalid_client(after)
    unknown = oidc_server.token("no-such-client", client.client_secret)
    assert after.content == unknown.content  # a deleted client looks like one never registered

    # the access token issued before the DELETE stays active until it expires
    introspection = oidc_server.introspect(token).json()
    assert introspection["active"] is True
    assert introspection["client_id"] == client.client_id

    # the registration access token died with the client
    assert oidc_server.read_client(client).status_code == 401
    # and nobody else may revoke the orphaned token (stock revocation policy): revoke first
    other = oidc_server.register_secret_client()
    refused = oidc_server.revoke(token, as_client=other)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert oidc_server.is_active(token)


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_rfc7009_revocation_deactivates_token(oidc_server: OidcServer, method):
    client = oidc_server.register_secret_client(method)
    token = oidc_server.access_token(client)
    assert oidc_server.is_active(token)
    revoked = oidc_server.revoke(token, as_client=client)
    assert revoked.status_code == 200, revoked.text
    assert oidc_server.introspect(token).json() == {"active": False}
    # revoking again (or revoking garbage) is still 200 per RFC 7009
    assert oidc_server.revoke(token, as_client=client).status_code == 200
    # the client itself stays live
    assert oidc_server.token(client.client_id, client.client_secret, method).status_code == 200


def test_revoke_then_delete_leaves_nothing_live(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    tokens = [oidc_server.access_token(client) for _ in range(3)]
    for token in tokens:
        assert oidc_server.revoke(token, as_client=client).status_code == 200
    assert oidc_server.delete_client(client).status_code == 204
    assert not any(oidc_server.is_active(token) for token in tokens)
    assert_invalid_client(oidc_server.token(client.client_id, client.client_secret))


# --------------------------------------------------------------------------- RFC 7592 PUT


def test_keep_mode_put_keeps_the_secret(oidc_server: OidcServer):
    assert oidc_server.secret_rotation == "keep"
    client = oidc_server.register_secret_client()
    token = oidc_server.access_token(client)

    response = oidc_server.update_client(client, {"client_name": "renamed"})
    assert response.status_code == 200, response.text
    updated = RegisteredClient.from_response(response)
    assert updated.client_secret == client.client_secret
    assert updated.metadata["client_name"] == "renamed"
    # the registration access token rotates on every PUT
    assert updated.registration_access_token != client.registration_access_token
    assert oidc_server.read_client(client).status_code == 401
    assert oidc_server.read_client(updated).status_code == 200

    assert oidc_server.token(client.client_id, client.client_secret).status_code == 200
    assert oidc_server.is_active(token)

    # sending the current secret is allowed and changes nothing
    again = oidc_server.update_client(updated, send_secret=True)
    assert again.status_code == 200
    assert again.json()["client_secret"] == client.client_secret


@pytest.mark.parametrize("fixture", ["oidc_server", "oidc_server_rotating"])
def test_put_with_a_different_secret_is_rejected(request, fixture):
    server: OidcServer = request.getfixturevalue(fixture)
    client = server.register_secret_client()
    response = server.update_client(client, {"client_secret": "chosen-by-the-client"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert server.token(client.client_id, client.client_secret).status_code == 200


@pytest.mark.parametrize("method", SECRET_METHODS)
def test_rotate_mode_put_issues_a_new_secret(oidc_server_rotating: OidcServer, method):
    server = oidc_server_rotating
    assert server.secret_rotation == "rotate"
    client = server.register_secret_client(method)
    old_token = server.access_token(client)

    response = server.update_client(client)
    assert response.status_code == 200, response.text
    rotated = RegisteredClient.from_response(response)
    assert rotated.client_id == client.client_id
    assert rotated.client_secret and rotated.client_secret != client.client_secret
    assert rotated.metadata["client_secret_expires_at"] == 0
    assert rotated.registration_access_token != client.registration_access_token

    assert_invalid_client(server.token(client.client_id, client.client_secret, method))
    assert server.token(rotated.client_id, rotated.client_secret, method).status_code == 200
    # the old registration access token is dead, the new one reads the new secret
    assert server.read_client(client).status_code == 401
    assert server.read_client(rotated).json()["client_secret"] == rotated.client_secret
    # tokens issued with the old secret are not revoked by the rotation
    assert server.is_active(old_token)


def test_rotate_mode_put_with_current_secret_keeps_it(oidc_server_rotating: OidcServer):
    server = oidc_server_rotating
    client = server.register_secret_client()
    response = server.update_client(client, send_secret=True)
    assert response.status_code == 200
    assert response.json()["client_secret"] == client.client_secret
    assert server.token(client.client_id, client.client_secret).status_code == 200


def test_rotate_mode_leaves_private_key_jwt_clients_without_secret(
    oidc_server_rotating: OidcServer,
):
    key = generate_signing_key("ES256")
    client = oidc_server_rotating.register_jwt_client(key.public_jwk, "ES256")
    response = oidc_server_rotating.update_client(client)
    assert response.status_code == 200, response.text
    assert "client_secret" not in response.json()


# --------------------------------------------------------------------------- other servers


def test_initial_access_token_short_ttl_and_separate_ports(
    oidc_server_factory, oidc_server: OidcServer
):
    iat = os.urandom(24).hex()
    server = oidc_server_factory(initial_access_token=iat, token_ttl=2)
    assert server.port != oidc_server.port
    assert (
        server.register(
            {"grant_types": ["client_credentials"], "response_types": []},
            initial_access_token="wrong",
        ).status_code
        == 401
    )
    bare = server.http.post(
        server.registration_endpoint,
        json={"grant_types": ["client_credentials"], "response_types": []},
        timeout=10,
    )
    assert bare.status_code == 401
    assert bare.json()["error"] == "invalid_token"
    client = server.register_secret_client()  # sends the initial access token
    issued = time.monotonic()
    token_response = server.token(client.client_id, client.client_secret)
    assert token_response.json()["expires_in"] == 2
    token = token_response.json()["access_token"]
    if time.monotonic() - issued < 1.5:  # a loaded machine may already be past the lifetime
        assert server.is_active(token)
    time.sleep(max(0.0, issued + 2.5 - time.monotonic()))
    assert not server.is_active(token)


def test_more_than_a_thousand_clients(oidc_server: OidcServer):
    # The stock memory adapter is an LRU of 1,000 entries (it forgets an untouched entry after
    # between 1,000 and 2,000 newer writes). Each registration writes 2 entries (the client and
    # its registration access token): 1,000 more registrations must not evict the first client.
    first = oidc_server.register_secret_client()
    body = json.dumps({"grant_types": ["client_credentials"], "response_types": []})
    conn = http.client.HTTPConnection("127.0.0.1", oidc_server.port, timeout=10)
    try:
        for _ in range(1000):  # raw keep-alive connection: ~1.5 ms a registration
            conn.request("POST", "/reg", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 201
    finally:
        conn.close()
    assert oidc_server.token(first.client_id, first.client_secret).status_code == 200
    assert oidc_server.read_client(first).status_code == 200


def test_stop_is_clean_and_quick(oidc_server_factory):
    server = oidc_server_factory()
    pid = server.pid
    assert pid is not None
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 2
    assert not server.running
    with pytest.raises(OSError):
        os.kill(pid, 0)


def test_sigterm_exits_zero(oidc_server_factory):
    server = oidc_server_factory()
    proc = server._proc
    assert proc is not None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0
    server.stop()


def test_no_orphan_when_the_parent_is_killed():
    oidc.skip_or_fail_if_unavailable()
    script = textwrap.dedent("""
        import sys, time
        from tests.support.oidc import OidcServer
        server = OidcServer().start()
        print(server.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        node_pid = int(parent.stdout.readline())
        os.kill(node_pid, 0)  # running
    finally:
        parent.kill()  # SIGKILL: no atexit, no cleanup in the parent
        parent.wait()
    deadline = time.monotonic() + 5
    while _process_alive(node_pid):
        if time.monotonic() > deadline:
            os.kill(node_pid, signal.SIGKILL)
            pytest.fail("the server outlived its parent")
        time.sleep(0.02)


def _process_alive(pid: int) -> bool:
    """True while ``pid`` runs; an exited process waiting to be reaped (zombie) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


# --------------------------------------------------------------------------- skip vs fail


@pytest.fixture
def missing_server(monkeypatch, tmp_path):
    monkeypatch.setattr(oidc, "SERVER_DIR", tmp_path)
    for name in oidc.REQUIRE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unavailable_server_skips_loudly(missing_server):
    assert "npm ci --prefix tests/oidc_server" in (oidc.unavailable_reason() or "")
    with pytest.raises(pytest.skip.Exception, match="OIDC TEST SERVER UNAVAILABLE"):
        oidc.skip_or_fail_if_unavailable()


@pytest.mark.parametrize("var", oidc.REQUIRE_ENV_VARS)
def test_unavailable_server_fails_when_required(missing_server, var):
    missing_server.setenv(var, "true")
    with pytest.raises(pytest.fail.Exception, match="OIDC TEST SERVER UNAVAILABLE"):
        oidc.skip_or_fail_if_unavailable()


def test_missing_node_is_reported(missing_server):
    missing_server.setattr(oidc, "node_executable", lambda: None)
    assert "node" in (oidc.unavailable_reason() or "")
    missing_server.setenv("CI", "false")  # an explicit false does not require the server
    with pytest.raises(pytest.skip.Exception):
        oidc.skip_or_fail_if_unavailable()
