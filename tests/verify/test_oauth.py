"""Verification against a real authorization server (panva oidc-provider on 127.0.0.1): live,
dead and the discovery paths, for secrets and for private_key_jwt keys."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization

from scanner.keys import jwk_thumbprint
from scanner.models import Finding, secret_hash
from scanner.registry import Registry
from scanner.verify import VerifyOptions, verify_findings
from tests.support.oidc import OidcServer, SigningKey, generate_signing_key
from tests.verify.fakes import Reply, Seen, finding, new_secret, registry

OPTIONS = VerifyOptions(timeout=5, per_host_rate=0)


def verify_one(f: Finding, reg: Registry, **options: object) -> Finding:
    return verify_findings([f], reg, replace(OPTIONS, **options))[0]  # type: ignore[arg-type]


def corp(server: OidcServer, *clients: dict[str, object]) -> Registry:
    return registry({"corp": server.issuer}, [{"issuer": "corp", **c} for c in clients])


def pem(key: SigningKey) -> str:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def key_finding(key: SigningKey, client_id: str | None = None) -> Finding:
    return finding(pem(key), kind="private-key", rule_id="private-key-pem", client_id=client_id)


# --------------------------------------------------------------------------- secrets


def test_live_secret_with_client_secret_basic(oidc_server: OidcServer):
    client = oidc_server.register_secret_client("client_secret_basic")
    reg = corp(oidc_server, {"client_id": client.client_id, "owner": "team-orders"})
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict == "live"
    assert out.verdict_reason == "corp: token endpoint: 200 token issued (client_secret_basic)"
    assert out.owner == "team-orders"
    assert out.client_id == client.client_id


def test_live_secret_with_client_secret_post_after_basic_is_refused(
    oidc_server: OidcServer, fake_server
):
    """A server that only takes client_secret_post: a proxy in front of the real one answers
    every Basic request with invalid_client and forwards the rest."""
    client = oidc_server.register_secret_client("client_secret_post")

    def post_only(seen: Seen) -> Reply:
        if seen.path == "/.well-known/openid-configuration":
            return Reply(200, {"issuer": proxy.url, "token_endpoint": f"{proxy.url}/token"})
        if "Authorization" in seen.headers:
            return Reply(401, {"error": "invalid_client"})
        real = oidc_server.http.post(oidc_server.token_endpoint, data=seen.form, timeout=5)
        return Reply(real.status_code, real.json())

    proxy = fake_server(post_only)
    reg = registry({"corp": proxy.url}, [{"client_id": client.client_id, "issuer": "corp"}])
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict == "live"
    assert out.verdict_reason == "corp: token endpoint: 200 token issued (client_secret_post)"
    token_requests = [s for s in proxy.requests if s.path == "/token"]
    assert ["Authorization" in s.headers for s in token_requests] == [True, False]


def test_metadata_that_lists_only_post_skips_basic(oidc_server: OidcServer, fake_server):
    client = oidc_server.register_secret_client("client_secret_post")
    document = {
        "token_endpoint": oidc_server.token_endpoint,  # the real server, directly
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
    }
    meta = fake_server(lambda seen: Reply(200, {"issuer": meta.url, **document}))
    reg = registry({"corp": meta.url}, [{"client_id": client.client_id, "issuer": "corp"}])
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict_reason == "corp: token endpoint: 200 token issued (client_secret_post)"


def test_wrong_secret_is_dead(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    reg = corp(oidc_server, {"client_id": client.client_id, "owner": "team-a"})
    out = verify_one(finding(new_secret(), client_id=client.client_id), reg)
    assert out.verdict == "dead"
    assert out.verdict_reason == (
        "corp: token endpoint: 401 invalid_client (client_secret_basic); "
        "401 invalid_client (client_secret_post)"
    )
    assert out.owner == "team-a"


def test_deleted_client_is_dead(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    assert oidc_server.delete_client(client).status_code == 204
    reg = corp(oidc_server, {"client_id": client.client_id})
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict == "dead"
    assert "401 invalid_client" in (out.verdict_reason or "")


def test_registered_secret_hash_names_the_client_without_a_client_id(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    reg = corp(
        oidc_server,
        {
            "client_id": client.client_id,
            "owner": "team-b",
            "secret_sha256": [secret_hash(client.client_secret)],
        },
    )
    out = verify_one(finding(client.client_secret), reg)  # no client id found near it
    assert out.verdict == "live"
    assert out.client_id == client.client_id and out.owner == "team-b"
    assert out.verdict_reason.startswith("registered secret; corp: ")


def test_rotated_secret_in_a_stale_inventory_is_dead(oidc_server_rotating: OidcServer):
    server = oidc_server_rotating
    client = server.register_secret_client()
    old = client.client_secret
    assert server.update_client(client).status_code == 200  # a new secret is issued
    reg = corp(server, {"client_id": client.client_id, "secret_sha256": [secret_hash(old)]})
    out = verify_one(finding(old), reg)
    assert out.verdict == "dead"
    assert out.verdict_reason.startswith("registered secret; ")


def test_a_client_without_the_client_credentials_grant_is_unknown_not_dead(
    oidc_server: OidcServer,
):
    # oidc-provider answers 400 invalid_request (not one of the post-authentication codes)
    response = oidc_server.register(
        {
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": ["https://app.example.test/cb"],
        }
    )
    body = response.json()
    reg = corp(oidc_server, {"client_id": body["client_id"]})
    out = verify_one(finding(body["client_secret"], client_id=body["client_id"]), reg)
    assert out.verdict == "unknown"
    assert "400 invalid_request" in (out.verdict_reason or "")


def test_offline_mode_only_names_the_owner(listener):
    secret = new_secret()
    reg = registry(
        {"corp": listener.url},
        [
            {
                "client_id": "orders",
                "issuer": "corp",
                "owner": "team-c",
                "secret_sha256": [secret_hash(secret)],
            }
        ],
    )
    out = verify_one(finding(secret), reg, live=False)
    assert out.verdict == "not_checked"
    assert out.owner == "team-c" and out.client_id == "orders"
    assert out.verdict_reason == (
        "matches a registered secret of client orders (offline; not checked live)"
    )
    assert not listener.contacted
    unmatched = finding(new_secret(), client_id="someone-else")
    assert verify_one(unmatched, reg, live=False) == unmatched


# --------------------------------------------------------------------------- private keys


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
def test_registered_private_key_is_live(oidc_server: OidcServer, alg):
    key = generate_signing_key(alg)
    client = oidc_server.register_jwt_client(key.public_jwk, alg)
    reg = corp(
        oidc_server,
        {
            "client_id": client.client_id,
            "owner": "team-k",
            "jwk_thumbprints": [jwk_thumbprint(key.public_jwk)],
        },
    )
    out = verify_one(key_finding(key), reg)
    assert out.verdict == "live", out.verdict_reason
    assert out.verdict_reason == f"registered key; corp: token endpoint: 200 token issued ({alg})"
    assert out.client_id == client.client_id and out.owner == "team-k"


def test_key_paired_by_client_id_is_live(oidc_server: OidcServer):
    key = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(key.public_jwk, "ES256")
    out = verify_one(
        key_finding(key, client.client_id), corp(oidc_server, {"client_id": client.client_id})
    )
    assert out.verdict == "live"


def test_unregistered_private_key_is_dead(oidc_server: OidcServer):
    registered = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(registered.public_jwk, "ES256")
    stranger = generate_signing_key("ES256")
    out = verify_one(
        key_finding(stranger, client.client_id), corp(oidc_server, {"client_id": client.client_id})
    )
    assert out.verdict == "dead"
    assert out.verdict_reason == "corp: token endpoint: 401 invalid_client (ES256)"


def test_unregistered_rsa_key_is_dead_only_after_every_algorithm(oidc_server: OidcServer):
    registered = generate_signing_key("RS256")
    client = oidc_server.register_jwt_client(registered.public_jwk, "RS256")
    stranger = generate_signing_key("RS256")
    out = verify_one(
        key_finding(stranger, client.client_id), corp(oidc_server, {"client_id": client.client_id})
    )
    assert out.verdict == "dead"
    assert out.verdict_reason == (
        "corp: token endpoint: 401 invalid_client (RS256); 401 invalid_client (PS256)"
    )


def test_key_found_in_the_jwks_the_issuer_holds(oidc_server: OidcServer):
    """No thumbprint in the registry, no client id near the key: the RFC 7592 read of each
    registered client (with its registration access token from the environment) finds it."""
    key = generate_signing_key("ES256")
    client = oidc_server.register_jwt_client(key.public_jwk, "ES256")
    other = oidc_server.register_secret_client()
    reg = corp(
        oidc_server,
        {
            "client_id": other.client_id,
            "registration_client_uri": other.registration_client_uri,
            "registration_access_token_env": "OTHER_RAT",
        },
        {
            "client_id": client.client_id,
            "owner": "team-j",
            "registration_client_uri": client.registration_client_uri,
            "registration_access_token_env": "ORDERS_RAT",
        },
    )
    environ = {
        "ORDERS_RAT": client.registration_access_token,
        "OTHER_RAT": other.registration_access_token,
    }
    out = verify_one(key_finding(key), reg, environ=environ)
    assert out.verdict == "live", out.verdict_reason
    assert out.client_id == client.client_id and out.owner == "team-j"

    stranger = generate_signing_key("ES256")
    missing = verify_one(key_finding(stranger), reg, environ=environ)
    assert missing.verdict == "unknown"
    assert "no registered client holds this key" in (missing.verdict_reason or "")

    no_token = verify_one(key_finding(key), reg, environ={})
    assert no_token.verdict == "unknown"
    assert "ORDERS_RAT is not set" in (no_token.verdict_reason or "")


# --------------------------------------------------------------------------- discovery


def test_rfc8414_discovery_when_openid_configuration_is_missing(
    oidc_server: OidcServer, fake_server
):
    client = oidc_server.register_secret_client()

    def only_rfc8414(seen: Seen) -> Reply:
        if seen.path == "/.well-known/oauth-authorization-server/tenant-a":
            return Reply(
                200,
                {"issuer": f"{meta.url}/tenant-a", "token_endpoint": oidc_server.token_endpoint},
            )
        return Reply(404, {"error": "not_found"})

    meta = fake_server(only_rfc8414)
    reg = registry(
        {"corp": f"{meta.url}/tenant-a"}, [{"client_id": client.client_id, "issuer": "corp"}]
    )
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict == "live"
    assert [s.path for s in meta.requests] == [
        "/tenant-a/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/tenant-a",
    ]


def test_configured_token_endpoint_skips_discovery(oidc_server: OidcServer):
    client = oidc_server.register_secret_client()
    reg = registry(
        {"corp": "http://127.0.0.1:9"},  # never contacted: the token endpoint is configured
        [{"client_id": client.client_id, "issuer": "corp"}],
        token_endpoint=oidc_server.token_endpoint,
    )
    out = verify_one(finding(client.client_secret, client_id=client.client_id), reg)
    assert out.verdict == "live"


def test_discovery_runs_once_per_issuer(oidc_server: OidcServer, fake_server):
    clients = [oidc_server.register_secret_client() for _ in range(5)]
    meta = fake_server(
        lambda seen: Reply(200, {"issuer": meta.url, "token_endpoint": oidc_server.token_endpoint})
    )
    reg = registry(
        {"corp": meta.url}, [{"client_id": c.client_id, "issuer": "corp"} for c in clients]
    )
    found = [finding(c.client_secret, client_id=c.client_id) for c in clients]
    assert {f.verdict for f in verify_findings(found, reg, OPTIONS)} == {"live"}
    assert len(meta.requests) == 1
