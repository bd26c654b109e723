"""One command for the README's "## Accuracy" section: the corpus score and the real-code noise.

    python -m benchmarks.accuracy [--repeat 5] [--extended] [--write-readme]

It generates the corpus (seed 9), scans and scores it, scans the real code on this machine,
and prints the section; ``--write-readme`` replaces the section at the end of README.md.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.accuracy import noise, score
from benchmarks.accuracy.corpus import generate

README = Path(__file__).resolve().parent.parent.parent / "README.md"
HEADING = "## Accuracy"


def section(
    result: score.Score,
    noise_text: str,
    *,
    seed: int,
    repeat: int,
    extended: bool,
    seconds: float,
) -> str:
    c = result.overall
    command = "python -m benchmarks.accuracy" + (f" --repeat {repeat}" if repeat != 1 else "")
    command += " --extended" if extended else ""
    lines = [
        HEADING,
        "",
        f"Produced by `{command} --write-readme` ({datetime.date.today()}, "
        f"{platform.python_implementation()} {platform.python_version()}, {seconds:.0f} s). "
        "CI runs the same scorer on one round of the corpus (`tests/test_accuracy.py`): a "
        "positive lost or a decoy reported fails the build.",
        "",
        "**Corpus** (`benchmarks/accuracy/corpus.py`, seed "
        f"{seed}, {repeat} round{'s' if repeat != 1 else ''}): every provider rule in every "
        "format the rules claim (Python, JS/TS, Java/Kotlin, Go, C#, Ruby, PHP, Swift, YAML, "
        "JSON, .env, .properties, XML and Android strings.xml, Terraform, shell, Dockerfile, "
        "notebooks, TOML, INI) in flat, nested and call spellings, with untidy files (trailing "
        "comments, CRLF), several providers per file and secrets without their client id; "
        "every private key form (PEM of each type, encrypted, OpenSSH, PuTTY, JWK/JWKS, "
        "escaped, concatenated, base64) as a file and inside 21 containers; build artifacts "
        "(zip in tar.gz in zip, wheel, npm tarball, APK with a dex string table, a docker save "
        "image whose key a later layer deletes, PKCS#12, gzip, jar) and a git history (added "
        "then removed, deleted file, renamed file, unmerged branch, tag only, commit message, "
        "merge, unreachable object, untracked file). Hard decoys: public client ids, public "
        "keys, certificates and CSRs, hashes and UUIDs next to `secret`, real-shaped "
        "credentials in fake test fixtures, documented placeholders, truncated and placeholder "
        "PEM, `client_secret` from a function call, `client_secret_name`-style keys, minified "
        "identifiers, KMS/SOPS/Vault ciphertext and templating. All values come fresh from the "
        "seeded RNG; one seed gives the same corpus byte for byte.",
        "",
        "**Scoring** (`benchmarks/accuracy/score.py`): a finding matches a label at the same "
        "path or archive chain and line (history: the same blob or commit). A positive counts "
        "as found whatever its confidence. A real-shaped credential in a test or fake file is a "
        "decoy that is handled correctly when it is not reported or reported with confidence "
        '`"test-fixture"`; a `"high"` finding there is a false alarm. Every other decoy is no '
        "credential at all, so any finding on it is a false alarm, test-fixture or not, and so "
        "is any finding where no label is. Precision = found positives / (found positives + "
        "false alarms).",
        "",
        f"**Overall: recall {score.fmt(c.recall)}, precision {score.fmt(c.precision)}, F1 "
        f"{score.fmt(c.f1)}** ({c.positives} positives, {c.decoys} decoys; targets: recall ≥ "
        "0.99, precision ≥ 0.97).",
        "",
        "Read these numbers with care: the corpus is ours, and the rules and filters were tuned "
        "on it (each fix is pinned by an example or counterexample in its rule file), so it "
        "measures the cases we thought of. The real-code scan below is the held-out check. "
        "Parts of the corpus a build cannot scan yet are listed under *Not scored*.",
        "",
        score.report(result, dimensions=("provider", "kind", "source", "category")),
        "",
        "### Noise on real code",
        "",
        "`benchmarks/accuracy/noise.py` scans the code installed on this machine (archive "
        "members count with their expanded size) and `triage.toml` documents every finding: "
        "a test key a library ships (it must be reported as test-fixture, never hidden), a "
        "real credential the code embeds, or noise a fix removed (it must stay gone). *Noise* "
        "is anything else.",
        "",
        noise_text,
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_readme(text: str, path: Path = README) -> None:
    """Replace the README's accuracy section (from its heading to the next ``## `` heading or
    the end), or append it."""
    readme = path.read_text("utf-8")
    start = readme.find(f"\n{HEADING}\n")
    if start < 0:
        path.write_text(readme.rstrip("\n") + "\n\n" + text, "utf-8")
        return
    end = readme.find("\n## ", start + len(HEADING) + 2)
    after = "\n" + readme[end + 1 :] if end >= 0 else ""
    path.write_text(readme[: start + 1] + text + after, "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--extended", action="store_true", help="also scan wheels and JDK jars")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="leakstop-accuracy-") as tmp:
        generate(Path(tmp), args.seed, args.repeat)
        result = score.evaluate(corpus=Path(tmp), jobs=args.jobs)
    roots = noise.default_roots(args.extended)
    noise_text, quiet = noise.report(noise.scan_roots(roots, args.jobs), noise.load_triage())
    text = section(
        result,
        noise_text,
        seed=args.seed,
        repeat=args.repeat,
        extended=args.extended,
        seconds=time.monotonic() - started,
    )
    if args.write_readme:
        write_readme(text)
    print(text)
    c = result.overall
    met = (c.recall or 0) >= 0.99 and (c.precision or 0) >= 0.97 and quiet
    print("targets met" if met else "TARGETS MISSED", file=sys.stderr)
    return 0 if met else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
