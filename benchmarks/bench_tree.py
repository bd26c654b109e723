"""Tree-scan benchmark on real code available on any machine.

Builds a corpus of about 25 MB from the installed Python standard library (and site-packages
if the stdlib is smaller), plants a few generated secrets, then times in one run:
  - `cat` of every file (the floor: reading the bytes),
  - `leakstop --version` (process start),
  - `leakstop scan` of the corpus with --jobs 1 and the default (one per core),
and reports MB/s and peak RSS. Target: scan <= process start + 2 x cat.

Usage: python benchmarks/bench_tree.py [--size-mb 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from timing import best, peak_rss_mib, run

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "tree"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=25.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus, size, count = build_corpus(int(args.size_mb * 1e6))
    print(f"corpus: {count} files, {size / 1e6:.1f} MB at {corpus}")
    files = [str(p) for p in sorted(corpus.rglob("*")) if p.is_file()]
    leakstop = [sys.executable, "-m", "scanner"]

    run([*leakstop, "scan", str(corpus), "--no-progress"], expect=(1,))  # warm caches
    cat = best(args.repeat, lambda: run_cat(files))
    start = best(args.repeat, lambda: run([*leakstop, "--version"]))
    empty = WORK / "empty"
    empty.mkdir(exist_ok=True)
    scan_start = best(args.repeat, lambda: run([*leakstop, "scan", str(empty), "--no-progress"]))
    rows = [
        ("cat (all files)", cat, None),
        ("leakstop --version (interpreter + CLI start)", start, None),
        ("leakstop scan of an empty directory (scan start)", scan_start, None),
    ]
    for jobs in ("1", "0"):
        command = [*leakstop, "scan", str(corpus), "--no-progress", "-f", "json", "--jobs", jobs]
        seconds = best(args.repeat, lambda c=command: run(c, expect=(1,)))
        rss = peak_rss_mib(command)
        label = f"leakstop scan --jobs {jobs if jobs != '0' else os.cpu_count()}"
        rows.append((label, seconds, rss))
        report = json.loads(subprocess.run(command, capture_output=True, check=False).stdout)
        planted = sum(1 for f in report["findings"] if f["path"].startswith("planted/"))
        others = len(report["findings"]) - planted
    print(f"planted secrets found: {planted} of 3; other findings in real code: {others}")
    print("\n| run | seconds | MB/s | peak RSS MiB |\n|---|---|---|---|")
    for label, seconds, rss in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "-"
        print(f"| {label} | {seconds:.3f} | {size / 1e6 / seconds:.0f} | {rss_text} |")
    scan_best = min(s for label, s, _ in rows if label.startswith("leakstop scan --jobs"))
    for name, base in (("scan start", scan_start), ("--version", start)):
        budget = base + 2 * cat
        verdict = "meets" if scan_best <= budget else "misses"
        print(f"budget {name} + 2 x cat = {budget:.3f}s; best scan {scan_best:.3f}s: {verdict}")


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
