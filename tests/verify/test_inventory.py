"""Offline match: secret hashes, fingerprint prefixes of redacted secrets, key thumbprints."""

from __future__ import annotations

from scanner.models import make_fingerprint, secret_hash
from scanner.redact import redact
from scanner.verify import VerifyOptions, verify_findings
from scanner.verify.inventory import Inventory
from tests.verify.fakes import finding, new_secret, registry


def test_matches():
    secret, other = new_secret(), new_secret()
    reg = registry(
        {"corp": "https://idp.example.com"},
        [
            {
                "client_id": "a",
                "issuer": "corp",
                "secret_sha256": [secret_hash(secret)],
                "jwk_thumbprints": ["A" * 43],
            },
            {
                "client_id": "b",
                "issuer": "corp",
                "registration_client_uri": "https://idp.example.com/reg/b",
            },
            {"client_id": "c"},
        ],
    )
    inventory = Inventory(reg)
    assert [c.client_id for c in inventory.for_secret(secret)] == ["a"]
    assert inventory.for_secret(other) == ()
    fingerprint = make_fingerprint("generic-client-secret", secret)
    assert [c.client_id for c in inventory.for_secret(None, fingerprint)] == ["a"]
    assert inventory.for_secret("", "rule:short") == ()
    assert [c.client_id for c in inventory.for_key("A" * 43)] == ["a"]
    assert inventory.for_key(None) == ()
    assert [c.client_id for c in inventory.for_client_id("c")] == ["c"]
    assert [c.client_id for c in inventory.key_sources] == ["b"]


def test_redacted_report_still_matches_offline():
    secret = new_secret()
    reg = registry(
        clients=[{"client_id": "orders", "owner": "team", "secret_sha256": [secret_hash(secret)]}]
    )
    redacted = finding(secret)
    redacted = type(redacted)(**{**redacted.__dict__, "secret": redact(secret, "client-secret")})
    out = verify_findings([redacted], reg, VerifyOptions(live=False))[0]
    assert out.verdict == "not_checked" and out.owner == "team" and out.client_id == "orders"
