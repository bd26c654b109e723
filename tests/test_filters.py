"""Filters: each drops exactly the candidates it names."""

from __future__ import annotations

import pytest

from scanner.filters import (
    Candidate,
    allow_comment,
    baseline_filter,
    code_reference,
    location_confidence,
    placeholder,
    shannon_entropy,
    templating,
)
from scanner.rules import load_ruleset

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
) -> Candidate:
    return Candidate(
        rule=rule,
        secret=secret,
        fingerprint="fp",
        quoted=quoted,
        line_text=line or secret,
        previous_line_text=previous,
        following=following,
        path="a.py",
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
    assert not code_reference(candidate("abc123XYZ789", quoted=False, following="\n"))


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
        (None, "high"),
    ],
)
def test_location_confidence(path, expected):
    assert location_confidence(path) == expected
