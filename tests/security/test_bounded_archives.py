"""Promise: an archive costs bounded time and memory, writes nothing, and cannot hide the good
findings next to it.

``tests/sources/test_artifacts_limits.py`` checks each limit through the expander. Here one
directory of hostile artifacts -- bombs by ratio (zip, gzip, bzip2, xz) and by nesting (zip in
zip, gzip in gzip, 42.zip), an overlapping zip, ``../`` and absolute member names, symlink and
hardlink members pointing at a secret outside the scanned tree, truncated and corrupt members,
random bytes named like archives -- sits next to good artifacts, and the real ``leakstop scan``
runs over it in a fresh process with the default limits. Time and peak RSS are measured (and
printed: ``pytest -s`` shows them); the bounds are generous on purpose, never a timing race."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import secrets
import struct
import tarfile
import zipfile
from pathlib import Path

from scanner.models import make_fingerprint
from tests.security.support import changes, child_env, google_secret, leakstop, snapshot
from tests.sources.artifacts_fixtures import (
    RawEntry,
    TarEntry,
    nested_zip,
    raw_zip,
    tar_bytes,
    zeros_deflate,
    zip_bytes,
)

GOOGLE = "google-oauth-client-secret"
SECONDS_BOUND = 120.0
RSS_BOUND_MIB = 600.0


def properties(seed: str) -> str:
    return f"name=x\noauth.client-secret={google_secret(seed)}\n"


def gzip_of_deflate(deflate: bytes) -> bytes:
    """A gzip member around a raw deflate stream (trailer left zero: limits stop first)."""
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + deflate + bytes(8)


def gzip_nest(levels: int, text: str) -> bytes:
    data = text.encode()
    for _ in range(levels):
        data = gzip.compress(data, mtime=0)
    return data


def zip_symlink(name: str, target: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        archive.writestr(info, target)
        archive.writestr("ok.txt", "nothing here\n")
    return out.getvalue()


def corrupt_member_zip(seed: str) -> bytes:
    """Two members; the second's compressed data is garbage (inflate fails)."""
    data = bytearray(zip_bytes({"a.properties": properties(seed), "b.bin": os.urandom(20_000) * 4}))
    second = data.index(b"PK\x03\x04", 4)
    name_len, extra_len = struct.unpack_from("<HH", data, second + 26)
    start = second + 30 + name_len + extra_len
    data[start : start + 64] = bytes(range(64))
    return bytes(data)


def hostile_tree(root: Path, outside_secret: Path, absolute_target: Path) -> dict[str, str]:
    """Write the artifacts; returns {file name: what makes it bad} for every bad one."""
    root.mkdir()
    bad: dict[str, str] = {}

    def put(name: str, data: bytes, why: str | None = None) -> None:
        (root / name).write_bytes(data)
        if why:
            bad[name] = why

    put("ratio.zip", raw_zip([RawEntry("zeros.bin", zeros_deflate(255), size=255 << 24)]), "ratio")
    inner = raw_zip([RawEntry("zeros.bin", zeros_deflate(255), size=255 << 24)])
    put("42.zip", zip_bytes({f"part{i:02}.zip": inner for i in range(16)}), "nested ratio")
    kernel = zeros_deflate(8)
    overlap = [RawEntry(f"f{i:04}.bin", kernel, size=8 << 24) for i in range(1000)]
    put("overlap.zip", raw_zip(overlap, shared_data=True), "overlapping members")
    put("bomb.gz", gzip_of_deflate(zeros_deflate(64)), "gzip ratio")
    put("bomb.tar.gz", gzip_of_deflate(zeros_deflate(64)), "tar.gz ratio")
    put("bomb.bz2", bz2.compress(bytes(64 << 20), 9), "bzip2 ratio")
    put("bomb.xz", lzma.compress(bytes(64 << 20), preset=1), "xz ratio")
    put("deep.zip", nested_zip(12, {"deep.properties": properties("deep")}), "zip nesting")
    put("deep.gz", gzip_nest(12, properties("deep-gz")), "gzip nesting")
    whole = zip_bytes({"a.properties": properties("cut-zip"), "b.bin": os.urandom(50_000)})
    put("truncated.zip", whole[:-200], "truncated")
    whole = tar_bytes(
        {"a.properties": properties("cut-tgz"), "big.bin": os.urandom(200_000)}, mode="w:gz"
    )
    put("truncated.tgz", whole[: len(whole) // 2], "truncated")
    put("corrupt-member.zip", corrupt_member_zip("corrupt"), "corrupt member")
    good_gz = gzip.compress(b"x" * 5000)
    put("corrupt.gz", good_gz[:12] + bytes(30) + good_gz[42:], "corrupt gzip")
    for name in ("random.gz", "random.zip", "random.tgz", "random.jar", "random.tar.xz"):
        put(name, os.urandom(8192), "random bytes")
    put(
        "lies.zip",
        raw_zip([RawEntry("small.txt", zeros_deflate(1), size=100)]),
        "declared size",
    )
    # Names and links: nothing is written or followed; the members with data are scanned.
    put(
        "traversal.zip",
        zip_bytes(
            {
                "../../evil.properties": properties("traversal-zip"),
                str(absolute_target): "written?\n",
                "C:\\Windows\\evil.txt": "x",
            }
        ),
    )
    put(
        "traversal.tar",
        tar_bytes(
            [
                TarEntry("../outside.properties", properties("traversal-tar").encode()),
                TarEntry(str(absolute_target), b"written?\n"),
                TarEntry("link", kind=tarfile.SYMTYPE, link=str(outside_secret)),
                TarEntry("hard", kind=tarfile.LNKTYPE, link=str(outside_secret)),
                TarEntry("up", kind=tarfile.SYMTYPE, link="../../.."),
                TarEntry("up/escaped.txt", b"through the link?\n"),
                TarEntry("dev", kind=tarfile.CHRTYPE),
                TarEntry("fifo", kind=tarfile.FIFOTYPE),
            ]
        ),
    )
    put("links.zip", zip_symlink("link", str(outside_secret)))
    # Good artifacts, whose findings must survive their neighbours.
    put("good.zip", zip_bytes({"conf/app.properties": properties("good-zip")}))
    put("good.tgz", tar_bytes({"package/.env": properties("good-tgz")}, mode="w:gz"))
    put("settings.properties", properties("plain").encode())
    return bad


def test_hostile_archives_cost_bounded_time_and_memory_and_write_nothing(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    outside_secret = outside / "secret.properties"
    outside_secret.write_text(properties("outside"))
    absolute_target = Path("/tmp") / f"leakstop-absolute-{secrets.token_hex(6)}.txt"
    scanned = tmp_path / "artifacts"
    bad = hostile_tree(scanned, outside_secret, absolute_target)
    sandbox = tmp_path / "sandbox"
    (sandbox / "tmp").mkdir(parents=True)
    before = {p: snapshot(p, ignore=("tmp",)) for p in (scanned, outside, sandbox)}

    report = sandbox / "report.json"
    env = child_env(TMPDIR=str(sandbox / "tmp"), NO_COLOR="1")
    run = leakstop("scan", scanned, "-f", "json", "-o", report, "--jobs", "2", cwd=sandbox, env=env)
    print(f"\nhostile archives: {run.seconds:.1f}s, peak RSS {run.peak_rss_mib:.0f} MiB")
    assert run.returncode == 1, run.stderr
    assert run.seconds < SECONDS_BOUND
    assert run.peak_rss_mib < RSS_BOUND_MIB

    doc = json.loads(report.read_text())
    found = {f["fingerprint"]: f["path"] for f in doc["findings"]}
    for seed, path in (
        ("good-zip", "good.zip!conf/app.properties"),
        ("good-tgz", "good.tgz!package/.env"),
        ("plain", "settings.properties"),
        ("traversal-zip", "traversal.zip!../../evil.properties"),
        ("traversal-tar", "traversal.tar!../outside.properties"),
        ("cut-zip", "truncated.zip!a.properties"),
        ("cut-tgz", "truncated.tgz!a.properties"),
        ("corrupt", "corrupt-member.zip!a.properties"),
    ):
        assert found.get(make_fingerprint(GOOGLE, google_secret(seed))) == path, (seed, found)
    assert make_fingerprint(GOOGLE, google_secret("outside")) not in found  # links not followed
    for seed in ("deep", "deep-gz"):  # beyond the depth limit: not opened, and said so
        assert make_fingerprint(GOOGLE, google_secret(seed)) not in found

    told = [*doc["summary"]["errors"], *(s["location"] for s in doc["summary"]["skipped"])]
    for name, why in bad.items():
        assert any(t.startswith(name) for t in told), f"no warning names {name} ({why})"
    assert not any("escaped.txt" in f for f in found.values())

    after = {p: snapshot(p, ignore=("tmp",)) for p in (scanned, outside, sandbox)}
    assert changes(before[scanned], after[scanned]) == []
    assert changes(before[outside], after[outside]) == []
    assert changes(before[sandbox], after[sandbox]) == ["+report.json", "~."]
    assert sorted(os.listdir(sandbox / "tmp")) == []  # temporary files, if any, are gone
    assert not absolute_target.exists()
    assert not (tmp_path / "evil.properties").exists()
    assert not (scanned.parent / "outside.properties").exists()
