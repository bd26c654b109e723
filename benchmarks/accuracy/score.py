"""Score leakstop against the labelled corpus: recall, precision and F1 overall and per
provider, kind, source, format and category, with every miss and false alarm listed.

    python -m benchmarks.accuracy.score [--seed 9] [--repeat 1] [--corpus DIR]

How findings are counted (the rules of the game, stated once):

* A finding *matches* a label when it is at the label's location: same source, path (or
  archive chain) and line, and for history cases the same blob or commit. A key inside a
  binary keystore has no line: any finding on that file matches it.
* A **positive** is detected (true positive) when at least one finding matches it, whatever
  its confidence: a ``test-fixture`` finding is still reported, never hidden. Positives that
  only got ``test-fixture`` findings are listed as *downgraded*. Which rule reported it is
  scored separately as *attribution*.
* A **decoy** of category ``test-fixture`` (a real-shaped credential in a test, fake or
  fixture file) is handled correctly when nothing matches it or every match is marked
  ``confidence: "test-fixture"``; a ``high`` finding there is a false alarm.
* Any other **decoy** (public keys, hashes, UUIDs, placeholders, code references...) is not
  a credential at all: any finding on it is a false alarm, whatever its confidence.
* A finding that matches no label is a false alarm too.

recall = TP / positives; precision = TP / (TP + false alarms); F1 their harmonic mean. Per
group, labels count in the group named by their own attributes and unlabelled findings in
the group of the finding's rule.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import scanner
from benchmarks.accuracy.corpus import (
    POSITIVE,
    TEST_FIXTURE_CATEGORIES,
    Label,
    generate,
    load_labels,
)
from scanner.models import Finding

DIMENSIONS = ("provider", "kind", "source", "format", "category")


@dataclass(frozen=True)
class Hit:
    """A finding reduced to what scoring needs."""

    source: str
    path: str | None
    line: int
    rule: str
    kind: str
    provider: str
    confidence: str
    commit: str | None = None
    blob: str | None = None


@dataclass(frozen=True)
class Outcome:
    label: Label
    hits: tuple[Hit, ...]
    verdict: str
    """``tp`` / ``fn`` for positives, ``tn`` / ``fp`` for decoys."""

    @property
    def attributed(self) -> bool:
        return any(h.rule == self.label.rule for h in self.hits)

    @property
    def placed(self) -> bool:
        """History cases: reported at the commit that introduced the value, under its path
        there (a renamed file at its first path)."""
        if not self.label.commit:
            return True
        return any(h.commit == self.label.commit and h.path == self.label.path for h in self.hits)

    @property
    def downgraded(self) -> bool:
        return bool(self.hits) and all(h.confidence == "test-fixture" for h in self.hits)


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def decoys(self) -> int:
        return self.tn + self.fp

    @property
    def recall(self) -> float | None:
        return self.tp / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


@dataclass
class Score:
    outcomes: list[Outcome]
    unlabelled: list[Hit]
    skipped: dict[str, str] = field(default_factory=dict)
    """Parts of the corpus not scored, and why (a capability this build lacks)."""

    def counts(self, dimension: str | None = None) -> dict[str, Counts]:
        table: dict[str, Counts] = defaultdict(Counts)
        for o in self.outcomes:
            key = "all" if dimension is None else str(getattr(o.label, dimension))
            setattr(table[key], o.verdict, getattr(table[key], o.verdict) + 1)
        for hit in self.unlabelled:
            key = "all" if dimension is None else _hit_group(hit, dimension)
            table[key].fp += 1
        return dict(sorted(table.items()))

    @property
    def overall(self) -> Counts:
        return self.counts().get("all", Counts())

    def of(self, verdict: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == verdict]


def _hit_group(hit: Hit, dimension: str) -> str:
    if dimension in ("provider", "kind", "source"):
        return str(getattr(hit, dimension))
    return "unlabelled"


# -- capabilities ----------------------------------------------------------------------------


def capabilities() -> dict[str, str | None]:
    """Which parts of the corpus this build can be scored on: None when it can, else why not."""
    from scanner import keys

    missing: dict[str, str | None] = {"tree": None}
    probe = "-----BEGIN PRIVATE KEY-----\n" + "A" * 64 + "\n-----END PRIVATE KEY-----"
    missing["private-key"] = (
        "scanner/keys.py is the temporary stand-in (accepts any PEM-looking text)"
        if keys.inspect_key(probe) is not None
        else None
    )
    missing["history"] = (
        None
        if importlib.util.find_spec("scanner.sources.git")
        else "git history source not in this build"
    )
    missing["artifact"] = (
        None
        if importlib.util.find_spec("scanner.sources.artifacts")
        else "artifact source not in this build"
    )
    return missing


# -- matching --------------------------------------------------------------------------------


def score(
    labels: Sequence[Label], hits: Sequence[Hit], skip: dict[str, str] | None = None
) -> Score:
    """Match hits to labels and give every label its verdict."""
    skip = skip or {}
    labels = [lb for lb in labels if lb.source not in skip and not _kind_skipped(lb.kind, skip)]
    hits = [h for h in hits if h.source not in skip and not _kind_skipped(h.kind, skip)]
    by_place: dict[tuple[str, str | None, int | None], list[Label]] = defaultdict(list)
    for label in labels:
        by_place[(label.source, label.path, label.line)].append(label)
    matched: dict[int, list[Hit]] = defaultdict(list)
    unlabelled: list[Hit] = []
    for hit in hits:
        here = by_place.get((hit.source, hit.path, hit.line), [])
        anywhere = by_place.get((hit.source, hit.path, None), [])
        candidates = [lb for lb in [*here, *anywhere] if _same_version(lb, hit)]
        if not candidates:
            unlabelled.append(hit)
        for label in candidates:
            matched[label.id].append(hit)
    outcomes = [_verdict(label, tuple(matched.get(label.id, ()))) for label in labels]
    return Score(outcomes, unlabelled, dict(skip))


def _kind_skipped(kind: str, skip: dict[str, str]) -> bool:
    return kind in skip


def _same_version(label: Label, hit: Hit) -> bool:
    """History labels pin a blob or commit; a hit from another version is another case."""
    if label.blob and hit.blob:
        return label.blob == hit.blob
    if label.commit and hit.commit:
        return label.commit == hit.commit
    return True


def _verdict(label: Label, hits: tuple[Hit, ...]) -> Outcome:
    if label.expected == POSITIVE:
        return Outcome(label, hits, "tp" if hits else "fn")
    if label.category in TEST_FIXTURE_CATEGORIES:
        ok = all(h.confidence == "test-fixture" for h in hits)
    else:
        ok = not hits
    return Outcome(label, hits, "tn" if ok else "fp")


# -- running ---------------------------------------------------------------------------------


def hits_from(findings: Iterable[Finding], source: str) -> list[Hit]:
    return [
        Hit(
            source=source,
            path=f.origin.path,
            line=f.line,
            rule=f.rule_id,
            kind=f.kind,
            provider=f.provider,
            confidence=f.confidence,
            commit=f.origin.commit,
            blob=f.origin.blob_id,
        )
        for f in findings
    ]


def scan_corpus(root: Path, jobs: int = 0) -> tuple[list[Hit], int]:
    """Scan each source of a generated corpus; (hits, bytes scanned)."""
    hits: list[Hit] = []
    scanned = 0
    for source in ("tree", "history", "artifact"):
        directory = root / source
        if not directory.exists():
            continue
        result = scanner.scan([directory], scanner.Config(jobs=jobs))
        hits += hits_from(result.findings, source)
        scanned += result.summary.bytes_scanned
    return hits, scanned


def evaluate(seed: int = 9, repeat: int = 1, corpus: Path | None = None, jobs: int = 0) -> Score:
    """Generate (or reuse) a corpus, scan it and score the findings."""
    if corpus is None:
        with tempfile.TemporaryDirectory(prefix="leakstop-accuracy-") as tmp:
            return evaluate(seed, repeat, Path(tmp), jobs)
    if not (corpus / "labels.jsonl").exists():
        generate(corpus, seed, repeat)
    labels = load_labels(corpus)
    hits, _ = scan_corpus(corpus, jobs)
    skip = {k: why for k, why in capabilities().items() if why}
    return score(labels, hits, skip)


# -- reporting -------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(rows: dict[str, Counts], heading: str) -> list[str]:
    out = [
        f"| {heading} | positives | TP | FN | decoys | decoys OK | FP | recall | precision | F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in rows.items():
        out.append(
            f"| {name} | {c.positives} | {c.tp} | {c.fn} | {c.decoys} | {c.tn} | {c.fp} | "
            f"{fmt(c.recall)} | {fmt(c.precision)} | {fmt(c.f1)} |"
        )
    return out


def report(result: Score, *, dimensions: Sequence[str] = DIMENSIONS) -> str:
    """The full report: tables, then every miss, false alarm and attribution error."""
    lines = ["### Overall", "", *table({"all": result.overall}, "corpus"), ""]
    for dimension in dimensions:
        lines += [f"### Per {dimension}", "", *table(result.counts(dimension), dimension), ""]
    tps = result.of("tp")
    wrong = [o for o in tps if not o.attributed]
    downgraded = [o for o in tps if o.downgraded]
    dated = [o for o in tps if o.label.commit]
    misplaced = [o for o in dated if not o.placed]
    lines += [
        f"Attribution: {len(tps) - len(wrong)} of {len(tps)} detected positives reported by "
        f"the expected rule; {len(downgraded)} detected only as test-fixture.",
        "",
    ]
    if dated:
        lines += [
            f"Provenance: {len(dated) - len(misplaced)} of {len(dated)} detected history "
            "positives reported at their introducing commit and path.",
            "",
        ]
    if result.skipped:
        lines += ["Not scored in this build:", ""]
        lines += [f"- {part}: {why}" for part, why in result.skipped.items()]
        lines.append("")
    lines += _listing("Misses (positives not reported)", result.of("fn"))
    alarms = result.of("fp")
    lines += _listing("False alarms on decoys", alarms)
    if result.unlabelled:
        lines += [f"#### False alarms on unlabelled locations ({len(result.unlabelled)})", ""]
        lines += [
            f"- {h.source}:{h.path}:{h.line} {h.rule} ({h.confidence})"
            for h in sorted(result.unlabelled, key=lambda h: (h.path or "", h.line))
        ]
        lines.append("")
    lines += _listing("Attributed to another rule", wrong, show_rule=True)
    if misplaced:
        lines += _listing("Reported at another commit or path", misplaced)
    return "\n".join(lines)


def _listing(title: str, outcomes: Sequence[Outcome], *, show_rule: bool = False) -> list[str]:
    if not outcomes:
        return [f"#### {title}: none", ""]
    out = [f"#### {title} ({len(outcomes)})", ""]
    for o in sorted(outcomes, key=lambda o: (o.label.category, o.label.path or "")):
        lb = o.label
        where = f"{lb.source}:{lb.path}:{lb.line}" + (f"@{lb.commit[:10]}" if lb.commit else "")
        extra = ""
        if show_rule:
            extra = f" expected {lb.rule}, got {', '.join(sorted({h.rule for h in o.hits}))}"
        elif o.hits:
            extra = " by " + ", ".join(sorted({f"{h.rule} ({h.confidence})" for h in o.hits}))
        out.append(f"- [{lb.category}] {lb.provider}/{lb.kind} {where} — {lb.note}{extra}")
    out.append("")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="reuse or keep the corpus here")
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = evaluate(args.seed, args.repeat, args.corpus, args.jobs)
    print(report(result))
    c = result.overall
    print(
        f"seed {args.seed} x{args.repeat}: recall {fmt(c.recall)} precision {fmt(c.precision)} "
        f"F1 {fmt(c.f1)} ({time.monotonic() - started:.1f}s)",
        file=sys.stderr,
    )
    return 0 if (c.recall or 0) >= 0.99 and (c.precision or 0) >= 0.97 else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
