"""Archive-scan benchmark on real packages available on this machine.

Builds a corpus of wheels and jars (default about 60 MB compressed) under
benchmarks/.work/artifacts: the packages of the running interpreter's site-packages repacked
as wheels (one per top-level package, deflated, as pip builds them), plus real jars found in
the usual places (Maven's ~/.m2, /usr/share/java, JDKs), and one planted wheel and one planted
jar holding generated secrets. Then times, in one run:
  - the floor: every member of every archive decompressed with Python's zipfile, one process;
  - `leakstop scan` of the corpus with --jobs 1 and the default (one per core),
and reports MB/s of compressed input, expanded bytes scanned, and peak RSS.

Usage: python benchmarks/bench_artifacts.py [--size-mb 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from timing import ENV, best, peak_rss_mib, run

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "artifacts"
JAR_ROOTS = (Path.home() / ".m2" / "repository", Path("/usr/share/java"), Path("/usr/lib/jvm"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = build_corpus(int(args.size_mb * 1e6))
    archives = sorted(p for p in corpus.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in archives)
    wheels = sum(1 for p in archives if p.suffix == ".whl")
    print(
        f"corpus: {wheels} wheels, {len(archives) - wheels} jars, {size / 1e6:.1f} MB at {corpus}"
    )

    leakstop = [sys.executable, "-m", "scanner"]
    run([*leakstop, "scan", str(corpus), "--no-progress"], expect=(1,))  # warm caches
    floor = best(args.repeat, lambda: inflate_all(archives))
    rows = [("zipfile: decompress every member (floor)", floor, None)]
    report: dict[str, object] = {}
    for jobs in ("1", "0"):
        command = [*leakstop, "scan", str(corpus), "--no-progress", "-f", "json", "--jobs", jobs]
        seconds = best(args.repeat, lambda c=command: run(c, expect=(1,)))
        label = f"leakstop scan --jobs {jobs if jobs != '0' else os.cpu_count()}"
        rows.append((label, seconds, peak_rss_mib(command)))
        report = json.loads(
            subprocess.run(command, capture_output=True, check=False, env=ENV).stdout
        )
    findings = report["findings"]
    summary = report["summary"]
    planted = [f for f in findings if str(f["path"]).startswith("planted")]  # type: ignore[index]
    print(
        f"scanned {summary['blobs_scanned']} blobs, {summary['bytes_scanned'] / 1e6:.0f} MB "  # type: ignore[index]
        f"expanded; {len(summary['skipped'])} skipped, {len(summary['errors'])} warnings"  # type: ignore[index]
    )
    print(f"planted findings: {len(planted)} of 3; other findings in real packages: "
          f"{len(findings) - len(planted)}")  # type: ignore[arg-type]  # fmt: skip
    print("\n| run | seconds | MB/s (compressed) | peak RSS MiB |\n|---|---|---|---|")
    for label, seconds, rss in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "-"
        print(f"| {label} | {seconds:.2f} | {size / 1e6 / seconds:.1f} | {rss_text} |")


def build_corpus(target: int) -> Path:
    """Repacked wheels and real jars, half the target each, once; plus planted secrets."""
    marker = WORK / f".complete-{target}"
    corpus = WORK / "corpus"
    if marker.exists():
        return corpus
    shutil.rmtree(WORK, ignore_errors=True)
    (corpus / "wheels").mkdir(parents=True)
    (corpus / "jars").mkdir(parents=True)
    total = repack_site_packages(corpus / "wheels", target // 2)
    total += copy_jars(corpus / "jars", target - total)
    plant(corpus / "planted")
    marker.touch()
    return corpus


def repack_site_packages(directory: Path, budget: int) -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    total = 0
    for package in sorted(p for p in site.iterdir() if p.is_dir() and p.name.isidentifier()):
        if total >= budget:
            break
        wheel = directory / f"{package.name}-0.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(package.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(site).as_posix())
        total += wheel.stat().st_size
    return total


def copy_jars(directory: Path, budget: int) -> int:
    total = 0
    for root in JAR_ROOTS:
        for jar in sorted(root.rglob("*.jar")) if root.is_dir() else ():
            if total >= budget:
                return total
            if not jar.is_file() or jar.stat().st_size > 20e6:
                continue
            dest = directory / f"{len(list(directory.iterdir())):04}-{jar.name}"
            shutil.copyfile(jar, dest)
            total += dest.stat().st_size
    return total


def plant(directory: Path) -> None:
    sys.path.insert(0, str(HERE.parent))
    from scanner.samples import expand, pem

    directory.mkdir(parents=True)
    settings = expand(
        'CLIENT_ID = "«digits:12»-«lower:32».apps.googleusercontent.com"\n'
        'CLIENT_SECRET = "GOCSPX-«b64u:28»"\n',
        "bench-artifacts",
    )
    with zipfile.ZipFile(directory / "orders-1.0-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as w:
        w.writestr("orders/settings.py", settings)
        w.writestr("orders/keys/signing.pem", pem("pkcs8-ec"))
    okta = expand("okta.client-id=0oa«alnum:17»\nokta.client-secret=«b64u:40»\n", "bench")
    with zipfile.ZipFile(directory / "service.jar", "w", zipfile.ZIP_DEFLATED) as jar:
        jar.writestr("BOOT-INF/classes/application.properties", okta)


def inflate_all(archives: list[Path]) -> None:
    for path in archives:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    while member.read(1 << 20):
                        pass


if __name__ == "__main__":
    main()
