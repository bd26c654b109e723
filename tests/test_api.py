"""The library entry point: what a scan loads. A source tree is what most runs scan (and what
pre-commit hooks run on every commit), so it must not pay for the readers it does not need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scanner.samples import expand

NOT_FOR_SOURCE_TREES = (
    "multiprocessing",  # the worker pool: only inputs above POOL_MIN_BYTES
    "scanner.sources.artifacts",  # archives, images, keystores, UTF-16
    "scanner.sources.keystores",
    "scanner.sources.git",  # the history planner and provenance
    "scanner.sources.gitsafe",  # running git: only for a repository
    "scanner.baseline",  # only when there is a baseline file
    "scanner.sources.sourcemaps",  # only for a blob with an inline source map
    "scanner.sources.provenance",
    "tomllib",  # the rule files come from the disk cache
)


def test_a_source_tree_scan_loads_only_what_it_needs(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("")
    (tree / "pkg" / "settings.py").write_text(f'CLIENT_SECRET = "{expand("GOCSPX-«b64u:28»")}"\n')
    (tree / "bundle.js").write_text("//# sourceMappingURL=app.js.map\n")
    program = (
        "import json, sys, scanner\n"
        "result = scanner.scan([sys.argv[1]])\n"
        "print(json.dumps([len(result.findings), sorted(sys.modules)]))\n"
    )
    for _ in range(2):  # the first run may fill the rule cache; the second reads it
        done = subprocess.run(
            [sys.executable, "-c", program, str(tree)], capture_output=True, text=True, check=True
        )
    found, modules = json.loads(done.stdout)
    assert found == 1
    assert [m for m in NOT_FOR_SOURCE_TREES if m in modules] == []
