"""``leakstop verify`` re-reads a redacted finding from where it was found: inside nested
archives, in an image layer, in a keystore's key card or a binary's UTF-16 text, opening only
the containers on the way."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from scanner import keys
from scanner.api import scan
from scanner.config import Config
from scanner.models import Blob, Finding, Origin
from scanner.report.base import ReportOptions
from scanner.report.json import load_report, write_json
from scanner.samples import pem
from scanner.sources import artifacts
from scanner.verify.reread import Rereader, RereadError
from tests.sources.artifacts_fixtures import (
    RawEntry,
    docker_save,
    google_secret,
    layer_tar,
    pkcs12_store,
    raw_zip,
    tar_bytes,
    zeros_deflate,
    zip_bytes,
)


def redacted(root: Path, tmp_path: Path) -> tuple[Finding, ...]:
    """Scan, write the JSON report (secrets redacted), load it back."""
    out = io.StringIO()
    write_json(scan([str(root)], Config(jobs=1)), out, ReportOptions())
    report = tmp_path / "report.json"
    report.write_text(out.getvalue(), "utf-8")
    return load_report(report).findings


def test_secret_in_nested_archives_is_re_read(tmp_path: Path):
    secret = google_secret("reread")
    jar = zip_bytes({"conf/app.properties": f"a=1\nsecret={secret}\n"})
    root = tmp_path / "dist"
    root.mkdir()
    (root / "app.zip").write_bytes(
        zip_bytes({"bundle.tgz": tar_bytes({"core.jar": jar}, mode="w:gz")})
    )
    [found] = redacted(root, tmp_path)
    assert found.origin.path == "app.zip!bundle.tgz!core.jar!conf/app.properties"
    assert secret not in found.secret
    assert Rereader().secret(found) == secret


def test_keystore_key_and_image_layer_keys_are_re_read(tmp_path: Path):
    key_pem = pem("pkcs8-ec")
    root = tmp_path / "build"
    root.mkdir()
    (root / "client.p12").write_bytes(pkcs12_store(None))
    layers = [layer_tar({"srv/key.pem": key_pem}), layer_tar({"x": "y"}, whiteouts=["srv/key.pem"])]
    (root / "image.tar").write_bytes(docker_save(layers))
    findings = redacted(root, tmp_path)
    assert {f.rule_id for f in findings} == {"private-key-pkcs12", "private-key-pem"}
    reader = Rereader()
    for found in findings:
        assert keys.load_private_key(reader.secret(found)) is not None


def test_utf16_text_of_a_binary_is_re_read(tmp_path: Path):
    secret = google_secret("dll")
    dll = b"MZ\x90\x00" + bytes(64) + f"ClientSecret={secret}".encode("utf-16-le") + bytes(8)
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "auth.nupkg").write_bytes(zip_bytes({"lib/Auth.dll": dll}))
    [found] = redacted(root, tmp_path)
    assert Rereader().secret(found) == secret


def test_an_archive_changed_since_the_scan_is_reported(tmp_path: Path):
    root = tmp_path / "dist"
    root.mkdir()
    (root / "a.zip").write_bytes(zip_bytes({"x.properties": f"s={google_secret('old')}\n"}))
    [found] = redacted(root, tmp_path)
    (root / "a.zip").write_bytes(zip_bytes({"y.properties": "nothing here\n"}))
    with pytest.raises(RereadError, match="no longer in the archive"):
        Rereader().secret(found)
    (root / "a.zip").write_bytes(zip_bytes({"x.properties": f"s={google_secret('new')}\n"}))
    with pytest.raises(RereadError, match="no longer there"):
        Rereader().secret(found)


def test_located_opens_only_the_containers_on_the_way():
    secret = google_secret("way")
    bomb = raw_zip([RawEntry("zeros.bin", zeros_deflate(255), size=255 << 24)])
    siblings = {f"bomb{i}.zip": bomb for i in range(8)}
    data = zip_bytes({**siblings, "lib/target.jar": zip_bytes({"a.txt": f"s={secret}\n"})})
    blob = Blob(data=data, origin=Origin(source="file", path="big.zip"))
    started = time.monotonic()
    found = artifacts.located(blob, "big.zip!lib/target.jar!a.txt")
    assert time.monotonic() - started < 2
    assert found == f"s={secret}\n".encode()
    with pytest.raises(LookupError):
        artifacts.located(blob, "big.zip!lib/target.jar!missing.txt")


def test_outer_origin_of_members_found_in_files_and_in_git():
    in_file = Origin(source="archive", path="dist/a.zip!b.jar!c", root="/r", layer="sha256:x")
    assert artifacts.outer_origin(in_file) == Origin(source="file", path="dist/a.zip", root="/r")
    in_git = Origin(source="archive", path="a.zip!c", commit="c" * 40, blob_id="b" * 40)
    assert artifacts.outer_origin(in_git).source == "git"
    assert artifacts.outer_origin(in_git).path == "a.zip"
    by_id = Origin(source="archive", path=f"{'b' * 40}!c", blob_id="b" * 40)
    assert artifacts.outer_origin(by_id).path is None
