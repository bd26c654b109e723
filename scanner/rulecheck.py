"""Check every rule against its own examples (must be found) and counterexamples (must not),
expanding «sample» tokens into fresh values first."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.engine import Engine
from scanner.errors import RuleError
from scanner.models import Blob, Origin
from scanner.rules import Rule, Ruleset, check_regexes, compile_rule
from scanner.samples import expand


@dataclass(frozen=True)
class RuleProblem:
    rule_id: str
    message: str


def check_rule(rule: Rule) -> list[RuleProblem]:
    """What is wrong with one rule: examples it misses, counterexamples it reports."""
    try:
        check_regexes(rule, f"{rule.source_file}: rule {rule.id!r}")
    except RuleError as exc:
        return [RuleProblem(rule.id, str(exc))]
    engine = Engine(Ruleset(name=rule.id, rules=(compile_rule(rule),)))
    problems: list[RuleProblem] = []
    for i, template in enumerate(rule.examples):
        text = expand(template, seed=f"{rule.id}/example/{i}")
        found = [f for f in _scan(engine, text) if f.rule_id == rule.id]
        if not found:
            problems.append(RuleProblem(rule.id, f"example {i + 1} not found: {template[:80]!r}"))
    for i, template in enumerate(rule.counterexamples):
        text = expand(template, seed=f"{rule.id}/counterexample/{i}")
        found = [f for f in _scan(engine, text) if f.rule_id == rule.id]
        if found:
            problems.append(
                RuleProblem(rule.id, f"counterexample {i + 1} reported: {template[:80]!r}")
            )
    return problems


def _scan(engine: Engine, text: str) -> list:  # type: ignore[type-arg]
    blob = Blob(data=text.encode(), origin=Origin(source="file", path="example.txt"))
    return engine.scan(blob).findings
