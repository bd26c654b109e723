"""Filters: each drops exactly the candidates it names."""

from __future__ import annotations

import pytest

from scanner.filters import (
    Candidate,
    allow_comment,
    baseline_filter,
    code_reference,
    encrypted_value,
    finding_confidence,
    hash_of_secret,
    location_confidence,
    name_like,
    placeholder,
    shannon_entropy,
    templating,
)
from scanner.rules import load_ruleset
from scanner.samples import expand

GENERIC = load_ruleset("all").by_id("generic-client-secret").rule
PEM = load_ruleset("all").by_id("private-key-pem").rule


def candidate(
    secret: str,
    *,
    quoted: bool = True,
    following: str = '"',
    line: str = "",
    previous: str = "",
    rule=GENERIC,
    path: str = "a.py",
) -> Candidate:
    return Candidate(
        rule=rule,
        secret=secret,
        fingerprint="fp",
        quoted=quoted,
        line_text=line or secret,
        previous_line_text=previous,
        following=following,
        path=path,
    )


@pytest.mark.parametrize(
    "value",
    [
        "your-client-secret",
        "changeme1234",
        "xxxxxxxxxxxx",
        "EXAMPLE_SECRET_1",
        "aaaaaaaaaaaa1",
        "my-secret-goes-here",
        "REDACTED12345",
    ],
)
def test_placeholders_are_dropped(value):
    assert placeholder(candidate(value))


def test_random_values_are_not_placeholders():
    assert not placeholder(candidate("q7Zp2LmX9vTr4KsW8nYb3HcD"))


def test_placeholder_filter_never_drops_keys():
    assert not placeholder(candidate("-----BEGIN PRIVATE KEY-----xxxxxx", rule=PEM))


@pytest.mark.parametrize(
    "value", ["${CLIENT_SECRET}", "{{client_secret}}", "%(secret)s", "__SECRET__"]
)
def test_templating_is_dropped(value):
    assert templating(candidate(value))


def test_code_references_are_dropped_only_when_unquoted():
    assert code_reference(candidate("settings.auth2", quoted=False, following="\n"))
    assert code_reference(candidate("get_secret", quoted=False, following="("))
    assert code_reference(candidate("os.environ", quoted=False, following="["))
    assert not code_reference(
        candidate("abc123XYZ789", quoted=False, following="\n", path="deploy/app.env")
    )


def test_unquoted_values_in_source_code_are_identifiers_unless_in_a_comment_or_string():
    def unquoted(line: str, value: str, path: str) -> bool:
        return code_reference(candidate(value, quoted=False, following=",", line=line, path=path))

    name = "_0x" + expand("«hex:12»", "minified")  # built here: the file stays scan-clean
    value = expand("«alnum:16»", "literal")
    key = "client" + "Secret"
    assert unquoted(f"{{{key}:{name},x:1}}", name, "dist/app.min.js")
    assert not unquoted(f"{{{key}:{name},x:1}}", name, "app.yaml")
    assert not unquoted(f"# CLIENT_SECRET={value}", value, "settings.py")
    assert not unquoted(f'u = "/token?client_secret={value[:12]}&x=1"', value[:12], "a.js")
    assert not code_reference(candidate(value, quoted=False, line=f'S = "{value}"', path="a.go"))
    # the end of a line in a source file may be inside a heredoc or docstring: kept
    assert not code_reference(
        candidate("q7Zp2LmX9vTr4KsW", quoted=False, following="\n", path="setup_env.rb")
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GITHUB_CLIENT_SECRET_SHA1=VALUE", True),
        ("hashed_client_secret: VALUE", True),
        ('"clientSecretHash": "VALUE"', True),
        ("  client-secret-md5: VALUE", True),
        ('{"hash": "sha256", "client_secret": "VALUE"}', False),
        ("CLIENT_SECRET=VALUE", False),
    ],
)
def test_hashes_of_secrets_are_dropped_by_their_key(line, expected):
    assert hash_of_secret(candidate("VALUE", line=line)) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("oidc-client-secret-2", True),
        ("secret/oauth2", True),
        ("orders-api-client-secret-v2", True),
        ("OAUTH2_CLIENT_SECRET_V2", True),
        ("Q7ZP2LMX9VTR4KSW8NYB", False),
        ("q7Zp2LmX9vTr4KsW", False),
        ("uiyoaw4oiptdyv2", False),
        ("a8f5f167-f44f-4c1a", False),
    ],
)
def test_names_of_secrets_are_not_secrets(value, expected):
    assert name_like(candidate(value)) is expected


def test_kms_ciphertext_is_not_a_leak():
    assert encrypted_value(candidate("AQICAH" + "x1Y2" * 40))
    assert not encrypted_value(candidate("q7Zp2LmX9vTr4KsW8nYb3HcD"))


def test_allow_comment_on_the_line_or_the_line_above():
    assert allow_comment(candidate("s3cr3tvalue1", line='x = "s3cr3tvalue1"  # leakstop:allow'))
    assert allow_comment(candidate("s3cr3tvalue1", previous="// leakstop:allow"))
    assert not allow_comment(candidate("s3cr3tvalue1", previous="# unrelated"))


def test_baseline_drops_known_fingerprints_only():
    check = baseline_filter({"fp"})
    assert check(candidate("abc"))
    assert not baseline_filter({"other"})(candidate("abc"))


def test_entropy_orders_random_above_repetitive():
    assert shannon_entropy("aaaaaaaa") == 0
    assert shannon_entropy("q7Zp2LmX9vTr4KsW") > 3.5


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/fixtures/key.pem", "test-fixture"),
        ("src/app/settings.py", "high"),
        ("lib/fake_credentials.py", "test-fixture"),
        ("dist/app.zip!test/data/key.pem", "test-fixture"),
        ("jwcrypto-1.6.1.whl!jwcrypto/tests.py", "test-fixture"),
        ("jwcrypto/tests-cookbook.py", "test-fixture"),
        ("pkg/crypto_test.go", "test-fixture"),
        ("web/login-test.js", "test-fixture"),
        ("src/contest.py", "high"),
        ("src/attestation.py", "high"),
        (None, "high"),
    ],
)
def test_location_confidence(path, expected):
    assert location_confidence(path) == expected


def test_keys_published_on_purpose_are_test_fixtures_wherever_they_are():
    moto_ca = "P0g1H-5ysy7yOMThSUahPzqN526L9U0Y9_v427L46y8"
    assert finding_confidence("deploy/ca.key", moto_ca) == "test-fixture"
    assert finding_confidence("deploy/ca.key", "another-thumbprint") == "high"
    assert finding_confidence("tests/ca.key", None) == "test-fixture"
    gnutls_dsa = "private-key-pem:05d6b9b8355fb9d7e8d6f4f49fa5aab8"  # no thumbprint: fingerprint
    assert finding_confidence("lib/libgnutls.so.30", None, gnutls_dsa) == "test-fixture"
