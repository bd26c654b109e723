"""Every rule against its own examples and counterexamples, and the rule loader's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import RuleError
from scanner.rulecheck import check_rule
from scanner.rules import default_rules_dir, load_rules, load_ruleset

ALL_RULES = load_rules(default_rules_dir())


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.id for r in ALL_RULES])
def test_rule_examples_and_counterexamples(rule):
    assert rule.examples, "every rule needs examples"
    assert check_rule(rule) == []


def test_rule_ids_are_unique_and_every_kind_is_covered():
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids))
    assert {r.kind for r in ALL_RULES} >= {"client-secret", "private-key", "token"}


def test_required_providers_have_rules():
    providers = {r.provider for r in ALL_RULES}
    for provider in (
        "google",
        "github",
        "azure",
        "okta",
        "auth0",
        "salesforce",
        "slack",
        "facebook",
        "discord",
        "twitter",
        "linkedin",
        "dropbox",
        "keycloak",
        "generic",
    ):
        assert provider in providers


def test_rulesets_select_by_kind():
    keys = load_ruleset("keys")
    assert keys.rules and all(c.rule.kind == "private-key" for c in keys.rules)
    assert len(load_ruleset("all").rules) >= len(load_ruleset("default").rules)


def test_unknown_ruleset_is_a_rule_error():
    with pytest.raises(RuleError, match="unknown ruleset 'nope'"):
        load_ruleset("nope")


def _write(tmp_path: Path, body: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "custom.toml").write_text(body)
    return d


GOOD = """
[[rule]]
id = "acme-client-secret"
name = "Acme client secret"
kind = "client-secret"
provider = "acme"
keywords = ["acme_"]
regex = '''acme_(?P<secret>[a-z0-9]{24})'''
examples = ['acme_«lower:24»']
"""


def test_extra_rules_dir_is_added_to_every_ruleset(tmp_path):
    ruleset = load_ruleset("keys", _write(tmp_path, GOOD))
    assert "acme-client-secret" in {c.rule.id for c in ruleset.rules}
    assert check_rule(ruleset.by_id("acme-client-secret").rule) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "acme-client-secret"', 'id = "Acme Secret"'), "id must be lower-case"),
        (("(?P<secret>", "(?P<value>"), "named group 'secret'"),
        (('keywords = ["acme_"]', 'keywords = ["ACME_"]'), "lower-case"),
        (('kind = "client-secret"', 'kind = "password"'), "kind must be one of"),
        (('provider = "acme"', 'provider = "acme"\ncolour = "red"'), "unknown field"),
        (("[a-z0-9]{24})", "[a-z0-9]{24}"), "bad regex"),
        (("examples = ['acme_«lower:24»']", ""), "missing 'examples'"),
    ],
)
def test_malformed_rules_are_rejected_with_file_and_rule(tmp_path, change, message):
    with pytest.raises(RuleError, match=message) as info:
        load_rules(_write(tmp_path, GOOD.replace(*change)))
    assert "custom.toml" in str(info.value)


def test_duplicate_ids_with_builtin_rules_are_rejected(tmp_path):
    body = GOOD.replace("acme-client-secret", "google-oauth-client-secret")
    with pytest.raises(RuleError, match="already a built-in rule"):
        load_ruleset("default", _write(tmp_path, body))


def test_a_rule_that_misses_its_example_is_reported(tmp_path):
    body = GOOD.replace("examples = ['acme_«lower:24»']", "examples = ['acme_«lower:10»']")
    rule = load_rules(_write(tmp_path, body))[0]
    problems = check_rule(rule)
    assert len(problems) == 1 and "example 1 not found" in problems[0].message


def test_a_low_entropy_numeric_salesforce_secret_is_still_found():
    """19 random digits can carry as little as 2.4 bits per digit; the rule must still report
    them next to a consumer key. Built at run time so this file stays scan-clean."""
    from scanner.engine import Engine
    from scanner.models import Blob, Origin
    from scanner.samples import expand

    digits = "56058881" + "16461664164"
    text = expand("salesforce.consumer.key=3MVG9«alnum:80»\n", "sf") + (
        "salesforce.consumer.secret=" + digits + "\n"
    )
    engine = Engine(load_ruleset("default"))
    found = engine.scan(Blob(data=text.encode(), origin=Origin(source="file", path="x"))).findings
    assert [(f.rule_id, f.secret) for f in found] == [("salesforce-consumer-secret", digits)]
