"""The registry file: issuers and clients validated, secrets only ever from the environment."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scanner.registry import Client, RegistryError, load_registry, parse_registry

SHA = hashlib.sha256(b"not a real secret").hexdigest()
THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(text, "utf-8")
    return path


def test_full_registry(tmp_path):
    path = write(
        tmp_path,
        f"""
[[issuer]]
name = "corp"
issuer = "https://idp.example.com/"
scope = "api"

[[issuer]]
name = "local"
issuer = "http://127.0.0.1:8080/realms/test"
token_endpoint = "http://127.0.0.1:8080/realms/test/token"

[[client]]
client_id = "orders-service"
issuer = "corp"
owner = "team-orders"
secret_sha256 = ["{SHA.upper()}"]
jwk_thumbprints = ["{THUMBPRINT}"]
registration_client_uri = "https://idp.example.com/reg/orders-service"
registration_access_token_env = "ORDERS_RAT"
revoke = "rfc7592-delete"

[[client]]
client_id = "123-abc.apps.googleusercontent.com"
provider = "google"
app_id = 12345
revoke = "provider:google"
""",
    )
    registry = load_registry(path)
    corp = registry.issuer("corp")
    assert corp is not None and corp.issuer == "https://idp.example.com"  # trailing / dropped
    assert corp.scope == "api" and corp.token_endpoint is None
    orders = registry.clients_with_id("orders-service")[0]
    assert registry.issuer_of(orders) is corp
    assert orders.secret_sha256 == (SHA,)  # normalised to lower case
    assert orders.jwk_thumbprints == (THUMBPRINT,)
    assert orders.owner == "team-orders" and orders.revoke == "rfc7592-delete"
    google = registry.clients_with_id("123-abc.apps.googleusercontent.com")[0]
    assert google.app_id == "12345" and registry.issuer_of(google) is None
    assert registry.path == path


def test_registration_token_comes_only_from_the_environment(monkeypatch):
    client = Client(client_id="c", registration_access_token_env="ORDERS_RAT")
    monkeypatch.delenv("ORDERS_RAT", raising=False)
    assert client.registration_access_token() is None
    monkeypatch.setenv("ORDERS_RAT", "value-from-env")
    assert client.registration_access_token() == "value-from-env"
    assert client.registration_access_token({"ORDERS_RAT": "given"}) == "given"
    assert client.registration_access_token({"ORDERS_RAT": ""}) is None
    assert Client(client_id="c").registration_access_token({"X": "y"}) is None


@pytest.mark.parametrize(
    "key", ["client_secret", "secret", "registration_access_token", "password", "api_token"]
)
def test_plaintext_secrets_are_refused_without_echoing_them(key):
    value = "plaintext-value-that-must-not-be-echoed"
    data = {"client": [{"client_id": "c", key: value}]}
    with pytest.raises(RegistryError, match="plaintext secrets are never read") as err:
        parse_registry(data, "reg.toml")
    assert value not in str(err.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"issuer": [{"name": "a", "issuer": "http://idp.example.com"}]}, "must use https"),
        ({"issuer": [{"name": "a", "issuer": "ftp://idp.example.com"}]}, "https:// URL"),
        ({"issuer": [{"name": "a", "issuer": "https://u:p@idp.example.com"}]}, "credentials"),
        ({"issuer": [{"name": "a"}]}, "issuer is required"),
        ({"issuer": [{"name": "a", "issuer": "https://x.test", "extra": 1}]}, "unknown keys"),
        (
            {
                "issuer": [
                    {"name": "a", "issuer": "https://x.test"},
                    {"name": "a", "issuer": "https://y.test"},
                ]
            },
            "defined twice",
        ),
        ({"client": [{"client_id": "c", "issuer": "missing"}]}, "not defined by any"),
        ({"client": [{"client_id": "c", "secret_sha256": ["abc"]}]}, "64 hex digits"),
        ({"client": [{"client_id": "c", "jwk_thumbprints": ["short"]}]}, "RFC 7638"),
        ({"client": [{"client_id": "c", "revoke": "explode"}]}, "revoke must be"),
        (
            {"client": [{"client_id": "c", "registration_access_token_env": "A B"}]},
            "name a variable",
        ),
        ({"client": [{"client_id": ""}]}, "non-empty string"),
        ({"client": [{"client_id": "c"}, {"client_id": "c"}]}, "registered twice"),
        ({"client": {"client_id": "c"}}, "array of tables"),
        ({"clients": []}, "unknown top-level"),
    ],
)
def test_invalid_registries(data, message):
    with pytest.raises(RegistryError, match=message):
        parse_registry(data, "reg.toml")


def test_plain_http_is_allowed_for_loopback_only():
    for url in ("http://127.0.0.1:9", "http://localhost:9/x", "http://[::1]:9"):
        registry = parse_registry({"issuer": [{"name": "t", "issuer": url}]}, "reg")
        assert registry.issuers[0].issuer == url.rstrip("/")


def test_same_client_id_at_two_issuers_is_fine():
    registry = parse_registry(
        {
            "issuer": [
                {"name": "a", "issuer": "https://a.test"},
                {"name": "b", "issuer": "https://b.test"},
            ],
            "client": [{"client_id": "c", "issuer": "a"}, {"client_id": "c", "issuer": "b"}],
        },
        "reg",
    )
    assert [c.issuer for c in registry.clients_with_id("c")] == ["a", "b"]


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(RegistryError, match="cannot read registry"):
        load_registry(tmp_path / "missing.toml")
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_registry(write(tmp_path, "[[client]\nclient_id = "))
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_registry(tmp_path / "bin.toml")


def test_empty_registry_is_valid(tmp_path):
    registry = load_registry(write(tmp_path, ""))
    assert registry.issuers == () and registry.clients == ()
    assert registry.clients_with_id("x") == ()
