"""Load, validate and compile the rule data in ``patterns/``.

A rule is data (TOML), never code: an id, the kind of credential, the lower-case keywords that
gate it, one regex with a ``secret`` group, optional pairing regexes that capture the client id
nearby, and examples / counterexamples that ``leakstop rules check`` verifies.
"""

from __future__ import annotations

import fnmatch
import json
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex

from scanner import cache
from scanner.errors import RuleError
from scanner.models import KINDS, SEVERITIES

RULE_ID = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PARSERS = ("private-key", "keystore-key")
VALUE_CHECKS = ("has-digit", "has-letter", "not-uuid", "not-code-reference")
RULESETS_FILE = "rulesets.toml"
# No single regex search may run longer than this on one blob; hostile input gets a warning.
REGEX_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Pair:
    """How to find a value that belongs with the secret (its client id, tenant, domain)."""

    regex: str
    lines: int = 6
    required: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    kind: str
    provider: str
    keywords: tuple[str, ...]
    regex: str
    severity: str = "high"
    entropy: float | None = None
    pairs: tuple[Pair, ...] = ()
    parser: str | None = None
    checks: tuple[str, ...] = ()
    generic: bool = False
    """Generic rules yield to a specific rule that matched the same bytes."""
    reach: int = 0
    """How far (bytes) a match may extend from a keyword occurrence, either way; the engine
    searches only windows this wide around keyword hits. 0: a default from the rule's shape."""
    verifier: str | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    source_file: str = ""


@dataclass(frozen=True)
class CompiledRule:
    """A rule whose regexes compile on first use (once per process): most scans, such as a
    pre-commit check of a few files, never reach most rules past the keyword prefilter."""

    rule: Rule

    @property
    def pattern(self) -> Any:
        return compile_bytes(self.rule.regex)

    @property
    def pair_patterns(self) -> tuple[tuple[Pair, Any], ...]:
        return tuple((p, compile_bytes(p.regex)) for p in self.rule.pairs)


@dataclass(frozen=True)
class Ruleset:
    """The rules a scan runs, compiled, with the keyword index the prefilter needs."""

    name: str
    rules: tuple[CompiledRule, ...]

    @property
    def keywords(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for compiled in self.rules:
            for kw in compiled.rule.keywords:
                seen.setdefault(kw, None)
        return tuple(seen)

    def by_id(self, rule_id: str) -> CompiledRule:
        for compiled in self.rules:
            if compiled.rule.id == rule_id:
                return compiled
        raise KeyError(rule_id)


def default_rules_dir() -> Path:
    """The built-in ``patterns/``: inside the wheel, or at the repository root when editable."""
    packaged = Path(__file__).resolve().parent / "_patterns"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "patterns"


def load_ruleset(name: str = "default", extra_dir: Path | None = None) -> Ruleset:
    """Load the built-in rules (plus any in ``extra_dir``, always enabled) and select ``name``.
    Built-in regexes are checked by the test suite and ``rules check``, so only the user's
    extra rules are compiled up front, to fail fast on a mistake there."""
    builtin = load_rules(default_rules_dir(), validate=False)
    extra = load_rules(extra_dir) if extra_dir is not None else []
    ids = {r.id for r in builtin}
    for rule in extra:
        if rule.id in ids:
            raise RuleError(f"{rule.source_file}: rule id {rule.id!r} is already a built-in rule")
    selected = select(builtin, name, load_rulesets(default_rules_dir())) + extra
    return Ruleset(name=name, rules=tuple(CompiledRule(r) for r in selected))


def load_rules(directory: Path, *, validate: bool = True) -> list[Rule]:
    """Every rule in every ``*.toml`` of ``directory`` (except the rulesets file); with
    ``validate`` its regexes are compiled and their groups checked too. Parsed once per
    process for as long as the files are unchanged (a run loads rules more than once), and
    across processes through the on-disk cache (see ``_parsed``)."""
    if not directory.is_dir():
        raise RuleError(f"{directory}: rules directory does not exist")
    files = sorted(directory.glob("*.toml"))
    try:
        signature = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError as exc:
        raise RuleError(f"{directory}: {exc.strerror or exc}") from None
    key = (directory.resolve(), signature, validate)
    if key not in _LOADED:
        _LOADED[key] = _parsed(files, validate)
    return list(_LOADED[key])


_LOADED: dict[tuple[Path, tuple[tuple[str, int, int], ...], bool], tuple[Rule, ...]] = {}


def _parsed(files: list[Path], validate: bool) -> tuple[Rule, ...]:
    """The rules of ``files``: from the disk cache, which also holds every regex compiled
    (unpickling a compiled ``regex`` pattern skips its compiler, written in Python), or
    parsed now. A miss compiles and checks every regex so that the entry it stores serves
    any later run; with the cache off, regexes compile on first use instead."""
    texts: list[tuple[Path, bytes]] = []
    for path in files:
        if path.name == RULESETS_FILE:
            continue
        try:
            texts.append((path, path.read_bytes()))
        except OSError as exc:
            raise RuleError(f"{path}: {exc.strerror or exc}") from None
    inputs = (part for path, text in texts for part in (path.name.encode(), text))
    # This module's source is part of the key: it defines the Rule the entry pickles.
    name = cache.key([Path(__file__).read_bytes(), regex.__version__.encode(), *inputs])
    cached = _cached_rules(name)
    if cached is not None:
        return cached
    caching = cache.cache_dir() is not None
    rules = _parse_rules(texts, validate or caching)
    if caching:
        patterns = {p: compile_bytes(p) for r in rules for p in _regexes_of(r)}
        cache.write("rules", name, pickle.dumps((rules, patterns), pickle.HIGHEST_PROTOCOL))
    return rules


def _cached_rules(name: str) -> tuple[Rule, ...] | None:
    """The rules of a cache entry, their compiled regexes now shared; None on a miss."""
    stored = cache.read("rules", name)
    if stored is None:
        return None
    try:
        # Safe to unpickle: cache.read returns only files the user owns that no one else
        # can write, in a directory no one else can write.
        rules, patterns = pickle.loads(stored)  # noqa: S301
    except Exception:  # a damaged entry is a miss, whatever unpickling raises
        return None
    _COMPILED.update(patterns)
    return tuple(rules)


def _regexes_of(rule: Rule) -> tuple[str, ...]:
    return (rule.regex, *(p.regex for p in rule.pairs))


def _parse_rules(texts: list[tuple[Path, bytes]], validate: bool) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, text in texts:
        for rule in _read_rule_file(path, text, validate):
            if rule.id in seen:
                raise RuleError(
                    f"{path.name}: duplicate rule id {rule.id!r} (also in {seen[rule.id]})"
                )
            seen[rule.id] = path.name
            rules.append(rule)
    return tuple(rules)


def load_rulesets(directory: Path) -> dict[str, Mapping[str, Any]]:
    """The named rulesets of ``directory`` (JSON in the disk cache: no TOML parser to load)."""
    path = directory / RULESETS_FILE
    if not path.is_file():
        return {"default": {"include": ["*"]}}
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"{path}: {exc.strerror or exc}") from None
    name = cache.key([RULESETS_FILE.encode(), text])
    stored = cache.read("rulesets", name)
    if stored is not None:
        try:
            cached: dict[str, Mapping[str, Any]] = json.loads(stored)
        except ValueError:  # damaged: parse the file again
            pass
        else:
            return cached
    sets = _parse_rulesets(path, text)
    cache.write("rulesets", name, json.dumps(sets).encode())
    return sets


def _parse_rulesets(path: Path, text: bytes) -> dict[str, Mapping[str, Any]]:
    import tomllib  # a cache hit never needs it

    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from None
    sets = data.get("ruleset", {})
    if not isinstance(sets, dict) or "default" not in sets:
        raise RuleError(f"{path}: needs a [ruleset.default] table")
    return sets


def select(
    rules: Iterable[Rule], name: str, rulesets: Mapping[str, Mapping[str, Any]]
) -> list[Rule]:
    """The rules a named ruleset includes: id globs in ``include`` minus ``exclude`` and
    minus rules carrying any of ``exclude_tags``."""
    if name not in rulesets:
        known = ", ".join(sorted(rulesets))
        raise RuleError(f"unknown ruleset {name!r} (known: {known})")
    spec = rulesets[name]
    include = list(spec.get("include", ["*"]))
    exclude = list(spec.get("exclude", []))
    exclude_tags = set(spec.get("exclude_tags", []))
    kinds = set(spec.get("kinds", KINDS))
    return [
        r
        for r in rules
        if any(fnmatch.fnmatchcase(r.id, g) for g in include)
        and not any(fnmatch.fnmatchcase(r.id, g) for g in exclude)
        and not exclude_tags.intersection(r.tags)
        and r.kind in kinds
    ]


def compile_rule(rule: Rule) -> CompiledRule:
    """A rule with its regexes compiled now; a RuleError names the rule if one is invalid."""
    try:
        compile_bytes(rule.regex)
        for p in rule.pairs:
            compile_bytes(p.regex)
    except regex.error as exc:
        raise RuleError(f"{rule.source_file}: rule {rule.id}: bad regex: {exc}") from None
    return CompiledRule(rule)


def compile_bytes(pattern: str) -> Any:
    """Compile once per process: validation and every engine share the compiled pattern."""
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = regex.compile(pattern.encode())
    return compiled


_COMPILED: dict[str, Any] = {}


def _read_rule_file(path: Path, text: bytes, validate: bool) -> list[Rule]:
    import tomllib  # a cache hit never needs it

    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from None
    entries = data.get("rule")
    if not isinstance(entries, list) or not entries:
        raise RuleError(f"{path}: no [[rule]] entries")
    return [_parse_rule(entry, path.name, validate) for entry in entries]


_KNOWN_FIELDS = {
    "reach",
    "id",
    "name",
    "kind",
    "provider",
    "keywords",
    "regex",
    "severity",
    "entropy",
    "pair",
    "parser",
    "checks",
    "generic",
    "verifier",
    "tags",
    "description",
    "references",
    "examples",
    "counterexamples",
}


def _parse_rule(entry: Any, where: str, validate: bool) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{where}: a [[rule]] entry is not a table")
    rid = entry.get("id")
    label = f"{where}: rule {rid!r}"
    if not isinstance(rid, str) or not RULE_ID.match(rid):
        raise RuleError(f"{label}: id must be lower-case words joined by '-'")
    unknown = set(entry) - _KNOWN_FIELDS
    if unknown:
        raise RuleError(f"{label}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("name", "kind", "provider", "keywords", "regex", "examples"):
        if required not in entry:
            raise RuleError(f"{label}: missing {required!r}")
    kind = entry["kind"]
    if kind not in KINDS:
        raise RuleError(f"{label}: kind must be one of {', '.join(KINDS)}")
    keywords = entry["keywords"]
    if (
        not isinstance(keywords, list)
        or not keywords
        or not all(isinstance(k, str) and k and k == k.lower() and k.isascii() for k in keywords)
    ):
        raise RuleError(f"{label}: keywords must be a non-empty list of lower-case ASCII literals")
    severity = entry.get("severity", "high")
    if severity not in SEVERITIES:
        raise RuleError(f"{label}: severity must be one of {', '.join(SEVERITIES)}")
    parser = entry.get("parser")
    if parser is not None and parser not in PARSERS:
        raise RuleError(f"{label}: parser must be one of {', '.join(PARSERS)}")
    checks = tuple(entry.get("checks", ()))
    for check in checks:
        if check not in VALUE_CHECKS:
            raise RuleError(f"{label}: unknown check {check!r}")
    pairs = tuple(
        Pair(
            regex=p["regex"], lines=int(p.get("lines", 6)), required=bool(p.get("required", False))
        )
        for p in entry.get("pair", [])
    )
    rule = Rule(
        id=rid,
        name=entry["name"],
        kind=kind,
        provider=entry["provider"],
        keywords=tuple(keywords),
        regex=entry["regex"],
        severity=severity,
        entropy=float(entry["entropy"]) if "entropy" in entry else None,
        pairs=pairs,
        parser=parser,
        checks=checks,
        generic=bool(entry.get("generic", False)),
        reach=int(entry.get("reach", 0)),
        verifier=entry.get("verifier"),
        tags=tuple(entry.get("tags", ())),
        description=entry.get("description", ""),
        references=tuple(entry.get("references", ())),
        examples=tuple(entry["examples"]),
        counterexamples=tuple(entry.get("counterexamples", ())),
        source_file=where,
    )
    if validate:
        check_regexes(rule, label)
    return rule


def check_regexes(rule: Rule, label: str) -> None:
    """Compile a rule's regexes and check their named groups."""
    compiled = compile_rule(rule)
    if "secret" not in compiled.pattern.groupindex:
        raise RuleError(f"{label}: regex needs a named group 'secret'")
    for pair, pattern in compiled.pair_patterns:
        if not pattern.groupindex:
            raise RuleError(f"{label}: pair regex {pair.regex!r} captures no named group")
