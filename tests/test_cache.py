"""The on-disk cache: entries round-trip, a changed input misses, and nothing is read from a
place someone else could have written (entries may be pickles)."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from scanner import cache, prefilter, rulecheck, rules


@pytest.fixture
def cache_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(directory))
    return directory


def test_an_entry_round_trips_and_a_changed_input_misses(cache_at: Path) -> None:
    name = cache.key([b"rules v1"])
    assert cache.read("thing", name) is None
    assert cache.write("thing", name, b"payload")
    assert cache.read("thing", name) == b"payload"
    assert cache.key([b"rules v2"]) != name
    assert cache.key([b"rules", b" v1"]) != name  # parts are length-framed
    assert stat.S_IMODE(cache_at.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache_at / f"thing-{name}").stat().st_mode) == 0o600


def test_an_empty_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, "")
    assert cache.cache_dir() is None
    assert not cache.write("thing", "x", b"payload")
    assert cache.read("thing", "x") is None


def test_the_default_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "leakstop"


def test_entries_others_can_write_are_not_read(cache_at: Path) -> None:
    assert cache.write("thing", "x", b"payload")
    entry = cache_at / "thing-x"
    entry.chmod(0o666)
    assert cache.read("thing", "x") is None
    entry.chmod(0o600)
    cache_at.chmod(0o777)
    assert cache.read("thing", "x") is None
    assert not cache.write("thing", "y", b"payload")
    cache_at.chmod(0o700)
    assert cache.read("thing", "x") == b"payload"


def test_entries_of_another_user_are_not_read() -> None:
    theirs = os.stat_result((stat.S_IFREG | 0o600, 0, 0, 1, os.getuid() + 1, 0, 7, 0, 0, 0))
    ours = os.stat_result((stat.S_IFREG | 0o600, 0, 0, 1, os.getuid(), 0, 7, 0, 0, 0))
    assert not cache._private_file(theirs)
    assert cache._private_file(ours)


def test_a_cache_that_cannot_be_created_is_only_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    assert not cache.write("thing", "x", b"payload")
    assert cache.read("thing", "x") is None


def test_old_entries_are_pruned(cache_at: Path) -> None:
    for i in range(cache.KEEP_PER_KIND + 3):
        assert cache.write("thing", f"{i:02}", b"payload")
        os.utime(cache_at / f"thing-{i:02}", ns=(i * 10**9, i * 10**9))
    assert cache.write("other", "kept", b"payload")
    kept = sorted(p.name for p in cache_at.glob("thing-*"))
    assert len(kept) == cache.KEEP_PER_KIND
    assert "thing-00" not in kept
    assert (cache_at / "other-kept").exists()
    assert not list(cache_at.glob(".*.tmp"))


def _fresh_rules_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process parsed and compiled, as a new process would."""
    monkeypatch.setattr(rules, "_LOADED", {})
    monkeypatch.setattr(rules, "_COMPILED", {})


def test_rules_come_compiled_from_the_cache(
    cache_at: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_rules_process(monkeypatch)
    parsed = rules.load_rules(rules.default_rules_dir(), validate=False)
    selected = rules.load_ruleset("default")
    assert list(cache_at.glob("rules-*"))
    assert list(cache_at.glob("rulesets-*"))
    _fresh_rules_process(monkeypatch)

    def no_compiling(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cached rule was compiled again")

    monkeypatch.setattr(rules.regex, "compile", no_compiling)
    monkeypatch.setattr(tomllib, "loads", no_compiling)
    cached = rules.load_rules(rules.default_rules_dir(), validate=False)
    assert cached == parsed
    assert rules.load_ruleset("default") == selected  # rulesets.toml comes from the cache too
    for rule in cached:  # the unpickled regexes work: every example and counterexample
        assert rulecheck.check_rule(rule) == []


def test_a_damaged_rules_entry_is_parsed_again(
    cache_at: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_rules_process(monkeypatch)
    parsed = rules.load_rules(rules.default_rules_dir(), validate=False)
    (entry,) = cache_at.glob("rules-*")
    entry.write_bytes(entry.read_bytes()[:100])
    _fresh_rules_process(monkeypatch)
    assert rules.load_rules(rules.default_rules_dir(), validate=False) == parsed
    assert len(entry.read_bytes()) > 100  # stored whole again

    sets = rules.load_rulesets(rules.default_rules_dir())
    (sets_entry,) = cache_at.glob("rulesets-*")
    sets_entry.write_bytes(b"{damaged")
    assert rules.load_rulesets(rules.default_rules_dir()) == sets
    assert sets_entry.read_bytes() != b"{damaged"


def test_an_edited_rule_file_misses(
    cache_at: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "rules"
    directory.mkdir()
    rule = """[[rule]]
id = "demo-token"
name = "Demo token"
kind = "client-secret"
provider = "demo"
keywords = ["demo_"]
regex = '''demo_(?P<secret>[a-z]{12})'''
examples = ["demo_abcdefghijkl"]
"""
    (directory / "demo.toml").write_text(rule)
    _fresh_rules_process(monkeypatch)
    assert rules.load_rules(directory)[0].name == "Demo token"
    (directory / "demo.toml").write_text(rule.replace("Demo token", "Demo token v2"))
    _fresh_rules_process(monkeypatch)
    assert rules.load_rules(directory)[0].name == "Demo token v2"
    assert len(list(cache_at.glob("rules-*"))) == 2


def test_the_prefilter_database_comes_from_the_cache(
    cache_at: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if prefilter._hyperscan is None:
        pytest.skip("no hyperscan on this platform")
    keywords = ["client_secret", "begin", "gocspx-"]
    built = prefilter.Prefilter(keywords)
    (entry,) = cache_at.glob("prefilter-*")

    def no_building(*_args: object) -> None:
        raise AssertionError("a cached database was compiled again")

    monkeypatch.setattr(prefilter, "_build", no_building)
    data = b"x = 'GOCSPX-abc' # client_secret\n-----BEGIN"
    assert prefilter.Prefilter(keywords).hits(data) == built.hits(data)
    monkeypatch.undo()
    monkeypatch.setenv(cache.CACHE_ENV, str(cache_at))
    entry.write_bytes(b"damaged")
    assert prefilter.Prefilter(keywords).hits(data) == built.hits(data)
    assert entry.read_bytes() != b"damaged"
