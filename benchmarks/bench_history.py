"""Full-history scan speed and memory against ``git cat-file`` reading every object once.

Builds (once, cached under benchmarks/.work/) a bare repository whose history evolves the
Python standard library sources installed on this machine: thousands of commits that edit,
add, rename and delete real files, feature branches merged back, annotated tags, and a few
planted generated secrets (added then removed, renamed, in a commit message, on an unmerged
branch). Then, in the same run, times

    git cat-file --batch-all-objects --batch --unordered > /dev/null
    leakstop scan REPO --jobs 1
    leakstop scan REPO --jobs 2

and reports wall time, ratio to cat-file, MB/s and peak memory (the largest single process,
and the sum over the whole process tree, sampled). A second part builds repositories of
100k+ small blobs with twice as many commits as each other, to show memory does not grow
with the number of commits.

    python benchmarks/bench_history.py [--commits 6000] [--runs 3] [--no-scaling]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
WORK = HERE / ".work"
STDLIB = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
START = 1_420_070_400  # 2015-01-01
AUTHORS = [f"Dev {n} <dev{n}@example.test>" for n in range(1, 21)]

sys.path.insert(0, str(PROJECT))
from scanner import samples  # noqa: E402

# ---------------------------------------------------------------------------- repositories


@dataclass
class Commit:
    branch: str
    message: bytes
    changes: list[tuple[str, bytes | None]]  # path -> content, None deletes
    merge: str | None = None


def build_stdlib_history(path: Path, commits: int, seed: int = 7) -> Path:
    """A bare repository: ``commits`` commits evolving the stdlib's .py files."""
    if (path / "leakstop-bench-done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    sources = sorted(
        p
        for p in STDLIB.rglob("*.py")
        if "site-packages" not in p.parts and "__pycache__" not in p.parts
    )
    rng = random.Random(seed)
    files = {str(p.relative_to(STDLIB)): p.read_bytes().splitlines(keepends=True) for p in sources}
    print(f"building {path.name}: {commits} commits over {len(files)} stdlib files ...", flush=True)
    stream = _fast_import(path)
    _write_commits(stream, _stdlib_commits(rng, files, commits))
    _finish(path, stream)
    return path


def _stdlib_commits(
    rng: random.Random, files: dict[str, list[bytes]], total: int
) -> Iterator[Commit]:
    names = list(files)
    rng.shuffle(names)
    live = dict.fromkeys(names[: len(names) * 6 // 10])
    pool = names[len(names) * 6 // 10 :]
    yield Commit("main", b"Initial import\n", [(n, b"".join(files[n])) for n in live])
    plants = _plants(total)
    feature: tuple[str, int, list[str]] | None = None
    n = 1
    while n < total:
        n += 1
        changes: list[tuple[str, bytes | None]] = []
        branch = "main"
        if feature is None and n % 97 == 0:
            feature = (f"feature/{n}", n + rng.randint(3, 8), rng.sample(list(live), 6))
        if feature is not None and n < feature[1]:
            branch = feature[0]
            targets = rng.sample(feature[2], rng.randint(1, 2))
        else:
            targets = [p for p in rng.sample(list(live), rng.randint(1, 4))]
            if feature is not None:
                merged = feature
                feature = None
                yield Commit(
                    "main",
                    f"Merge branch '{merged[0]}'\n".encode(),
                    [(p, b"".join(files[p])) for p in merged[2]],
                    merge=merged[0],
                )
                n += 1
        for p in targets:
            _evolve(rng, files[p], files[rng.choice(names)])
            changes.append((p, b"".join(files[p])))
        roll = rng.random()
        if pool and roll < 0.08:
            new = pool.pop()
            live[new] = None
            changes.append((new, b"".join(files[new])))
        elif roll < 0.085 and len(live) > 100:
            gone = rng.choice(list(live))
            if not feature or gone not in feature[2]:
                del live[gone]
                changes.append((gone, None))
        elif roll < 0.09:
            old = rng.choice(list(live))
            if not feature or old not in feature[2]:
                new = old.replace(".py", "_v2.py")
                if new not in live:
                    del live[old]
                    live[new] = None
                    files[new] = files[old]
                    changes += [(old, None), (new, b"".join(files[new]))]
        message = f"{rng.choice(VERBS)} {targets[0].rsplit('/', 1)[-1]}\n\nCommit {n}.\n"
        extra = plants.get(n)
        if extra:
            changes += extra[1]
            message += extra[0]
        yield Commit(branch, message.encode(), changes)


VERBS = ["Fix", "Refactor", "Document", "Speed up", "Clean up", "Test", "Simplify", "Port"]


def _plants(total: int) -> dict[int, tuple[str, list[tuple[str, bytes | None]]]]:
    """Generated secrets at fixed points of history: added then removed, a key renamed then
    deleted, one in a commit message, one still present near the end."""
    secret = samples.expand("GOCSPX-«b64u:28»", "bench-1").encode()
    late = samples.expand("GOCSPX-«b64u:28»", "bench-2")
    key = samples.pem("pkcs8-ec").encode()
    settings = b'CLIENT_ID = "1234-abc.apps.googleusercontent.com"\nCLIENT_SECRET = "' + secret
    return {
        total // 10: ("", [("config/settings_local.py", settings + b'"\n')]),
        total // 10 + 5: ("", [("config/settings_local.py", None)]),
        total * 4 // 10: ("", [("deploy/id_ec.pem", key)]),
        total * 45 // 100: ("", [("deploy/id_ec.pem", None), ("ops/id_ec.pem", key)]),
        total * 6 // 10: ("", [("ops/id_ec.pem", None)]),
        total * 7 // 10: (f"\nTemporary: client_secret = {late}\n", []),
        total * 95 // 100: (
            "",
            [("app/oauth.py", b"GOOGLE_CLIENT_SECRET = '" + late.encode() + b"'\n")],
        ),
    }


def _evolve(rng: random.Random, lines: list[bytes], donor: list[bytes]) -> None:
    """One realistic edit: change a few lines, paste a block, or delete a block."""
    if not lines:
        lines.extend(donor[:50])
        return
    roll = rng.random()
    if roll < 0.45:
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(lines))
            stripped = lines[i].rstrip(b"\n")
            lines[i] = stripped + (b"  # %d\n" % rng.randrange(10**6))
    elif roll < 0.75 and donor:
        at = rng.randrange(len(lines) + 1)
        k = rng.randint(1, 25)
        j = rng.randrange(max(1, len(donor) - k))
        lines[at:at] = donor[j : j + k]
    else:
        at = rng.randrange(len(lines))
        del lines[at : at + rng.randint(1, 20)]


def build_small_blob_history(path: Path, commits: int, seed: int = 11) -> Path:
    """A bare repository of small files: three new or changed 1-2 KB blobs per commit, and
    one secret in the last commit."""
    if (path / "leakstop-bench-done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    rng = random.Random(seed)
    print(f"building {path.name}: {commits} commits of small blobs ...", flush=True)
    stream = _fast_import(path)

    def history() -> Iterator[Commit]:
        for n in range(commits):
            changes: list[tuple[str, bytes | None]] = []
            for k in range(3):
                body = b"".join(
                    b"value_%d = %d\n" % (rng.randrange(10**6), rng.randrange(10**9))
                    for _ in range(rng.randint(60, 120))
                )
                changes.append((f"d{n % 100}/f{(n * 3 + k) % 5000}.txt", body))
            if n == commits - 1:  # one finding, introduced last: provenance walks it all
                secret = samples.expand("GOCSPX-«b64u:28»", "small").encode()
                changes.append(("app/secret.py", b'SECRET = "' + secret + b'"\n'))
            yield Commit("main", f"change {n}\n".encode(), changes)

    _write_commits(stream, history())
    _finish(path, stream)
    return path


def _fast_import(path: Path) -> subprocess.Popen[bytes]:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
    )


def _write_commits(proc: subprocess.Popen[bytes], commits: Iterator[Commit]) -> None:
    assert proc.stdin is not None
    out = proc.stdin
    tips: dict[str, int] = {}
    when = START
    rng = random.Random(1)
    for mark, commit in enumerate(commits, start=1):
        when += rng.randint(600, 3 * 3600)
        author = rng.choice(AUTHORS).encode()
        out.write(b"commit refs/heads/%s\nmark :%d\n" % (commit.branch.encode(), mark))
        out.write(b"author %s %d +0000\ncommitter %s %d +0000\n" % (author, when, author, when))
        out.write(b"data %d\n%s\n" % (len(commit.message), commit.message))
        parent = tips.get(commit.branch) or (tips.get("main") if commit.branch != "main" else None)
        if parent:
            out.write(b"from :%d\n" % parent)
        if commit.merge:
            out.write(b"merge :%d\n" % tips[commit.merge])
        for path, content in commit.changes:
            if content is None:
                out.write(b"D %s\n" % path.encode())
            else:
                out.write(
                    b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content)
                )
        out.write(b"\n")
        tips[commit.branch] = mark
        if commit.branch == "main" and mark % 500 == 0:
            out.write(b"tag v%d\nfrom :%d\n" % (mark // 500, mark))
            out.write(b"tagger %s %d +0000\ndata 8\nrelease\n\n" % (author, when))


def _finish(path: Path, proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    print(f"repacking {path.name} (git repack -adf, as gc would) ...", flush=True)
    subprocess.run(["git", "-C", str(path), "repack", "-a", "-d", "-f", "-q"], check=True)
    (path / "leakstop-bench-done").write_text("ok\n")


# ---------------------------------------------------------------------------- measuring


@dataclass
class Run:
    label: str
    seconds: float
    cpu: float
    """User + system seconds of the whole process tree."""
    max_rss_mib: float
    tree_pss_mib: float
    tree_anon_mib: float
    """Private (anonymous) memory summed over the tree: what the scan itself allocates,
    without the pack files git maps (clean page cache, shared, counted in RSS and PSS)."""
    exit_code: int


def measure(label: str, argv: Sequence[str]) -> Run:
    """Wall time; CPU time and the largest single process's peak RSS from wait4 (which
    covers every waited-for descendant); and the peaks of the process tree's summed PSS and
    anonymous memory, sampled every 50 ms (PSS splits pages shared by forked workers)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, cwd=PROJECT)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            pss, anon = _tree_memory_kib(proc.pid)
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], anon)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        label,
        seconds,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        peak[0] / 1024,
        peak[1] / 1024,
        proc.returncode,
    )


def _tree_memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, anonymous) summed over ``pid`` and its descendants, in KiB."""
    pss = anon = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Anonymous:"):
                        anon += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return pss, anon


def content_bytes(repo: Path) -> int:
    out = _git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectsize)")
    return sum(int(size) for size in out.split())


def scan_argv(repo: Path, jobs: int) -> list[str]:
    return [
        *[sys.executable, "-m", "scanner", "scan", str(repo)],
        *["--jobs", str(jobs), "--no-progress", "--format", "json", "--output", os.devnull],
    ]


def accept_findings(repo: Path) -> list[str]:
    """A baseline of the repository's findings: a scan with it does all the same work except
    provenance, which only findings need (as for a repository with nothing to find)."""
    report = WORK / f"{repo.name}.findings.json"
    baseline = WORK / f"{repo.name}.baseline.json"
    scan = [*scan_argv(repo, 2)[:-1], str(report)]
    subprocess.run(scan, cwd=PROJECT, check=False, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "scanner", "baseline", str(report), "--output", str(baseline)],
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    return ["--baseline", str(baseline)]


def interleaved(runs: int, commands: Sequence[tuple[str, Sequence[str]]]) -> list[Run]:
    """Each command ``runs`` times, round robin (so a noisy neighbour hurts all alike), after
    one warm-up each; the fastest run of each. Memory is the largest seen over all runs."""
    for _, argv in commands:
        measure("warm-up", argv)
    results: dict[str, list[Run]] = {label: [] for label, _ in commands}
    for _ in range(runs):
        for label, argv in commands:
            results[label].append(measure(label, argv))
    best = []
    for label, _ in commands:
        fastest = min(results[label], key=lambda r: r.seconds)
        fastest.max_rss_mib = max(r.max_rss_mib for r in results[label])
        fastest.tree_pss_mib = max(r.tree_pss_mib for r in results[label])
        fastest.tree_anon_mib = max(r.tree_anon_mib for r in results[label])
        best.append(fastest)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-scaling", action="store_true", help="skip the 100k-blob part")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    repo = build_stdlib_history(WORK / f"stdlib-{args.commits}.git", args.commits)
    size = content_bytes(repo)
    print(
        f"\nrepository {repo.name}: {_count(repo)} objects ({_count(repo, 'blob')} blobs, "
        f"{args.commits} commits), {size / 1e6:.0f} MB uncompressed, pack "
        f"{_pack_mb(repo):.0f} MB; {os.cpu_count()} cores; {_git_version()}\n"
    )
    catfile = ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch", "--unordered"]
    walk = ["git", "-C", str(repo), "log", "--all", "--raw", "-c", "--no-renames", "--no-abbrev"]
    accepted = accept_findings(repo)
    rows = interleaved(
        args.runs,
        [
            ("git cat-file --batch-all-objects --batch --unordered", catfile),
            ("leakstop scan --jobs 1", scan_argv(repo, 1)),
            ("leakstop scan --jobs 2", scan_argv(repo, 2)),
            ("leakstop scan --jobs 1, findings baselined", [*scan_argv(repo, 1), *accepted]),
            ("leakstop scan --jobs 2, findings baselined", [*scan_argv(repo, 2), *accepted]),
            ("(for scale) git log --all --raw, the provenance walk", walk),
        ],
    )
    base = rows[0].seconds
    print(
        "| command | wall s | × cat-file | MB/s | CPU s | peak RSS, largest process MiB "
        "| peak PSS, tree MiB | peak anonymous, tree MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| `{r.label}` | {r.seconds:.2f} | {r.seconds / base:.2f} "
            f"| {size / 1e6 / r.seconds:.0f} | {r.cpu:.2f} | {r.max_rss_mib:.0f} "
            f"| {r.tree_pss_mib:.0f} | {r.tree_anon_mib:.0f} |"
        )
    if not args.no_scaling:
        scaling(args.runs)


def scaling(runs: int) -> None:
    print("\nmemory against the number of commits (small blobs, --jobs 2):\n")
    print(
        "| commits | blobs | pack MB | wall s (cat-file s) | peak RSS, largest process MiB "
        "| peak PSS, tree MiB | peak anonymous, tree MiB | cat-file alone: RSS / anonymous MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for commits in (35_000, 70_000):
        repo = build_small_blob_history(WORK / f"small-{commits}.git", commits)
        blobs = _count(repo, "blob")
        catfile = ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"]
        floor, run = interleaved(
            max(1, runs // 2),
            [("cat-file", [*catfile, "--unordered"]), (f"{commits}", scan_argv(repo, 2))],
        )
        print(
            f"| {commits} | {blobs} | {_pack_mb(repo):.0f} "
            f"| {run.seconds:.2f} ({floor.seconds:.2f}) "
            f"| {run.max_rss_mib:.0f} | {run.tree_pss_mib:.0f} | {run.tree_anon_mib:.0f} "
            f"| {floor.max_rss_mib:.0f} / {floor.tree_anon_mib:.0f} |"
        )


def _count(repo: Path, kind: str | None = None) -> int:
    kinds = _git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    return len(kinds) if kind is None else kinds.count(kind)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    return done.stdout.decode()


def _pack_mb(repo: Path) -> float:
    return sum(p.stat().st_size for p in (repo / "objects" / "pack").glob("*.pack")) / 1e6


def _git_version() -> str:
    return _git(Path("."), "--version").strip()


if __name__ == "__main__":
    main()
