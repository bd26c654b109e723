"""Directory source: symlinks never followed, .git skipped, bad files are warnings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import scanner
from scanner.config import Config
from scanner.errors import SourceError
from scanner.samples import expand, pem
from scanner.sources.base import Problems
from scanner.sources.tree import walk


def files(root: Path) -> list[str]:
    problems = Problems()
    return [display for batch in walk(str(root), problems, 1 << 20) for _, display in batch.files]


def google_secret(seed: str = "t") -> str:
    return expand("GOCSPX-«b64u:28»", seed)


def test_walk_is_sorted_skips_git_and_does_not_follow_symlinks(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    outside = tmp_path.parent / "outside-secret.txt"
    outside.write_text(google_secret())
    (tmp_path / "link.txt").symlink_to(outside)
    (tmp_path / "loop").symlink_to(tmp_path)
    assert files(tmp_path) == ["a.txt", "b/z.txt"]
    assert scanner.scan([tmp_path], Config(jobs=1)).findings == ()


def test_a_file_path_is_scanned_as_given(tmp_path):
    target = tmp_path / "settings.env"
    target.write_text(f"SECRET={google_secret()}\n")
    [finding] = scanner.scan([target], Config(jobs=1)).findings
    assert finding.origin.path == str(target)


def test_missing_path_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or directory"):
        scanner.scan([tmp_path / "nope"])


def test_fifo_is_skipped_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "k.pem").write_text(pem("pkcs8-ec"))
    result = scanner.scan([tmp_path], Config(jobs=1))
    assert [f.origin.path for f in result.findings] == ["k.pem"]


def test_invalid_utf8_file_names_are_reported_escaped(tmp_path):
    name = os.fsencode(str(tmp_path)) + b"/caf\xe9-\xff.env"
    with open(name, "wb") as fh:
        fh.write(f"X={google_secret()}\n".encode())
    [finding] = scanner.scan([tmp_path], Config(jobs=1)).findings
    assert finding.origin.path == "caf\\xe9-\\xff.env"


def test_binary_junk_and_invalid_utf8_content_are_scanned(tmp_path):
    (tmp_path / "junk.bin").write_bytes(
        os.urandom(100_000) + b"\xff\xfe\x00" + pem("rsa-pkcs1").encode()
    )
    (tmp_path / "latin1.py").write_bytes(
        b"# caf\xe9\nSECRET = '" + google_secret().encode() + b"'\n"
    )
    result = scanner.scan([tmp_path], Config(jobs=1))
    assert sorted(f.origin.path for f in result.findings) == ["junk.bin", "latin1.py"]
    assert result.summary.errors == ()


def test_files_over_the_size_limit_are_skipped_and_listed(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"a" * 5000)
    (tmp_path / "k.pem").write_text(pem("pkcs8-ec"))
    result = scanner.scan([tmp_path], Config(jobs=1, max_file_size=4096))
    assert [s.location for s in result.summary.skipped] == ["big.txt"]
    assert "max-file-size" in result.summary.skipped[0].reason
    assert len(result.findings) == 1


def test_a_file_that_vanishes_before_reading_is_a_warning(tmp_path):
    problems = Problems()
    (tmp_path / "gone.txt").write_text("x")
    [batch] = list(walk(str(tmp_path), problems, 1 << 20))
    (tmp_path / "gone.txt").unlink()
    assert list(batch.blobs(problems)) == []
    assert problems.errors == ["gone.txt: cannot read: no such file or directory"]


DROP_ROOT = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _unprivileged_python_works() -> bool:
    if os.geteuid() != 0:
        return True
    if not shutil.which("setpriv"):
        return False
    probe = subprocess.run(
        [*DROP_ROOT, sys.executable, "-c", "import scanner"],
        check=False,
        capture_output=True,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(Path(scanner.__file__).parent.parent)},
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _unprivileged_python_works(),
    reason="root reads every file; needs setpriv and a checkout nobody can read",
)
def test_an_unreadable_file_is_a_warning_and_the_scan_goes_on():
    """Run as an unprivileged user (root reads everything), on a tree it can mostly read."""
    root = Path(tempfile.mkdtemp(prefix="leakstop-unreadable-"))
    try:
        root.chmod(0o755)
        (root / "secret.pem").write_text(pem("pkcs8-ec"))
        (root / "locked.txt").write_text("x")
        (root / "locked.txt").chmod(0)
        command = [sys.executable, "-m", "scanner", "scan", str(root), "--jobs", "1", "-f", "json"]
        if os.geteuid() == 0:
            command = [*DROP_ROOT, *command]
        env = {**os.environ, "PYTHONPATH": str(Path(scanner.__file__).parent.parent)}
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd="/", check=False
        )
        assert done.returncode == 1, done.stderr
        assert "locked.txt: cannot read: permission denied" in done.stderr
        assert '"path": "secret.pem"' in done.stdout
    finally:
        shutil.rmtree(root)
