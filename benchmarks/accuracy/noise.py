"""Noise on real code: scan the code installed on this machine (the Python standard library
and site-packages, node_modules, /usr/share...) and triage every finding.

    python -m benchmarks.accuracy.noise [--extended] [--root NAME=PATH ...]

Every finding there is triaged in ``triage.toml``: a test key a library ships on purpose (it
must be reported with confidence "test-fixture", never hidden), a real credential the code
embeds (a true finding, listed by name), or noise that a rule or filter fix removed (it must
stay gone). A finding not listed, a test key reported as "high", or fixed noise that comes back
is *noise* and fails the run. Rates are per 100 MB of scanned bytes (archive members count
with their expanded size).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import sysconfig
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import scanner
from scanner.models import Finding

HERE = Path(__file__).resolve().parent
TRIAGE = HERE / "triage.toml"
REPO = HERE.parent.parent


def default_roots(extended: bool = False) -> dict[str, Path]:
    """The real code this machine has, by the names triage.toml uses."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    roots = {
        "python-stdlib": stdlib,
        "venv-site-packages": Path(sysconfig.get_paths()["purelib"]),
        "oidc-server-node-modules": REPO / "tests" / "oidc_server" / "node_modules",
        "npm-global": Path("/usr/lib/node_modules"),
        "usr-share": Path("/usr/share"),
        "debian-python": Path("/usr/lib/python3"),
        "debian-python3.11": Path("/usr/lib/python3.11"),
    }
    if extended:  # archives: wheels of a local PyPI mirror, the JDKs' jars
        roots["pypi-mirror-wheels"] = Path("/opt/pypi/files")
        roots["jdk"] = Path("/usr/lib/jvm")
    return {name: path for name, path in roots.items() if path.is_dir()}


@dataclass(frozen=True)
class Entry:
    """One triage decision from triage.toml."""

    root: str
    path: str
    """A glob on the finding's path (archive chain) relative to the root."""
    rule: str
    decision: str
    """``test-key`` (a key shipped on purpose: must be reported as test-fixture),
    ``true-secret`` (a real credential the code embeds: a true finding), or, for noise fixed
    since, how: ``rule-fix`` / ``filter`` / ``parser``."""
    why: str
    fixed: bool = False

    def covers(self, root: str, finding: Finding) -> bool:
        return (
            root == self.root
            and fnmatch.fnmatchcase(finding.origin.path or "", self.path)
            and fnmatch.fnmatchcase(finding.rule_id, self.rule)
        )


@dataclass
class RootResult:
    name: str
    path: Path
    bytes: int
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    errors: int = 0


def load_triage(path: Path = TRIAGE) -> list[Entry]:
    data = tomllib.loads(path.read_text("utf-8"))
    entries = [Entry(**e) for e in data.get("finding", [])]
    entries += [Entry(**e, fixed=True) for e in data.get("fixed", [])]
    return entries


def scan_roots(roots: dict[str, Path], jobs: int = 0) -> list[RootResult]:
    results = []
    for name, path in roots.items():
        started = time.monotonic()
        result = scanner.scan([path], scanner.Config(jobs=jobs))
        results.append(
            RootResult(
                name,
                path,
                result.summary.bytes_scanned,
                time.monotonic() - started,
                list(result.findings),
                len(result.summary.errors),
            )
        )
    return results


def per_100mb(count: int, size: int) -> str:
    return f"{count / (size / 100e6):.3f}" if size else "-"


def _verdict(entry: Entry | None, kind: str) -> str:
    if entry is None:
        return "**UNTRIAGED**"
    if entry.fixed:
        return f"**BACK**, was fixed ({entry.decision}): {entry.why}"
    if kind == "noise":
        return f"**not marked test-fixture**; {entry.decision}: {entry.why}"
    return f"{entry.decision} — {entry.why}"


def classify(entry: Entry | None, finding: Finding) -> str:
    """``test-key`` (documented, marked test-fixture), ``true-secret`` (a real credential the
    code embeds), or ``noise``: untriaged, back after a fix, or a test key marked ``high``."""
    if entry is None or entry.fixed:
        return "noise"
    if entry.decision == "test-key":
        return "test-key" if finding.confidence == "test-fixture" else "noise"
    return entry.decision


def report(
    results: Sequence[RootResult], triage: Sequence[Entry], *, every: bool = False
) -> tuple[str, bool]:
    """The noise report, and whether real code met the target: no finding outside documented
    test fixtures except real credentials the code embeds (listed one by one). The triage is
    one line per decision, or per finding with ``every``."""
    lines = [
        "| real code | MB scanned | findings | per 100 MB | test keys (test-fixture) | "
        "true secrets | noise | noise per 100 MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows: list[tuple[str, Finding, Entry | None, str]] = []
    totals = {"bytes": 0, "all": 0, "test-key": 0, "true-secret": 0, "noise": 0}
    for r in results:
        counts = {"test-key": 0, "true-secret": 0, "noise": 0}
        for f in r.findings:
            entry = next((e for e in triage if e.covers(r.name, f)), None)
            kind = classify(entry, f)
            counts[kind] += 1
            rows.append((r.name, f, entry, kind))
        lines.append(
            f"| {r.name} (`{r.path}`) | {r.bytes / 1e6:.0f} | {len(r.findings)} | "
            f"{per_100mb(len(r.findings), r.bytes)} | {counts['test-key']} | "
            f"{counts['true-secret']} | {counts['noise']} | {per_100mb(counts['noise'], r.bytes)} |"
        )
        totals["bytes"] += r.bytes
        totals["all"] += len(r.findings)
        for kind, n in counts.items():
            totals[kind] += n
    size = totals["bytes"]
    lines.append(
        f"| **all** | {size / 1e6:.0f} | {totals['all']} | {per_100mb(totals['all'], size)} | "
        f"{totals['test-key']} | {totals['true-secret']} | {totals['noise']} | "
        f"{per_100mb(totals['noise'], size)} |"
    )
    lines += ["", "#### Triage", ""]
    if every:
        for root, f, entry, kind in sorted(rows, key=lambda x: (x[0], x[1].origin.path or "")):
            lines.append(
                f"- {root}: `{f.origin.path}:{f.line}` {f.rule_id} ({f.confidence}): "
                + _verdict(entry, kind)
            )
    else:  # one line per decision, with how many findings it covers
        groups: dict[tuple[str, int], list[tuple[Finding, str]]] = {}
        for root, f, entry, kind in rows:
            key = (root, id(entry)) if entry else (root, id(f))
            groups.setdefault(key, []).append((f, kind))
        for (root, _), members in sorted(
            groups.items(), key=lambda g: (g[0][0], g[1][0][0].origin.path or "")
        ):
            f, kind = members[0]
            entry = next((e for e in triage if e.covers(root, f)), None)
            pattern = entry.path if entry else f"{f.origin.path}:{f.line}"
            confidence = "/".join(sorted({m.confidence for m, _ in members}))
            lines.append(
                f"- {root}: `{pattern}` — {len(members)} {f.rule_id} finding"
                f"{'s' if len(members) != 1 else ''} ({confidence}): " + _verdict(entry, kind)
            )
    fixed = [e for e in triage if e.fixed]
    if fixed:
        lines += ["", "#### Noise found earlier and fixed (must stay gone)", ""]
        scanned = {r.name for r in results}
        for e in fixed:
            state = "gone" if e.root in scanned else "not scanned in this run"
            if any(e is entry for _, _, entry, _ in rows):
                state = "**BACK**"
            lines.append(f"- {e.root}: `{e.path}` {e.rule} — {e.decision}: {e.why} ({state})")
    return "\n".join(lines), totals["noise"] == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extended", action="store_true", help="also wheels and JDK jars")
    parser.add_argument("--root", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--every", action="store_true", help="triage line per finding")
    args = parser.parse_args(argv)
    roots = default_roots(args.extended)
    for item in args.root:
        name, _, path = item.partition("=")
        roots[name] = Path(path)
    text, ok = report(scan_roots(roots, args.jobs), load_triage(), every=args.every)
    print(text)
    print(
        "target met" if ok else "TARGET MISSED: findings outside documented test fixtures",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
