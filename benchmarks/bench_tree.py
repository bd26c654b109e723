"""Tree-scan benchmark on real code available on any machine.

Builds a corpus of about 25 MB from the installed Python standard library (and site-packages
if the stdlib is smaller), plants a few generated secrets, then times in one run:
  - `cat` of every file (the floor: reading the bytes),
  - `leakstop --version` (process start),
  - `leakstop scan` of the corpus with --jobs 1 and the default (one per core), and with
    the scan in the CLI's own process (LEAKSTOP_NO_HELPER: no engine helper),
and reports MB/s and peak RSS; then paired rounds (all four back to back, each scan against
the budget of its own round). Target: scan <= process start + 2 x cat.

Usage: python benchmarks/bench_tree.py [--size-mb 25] [--repeat 3] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from timing import best, peak_rss_mib, run

NO_HELPER = "LEAKSTOP_NO_HELPER"

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "tree"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=25.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds (0: none)")
    args = parser.parse_args()
    corpus, size, count = build_corpus(int(args.size_mb * 1e6))
    print(f"corpus: {count} files, {size / 1e6:.1f} MB at {corpus}")
    files = [str(p) for p in sorted(corpus.rglob("*")) if p.is_file()]
    leakstop = [sys.executable, "-m", "scanner"]
    empty = WORK / "empty"
    empty.mkdir(exist_ok=True)
    scan = [*leakstop, "scan", str(corpus), "--no-progress", "-f", "json"]
    timed: dict[str, Callable[[], object]] = {
        "cat": lambda: run_cat(files),
        "version": lambda: run([*leakstop, "--version"]),
        "empty": lambda: run([*leakstop, "scan", str(empty), "--no-progress"]),
        "scan": lambda: run(scan, expect=(1,)),
    }

    run([*leakstop, "scan", str(corpus), "--no-progress"], expect=(1,))  # warm caches
    cat, start, scan_start = (best(args.repeat, timed[k]) for k in ("cat", "version", "empty"))
    rows = [
        ("cat (all files)", cat, None),
        ("leakstop --version (interpreter + CLI start)", start, None),
        ("leakstop scan of an empty directory (scan start)", scan_start, None),
    ]
    variants = [("1", {}), ("0", {}), ("0", {NO_HELPER: "1"})]
    for jobs, env in variants:
        command = [*scan, "--jobs", jobs]
        seconds = best(args.repeat, lambda c=command, e=env: run(c, expect=(1,), env=e))
        rss = peak_rss_mib(command)
        label = f"leakstop scan --jobs {jobs if jobs != '0' else os.cpu_count()}"
        label += ", in the CLI's process (LEAKSTOP_NO_HELPER)" if env else ""
        rows.append((label, seconds, rss))
        report = json.loads(subprocess.run(command, capture_output=True, check=False).stdout)
        planted = sum(1 for f in report["findings"] if f["path"].startswith("planted/"))
        others = len(report["findings"]) - planted
    print(f"planted secrets found: {planted} of 3; other findings in real code: {others}")
    print("\n| run | seconds | MB/s | peak RSS MiB |\n|---|---|---|---|")
    for label, seconds, rss in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "-"
        print(f"| {label} | {seconds:.3f} | {size / 1e6 / seconds:.0f} | {rss_text} |")
    scan_best = min(s for label, s, _ in rows[3:5])
    for name, base in (("scan start", scan_start), ("--version", start)):
        budget = base + 2 * cat
        verdict = "meets" if scan_best <= budget else "misses"
        print(f"budget {name} + 2 x cat = {budget:.3f}s; best scan {scan_best:.3f}s: {verdict}")
    if args.rounds:
        paired_rounds(timed, args.rounds)


def paired_rounds(timed: dict[str, Callable[[], object]], rounds: int) -> None:
    """Best-of-N compares each command at its luckiest moment; on a shared machine, load
    changes between them. A round runs all four back to back, so each scan is held to the
    budget of its own moment."""
    margins: dict[str, list[float]] = {"--version": [], "scan start": []}
    for _ in range(rounds):
        took = {}
        for name, fn in timed.items():
            started = time.perf_counter()
            fn()
            took[name] = time.perf_counter() - started
        for name, base in (("--version", took["version"]), ("scan start", took["empty"])):
            margins[name].append(base + 2 * took["cat"] - took["scan"])
    for name, values in margins.items():
        met = sum(1 for m in values if m >= 0)
        print(
            f"paired rounds, budget {name} + 2 x cat: met in {met} of {rounds}; "
            f"median margin {statistics.median(values) * 1000:+.0f} ms "
            f"(range {min(values) * 1000:+.0f} to {max(values) * 1000:+.0f})"
        )


def build_corpus(target: int) -> tuple[Path, int, int]:
    """Copy .py sources until `target` bytes, once; plant three generated secrets."""
    marker = WORK / f".complete-{target}"
    corpus = WORK / "corpus"
    if not marker.exists():
        shutil.rmtree(WORK, ignore_errors=True)
        corpus.mkdir(parents=True)
        total = 0
        roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
        for root in roots:
            for src in sorted(root.rglob("*.py")):
                if total >= target or ("site-packages" in src.parts and root == roots[0]):
                    continue
                rel = Path(root.name) / src.relative_to(root)
                dest = corpus / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copyfile(src, dest)
                except OSError:
                    continue
                total += dest.stat().st_size
        plant(corpus / "planted")
        marker.touch()
    files = [p for p in corpus.rglob("*") if p.is_file()]
    return corpus, sum(p.stat().st_size for p in files), len(files)


def plant(directory: Path) -> None:
    sys.path.insert(0, str(HERE.parent))
    from scanner.samples import expand, pem

    directory.mkdir(parents=True)
    (directory / "settings.py").write_text(
        expand(
            'CLIENT_ID = "«digits:12»-«lower:32».apps.googleusercontent.com"\n'
            'CLIENT_SECRET = "GOCSPX-«b64u:28»"\n',
            "bench",
        )
    )
    (directory / "deploy.pem").write_text(pem("pkcs8-ec"))
    (directory / "app.env").write_text(
        expand("OKTA_CLIENT_ID=0oa«alnum:17»\nOKTA_CLIENT_SECRET=«b64u:40»\n", "bench")
    )


def run_cat(files: list[str]) -> None:
    for i in range(0, len(files), 2000):
        subprocess.run(["cat", *files[i : i + 2000]], stdout=subprocess.DEVNULL, check=True)


if __name__ == "__main__":
    main()
