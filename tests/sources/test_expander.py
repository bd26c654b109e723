"""The expansion a scan uses: plain text goes to the engine as it is, and its inline source
maps are still opened, found by the engine's keyword pass rather than a second search."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from scanner import Config, ScanResult, scan
from scanner.config import ArchiveLimits
from scanner.models import Blob, Origin
from scanner.sources import expander
from scanner.sources.base import Problems
from tests.sources.conftest import GitRepo, secret

BUNDLE = "static/js/main.js"


def bundle(seed: str) -> str:
    """A minified bundle whose inline source map carries ``src/auth.js`` with a secret."""
    original = f'const a = 1;\nconst clientSecret = "{secret(seed)}";\n'
    document = {"version": 3, "sources": ["src/auth.js"], "sourcesContent": [original]}
    inline = base64.b64encode(json.dumps(document).encode()).decode()
    return (
        "!function(){var a=1;}();\n"
        f"//# sourceMappingURL=data:application/json;charset=utf-8;base64,{inline}\n"
    )


def locations(result: ScanResult) -> list[tuple[str | None, int]]:
    return sorted((f.origin.path, f.line) for f in result.findings)


def test_plain_text_is_left_to_the_engine() -> None:
    blob = Blob(data=b"import os\n", origin=Origin(source="file", path="a.py"))
    assert expander.expand(blob, ArchiveLimits(), Problems()) is None


def test_inline_source_maps_in_a_directory_are_opened(tmp_path: Path) -> None:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / BUNDLE).write_text(bundle("tree"))
    # The marker in other letters is not a source map: nothing to open, nothing to report.
    (tmp_path / "notes.py").write_text("# SOURCEMAPPINGURL=DATA:application/json;base64,e30=\n")

    result = scan([str(tmp_path)], Config(jobs=1, progress=False))

    assert locations(result) == [(f"{BUNDLE}!src/auth.js", 2)]
    assert result.summary.errors == ()


def test_inline_source_maps_in_history_are_opened(repo: GitRepo) -> None:
    commit = repo.commit("add the bundle", {BUNDLE: bundle("git")})
    repo.commit("drop it", {BUNDLE: "!function(){}();\n"})

    result = scan([str(repo.path)], Config(jobs=1, progress=False))

    (found,) = result.findings
    assert (found.origin.path, found.line, found.origin.commit) == (
        f"{BUNDLE}!src/auth.js",
        2,
        commit,
    )
