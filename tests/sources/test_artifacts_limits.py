"""Hostile and damaged artifacts: bombs finish in seconds within bounded memory, every limit is
a warning naming the artifact plus a summary.skipped entry per item, damaged archives yield
what was readable, nothing is ever written to disk, and no input makes the expander raise."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import ArchiveLimits
from scanner.models import Blob, Origin
from scanner.sources import artifacts
from scanner.sources.base import Problems
from scanner.sources.containers import display_name
from tests.sources.artifacts_fixtures import (
    RawEntry,
    docker_save,
    google_secret,
    jks_store,
    layer_tar,
    nested_zip,
    npm_tgz,
    pkcs12_store,
    raw_zip,
    scan_bytes,
    tar_bytes,
    zeros_deflate,
    zip_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30


def properties(secret: str) -> str:
    return f"name=x\nsecret={secret}\n"


def nested_bomb() -> bytes:
    """42.zip in miniature: 16 copies of a zip whose one member is 4 GiB of zeros, zipped
    again; a few tens of kB that claim 64 GiB."""
    kernel = zeros_deflate(255)  # 255 x 16 MiB
    inner = raw_zip([RawEntry("zeros.bin", kernel, size=255 << 24)])
    return zip_bytes({f"part{i:02}.zip": inner for i in range(16)})


def overlap_bomb(copies: int = 1000) -> bytes:
    """Every central directory record points at the same compressed kernel."""
    kernel = zeros_deflate(8)
    entries = [RawEntry(f"f{i:04}.bin", kernel, size=8 << 24) for i in range(copies)]
    return raw_zip(entries, shared_data=True)


def test_nested_zip_bomb_is_stopped_by_the_compression_ratio():
    bomb = nested_bomb()
    assert len(bomb) < 200_000
    started = time.monotonic()
    scan = scan_bytes(bomb, "42.zip")
    assert time.monotonic() - started < 10
    assert len(scan.skipped()) == 16
    assert all(
        reason == "not read: expands more than --max-compression-ratio (200) times"
        for _, reason in scan.skipped()
    )
    assert scan.problems.errors == [
        "42.zip: archive limit hit: expands more than --max-compression-ratio (200) times; "
        "16 items skipped (see summary.skipped)"
    ]


def test_nested_zip_bomb_without_a_ratio_limit_is_stopped_by_sizes_and_budget():
    limits = ArchiveLimits(max_ratio=0, max_expanded_bytes=64 << 20)
    started = time.monotonic()
    scan = scan_bytes(nested_bomb(), "42.zip", limits)
    assert time.monotonic() - started < 20
    reasons = {reason for _, reason in scan.skipped()}
    assert "not read: member larger than --max-file-size (268435456 bytes)" in reasons
    assert any("42.zip: archive limit hit" in e for e in scan.problems.errors)


def test_overlapping_entries_are_refused():
    scan = scan_bytes(overlap_bomb(), "overlap.zip")
    reasons = [reason for _, reason in scan.skipped()]
    assert reasons.count("data overlaps another member (how zip bombs are built): not read") == 999


def test_a_member_that_lies_about_its_size_is_not_scanned():
    lying = raw_zip([RawEntry("small.txt", zeros_deflate(255), size=1000)])
    started = time.monotonic()
    scan = scan_bytes(lying, "lying.zip")
    assert time.monotonic() - started < 5
    assert scan.problems.errors == [
        "lying.zip!small.txt: expands beyond its declared size (1000 bytes); not scanned"
    ]


def test_encrypted_and_unsupported_zip_members_are_listed_as_skipped():
    data = raw_zip(
        [
            RawEntry("secret.txt", b"x" * 40, flags=0x1, size=28),
            RawEntry("old.bin", b"x" * 40, method=9, size=100),
            RawEntry("plain.txt", b"hello", method=zipfile.ZIP_STORED, size=5),
        ]
    )
    scan = scan_bytes(data, "mixed.zip")
    assert scan.skipped() == [
        ("mixed.zip!secret.txt", "encrypted member (password-protected zip): not read"),
        ("mixed.zip!old.bin", "compression method deflate64 not supported: not read"),
    ]
    assert [b.origin.path for b in scan.blobs] == ["mixed.zip!plain.txt"]


def test_ten_level_nested_zip_stops_at_the_depth_limit():
    secret = google_secret("deep")
    deep = nested_zip(10, {"secret.properties": properties(secret)})
    scan = scan_bytes(deep, "deep.zip")
    assert not scan.findings
    chain = "deep.zip" + "".join(f"!level{n}.zip" for n in range(2, 7))
    assert scan.skipped() == [
        (chain, "archive not opened: nested deeper than --max-archive-depth (5)")
    ]
    assert scan.problems.errors == [
        "deep.zip: archive limit hit: nested deeper than --max-archive-depth (5); 1 item "
        "skipped (see summary.skipped)"
    ]
    found = scan_bytes(deep, "deep.zip", ArchiveLimits(max_depth=10)).findings
    assert [f.origin.path.count("!") for f in found] == [10]


def test_bombs_finish_in_seconds_and_memory_stays_under_500_mib(tmp_path: Path):
    """Through the real entry point, in a fresh process, with the default limits."""
    (tmp_path / "42.zip").write_bytes(nested_bomb())
    (tmp_path / "overlap.zip").write_bytes(overlap_bomb())
    (tmp_path / "deep.zip").write_bytes(nested_zip(10, {"a.txt": "x"}))
    truncated = raw_zip([RawEntry("zeros.bin", zeros_deflate(255), size=255 << 24)])
    (tmp_path / "cut.zip").write_bytes(truncated[: len(truncated) // 2])  # no central directory
    (tmp_path / "bomb.tgz").write_bytes(gzip.compress(bytes(300 << 20), compresslevel=1))
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import scanner
        from scanner.config import Config
        started = time.monotonic()
        result = scanner.scan([{str(tmp_path)!r}], Config(jobs=1))
        print(json.dumps({{
            "seconds": time.monotonic() - started,
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "errors": list(result.summary.errors),
            "skipped": len(result.summary.skipped),
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    report = json.loads(done.stdout)
    assert report["seconds"] < 60, report
    assert report["maxrss_kib"] < 500 * 1024, report
    warned = " ".join(report["errors"])
    for name in ("42.zip", "overlap.zip", "deep.zip", "cut.zip", "bomb.tgz"):
        assert name in warned, report


def test_member_limit_lists_each_skipped_member_of_a_zip():
    data = zip_bytes({f"f{i:02}.txt": "x" for i in range(12)})
    scan = scan_bytes(data, "m.zip", ArchiveLimits(max_members=10))
    assert scan.skipped() == [
        (f"m.zip!f{i}.txt", "not read: over --max-archive-members (10) in one archive")
        for i in (10, 11)
    ]


def test_member_limit_in_a_tar_stream_stops_reading_it():
    secret = google_secret("first")
    data = tar_bytes(
        {"a.properties": properties(secret), **{f"f{i}": "x" for i in range(5)}}, mode="w:gz"
    )
    scan = scan_bytes(data, "t.tgz", ArchiveLimits(max_members=3))
    assert [f.origin.path for f in scan.findings] == ["t.tgz!a.properties"]
    assert scan.skipped() == [
        ("t.tgz", "rest of the archive not read: over --max-archive-members (3) in one archive")
    ]


def test_expanded_bytes_budget_is_shared_by_the_whole_artifact():
    inner = zip_bytes({f"f{i}.bin": os.urandom(40_000) for i in range(3)})
    outer = zip_bytes({"a.zip": inner, "b.zip": inner})
    budget = 2 * len(inner) + 120_000 + 10_000  # a.zip, its members, b.zip; not b's members
    scan = scan_bytes(outer, "o.zip", ArchiveLimits(max_expanded_bytes=budget))
    reason = f"not read: --max-expanded-bytes ({budget}) used up"
    assert scan.skipped() == [(f"o.zip!b.zip!f{i}.bin", reason) for i in range(3)]
    assert scan.problems.errors == [
        f"o.zip: archive limit hit: --max-expanded-bytes ({budget}) used up; 3 items skipped "
        "(see summary.skipped)"
    ]


def test_time_limit_skips_what_is_left():
    data = zip_bytes({f"f{i}.txt": "x" for i in range(3)})
    scan = scan_bytes(data, "slow.zip", ArchiveLimits(max_seconds=0))
    assert scan.skipped() == [
        ("slow.zip", "rest of the archive not read: --archive-timeout (0s) reached")
    ]
    assert scan.problems.errors == [
        "slow.zip: archive limit hit: --archive-timeout (0s) reached; 1 item skipped "
        "(see summary.skipped)"
    ]


def test_truncated_zip_is_read_from_its_local_headers():
    secret = google_secret("trunc")
    data = zip_bytes({"a.properties": properties(secret), "b.bin": os.urandom(5000)})
    cut = data[: data.index(b"PK\x01\x02")]  # the central directory and end record are gone
    scan = scan_bytes(cut, "cut.zip")
    assert [f.origin.path for f in scan.findings] == ["cut.zip!a.properties"]
    assert scan.problems.errors[0].startswith("cut.zip: no readable central directory")


def test_damaged_central_directory_falls_back_to_the_local_headers():
    secret = google_secret("cd")
    data = bytearray(zip_bytes({"a.properties": properties(secret), "b.txt": "hello"}))
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    data[second : second + 4] = b"XXXX"
    scan = scan_bytes(bytes(data), "d.zip")
    assert [f.origin.path for f in scan.findings] == ["d.zip!a.properties"]
    assert [b.origin.path for b in scan.blobs] == ["d.zip!a.properties", "d.zip!b.txt"]
    assert scan.problems.errors == [
        "d.zip: no readable central directory (truncated or damaged zip); members read from "
        "their local headers"
    ]


def test_truncated_tgz_yields_the_members_before_the_damage():
    secret = google_secret("tgz")
    data = tar_bytes(
        {"a.properties": properties(secret), "big.bin": os.urandom(200_000)}, mode="w:gz"
    )
    scan = scan_bytes(data[: len(data) // 2], "cut.tgz")
    assert [f.origin.path for f in scan.findings] == ["cut.tgz!a.properties"]
    assert scan.problems.errors


def test_truncated_member_data_is_scanned_as_far_as_it_goes():
    secret = google_secret("partial")
    text = properties(secret) + "padding\n" * 5000
    data = tar_bytes({"log.txt": text})
    scan = scan_bytes(data[:2048], "cut.tar")
    assert [f.origin.path for f in scan.findings] == ["cut.tar!log.txt"]
    assert any("the archive ends early" in e for e in scan.problems.errors)


@pytest.mark.parametrize("name", ["archive.gz", "archive.zip", "x.tgz", "x.tar", "x.jar", "k.p12"])
def test_random_bytes_with_an_archive_name_warn_and_are_scanned_plain(name):
    scan = scan_bytes(os.urandom(4096), name)
    assert any(e.startswith(f"{name}: named like a") for e in scan.problems.errors)
    assert scan.blobs  # still scanned, as plain content


def test_corrupt_gzip_warns_and_goes_on():
    good = gzip.compress(properties(google_secret("gz")).encode())
    damaged = good[:20] + bytes(10) + good[30:]
    scan = scan_bytes(damaged, "a.gz")
    assert scan.problems.errors


def test_traversal_and_links_are_names_only_and_nothing_is_written(tmp_path: Path, monkeypatch):
    secret = google_secret("traversal")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    zip_data = zip_bytes(
        {
            "../../evil.properties": properties(secret),
            "/etc/cron.d/evil": "* * * * * root true\n",
            "C:\\Windows\\evil.txt": "x",
        }
    )
    symlink_zip = _zip_symlink("link", "/etc/passwd")
    tar_data = tar_bytes(
        [
            _entry("../outside.txt", properties(secret).encode()),
            _entry("link", kind=b"2", link="/etc/shadow"),
            _entry("hard", kind=b"1", link="/etc/passwd"),
            _entry("dev", kind=b"3"),
            _entry("fifo", kind=b"6"),
        ]
    )
    zip_scan = scan_bytes(zip_data, "t.zip")
    tar_scan = scan_bytes(tar_data, "t.tar")
    link_scan = scan_bytes(symlink_zip, "l.zip")
    assert [f.origin.path for f in zip_scan.findings] == ["t.zip!../../evil.properties"]
    assert [f.origin.path for f in tar_scan.findings] == ["t.tar!../outside.txt"]
    assert [b.origin.path for b in link_scan.blobs] == ["l.zip"]  # the link itself: not read
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not (tmp_path.parent / "evil.properties").exists()


def _entry(name, data=b"", kind=b"0", link=""):
    from tests.sources.artifacts_fixtures import TarEntry

    return TarEntry(name, data, kind, link)


def _zip_symlink(name: str, target: str) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        archive.writestr(info, target)
    return out.getvalue()


SAMPLES = [
    zip_bytes({"a.txt": "hello", "b/c.properties": properties("x" * 20)}),
    tar_bytes({"a.txt": "hello", "b/c.txt": "world"}, mode="w:gz"),
    npm_tgz({"package.json": "{}"}),
    docker_save([layer_tar({"a": "x"}), layer_tar({"b": "y"}, whiteouts=["a"])]),
    pkcs12_store(None),
    jks_store(bytes(range(48)), "changeit"),
    json.dumps({"version": 3, "sources": ["a"], "sourcesContent": ["x"]}).encode(),
]
NAMES = [
    "x.zip",
    "x.tgz",
    "x.tar",
    "x.gz",
    "x.bz2",
    "x.xz",
    "x.p12",
    "x.jks",
    "x.js.map",
    "x.bin",
    "",
]
FUZZ_LIMITS = ArchiveLimits(max_expanded_bytes=8 << 20, max_seconds=10)


def _expand_all(data: bytes, name: str) -> None:
    blob = Blob(data=data, origin=Origin(source="file", path=name or None))
    for out in artifacts.expand(blob, FUZZ_LIMITS, Problems()):
        assert isinstance(out.data, bytes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048), name=st.sampled_from(NAMES))
def test_expander_never_raises_on_arbitrary_bytes(data, name):
    _expand_all(data, name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    name=st.sampled_from(NAMES),
    cut=st.integers(min_value=0, max_value=10_000),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
)
def test_expander_never_raises_on_damaged_archives(sample, name, cut, flips):
    data = bytearray(sample[: max(1, len(sample) - cut % max(1, len(sample)))])
    for position, value in flips:
        data[position % len(data)] = value
    _expand_all(bytes(data), name)


@settings(max_examples=100, deadline=None)
@given(
    files=st.dictionaries(
        st.text(
            st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/\\!"),
            min_size=1,
            max_size=20,
        ),
        st.binary(max_size=3000),
        min_size=1,
        max_size=8,
    ),
    method=st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    ),
)
def test_zip_reader_agrees_with_zipfile(files, method):
    from scanner.sources import ziparchive

    data = zip_bytes(files, method=method)
    read = {
        m.name: b"".join(m.chunks())
        for m in ziparchive.members(data, lambda _: None, 1000)
        if m.chunks
    }
    assert read == {display_name(name): content for name, content in files.items()}
