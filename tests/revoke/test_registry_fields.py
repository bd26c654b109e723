"""Registry fields of the revocation stage: validated, and never a place for a secret."""

from __future__ import annotations

import pytest

from scanner.registry import RegistryError, parse_registry


def client(**fields):
    return parse_registry({"client": [{"client_id": "c", **fields}]}, "r").clients[0]


def test_revocation_fields():
    c = client(
        revoke="rfc7592-rotate",
        secret_sink="file:/run/secrets/orders.env",
        notify_repo="acme/security",
        admin_token_env="ADMIN",
        github_token_env="GH",
        tokens_env="TOKENS",
        key_id="ocs123",
    )
    assert c.secret_sink == "file:/run/secrets/orders.env"
    assert (c.notify_repo, c.admin_token_env, c.github_token_env) == (
        "acme/security",
        "ADMIN",
        "GH",
    )
    assert (c.tokens_env, c.key_id) == ("TOKENS", "ocs123")
    assert c.env_value("ADMIN", {"ADMIN": "x"}) == "x" and c.env_value("ADMIN", {}) is None
    assert client(secret_sink="github:acme/app:APP_SECRET").secret_sink
    assert client(secret_sink="github-org:acme:APP_SECRET").secret_sink


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"secret_sink": "file:relative/path"}, "secret_sink must be"),
        ({"secret_sink": "s3://bucket/key"}, "secret_sink must be"),
        ({"secret_sink": "github:acme:NAME"}, "secret_sink must be"),
        ({"secret_sink": "github:acme/app:bad-name"}, "secret_sink must be"),
        ({"notify_repo": "acme"}, "notify_repo must be owner/repo"),
        ({"admin_token_env": "not a name"}, "admin_token_env must name"),
        ({"tokens_env": "$X"}, "tokens_env must name"),
        ({"admin_token": "plaintext"}, "plaintext secrets are never read"),
        ({"client_secret": "plaintext"}, "plaintext secrets are never read"),
    ],
)
def test_invalid_revocation_fields(fields, message):
    with pytest.raises(RegistryError, match=message):
        client(**fields)
