"""Archives and packages opened in memory, wherever a blob appears: every finding carries its
chain (``outer!inner!member``) and the line inside the member."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scanner
from scanner.cli import app
from scanner.config import ArchiveLimits, Config
from scanner.models import Blob, Origin
from scanner.samples import pem
from scanner.sources import artifacts
from scanner.sources.artifacts import UTF16_DOCUMENT_NOTE, UTF16_RUNS_NOTE
from scanner.sources.base import Problems
from tests.sources.artifacts_fixtures import (
    RawEntry,
    google_secret,
    npm_tgz,
    raw_zip,
    scan_bytes,
    tar_bytes,
    wheel,
    zip_bytes,
)


def only(scan, rule_id="google-oauth-client-secret"):
    found = [f for f in scan.findings if f.rule_id == rule_id]
    assert len(found) == 1, [(f.rule_id, f.origin.path) for f in scan.findings]
    return found[0]


def properties(secret: str) -> str:
    return f"# settings\nname=orders\n\ngoogle.client.secret={secret}\n"


def test_zip_in_tar_gz_in_zip_reports_the_chain_and_the_line():
    secret = google_secret()
    jar = zip_bytes({"conf/app.properties": properties(secret), "META-INF/MANIFEST.MF": "x"})
    tgz = tar_bytes({"lib/core.jar": jar, "README": "hello"}, mode="w:gz")
    outer = zip_bytes({"dist/bundle.tgz": tgz})
    scan = scan_bytes(outer, "dist/app.zip")
    found = only(scan)
    assert found.origin.path == "dist/app.zip!dist/bundle.tgz!lib/core.jar!conf/app.properties"
    assert (found.line, found.column) == (4, 22)
    assert found.origin.source == "archive" and found.origin.root == "/scan"
    assert found.secret == secret
    assert not scan.problems.errors and not scan.problems.skipped


def test_wheel_members_are_scanned_with_their_lines():
    secret = google_secret("wheel")
    code = f'"""Settings."""\nCLIENT_ID = "x"\nCLIENT_SECRET = "{secret}"\n'
    whl = wheel("orders", "1.0", {"orders/__init__.py": "", "orders/settings.py": code})
    found = only(scan_bytes(whl, "dist/orders-1.0-py3-none-any.whl"))
    assert found.origin.path == "dist/orders-1.0-py3-none-any.whl!orders/settings.py"
    assert found.line == 3


def test_npm_package_tarball():
    secret = google_secret("npm")
    tgz = npm_tgz(
        {
            "package.json": '{"name": "x"}',
            "dist/config.js": f'module.exports = {{\n  clientSecret: "{secret}",\n}};\n',
        }
    )
    found = only(scan_bytes(tgz, "x-1.0.0.tgz"))
    assert found.origin.path == "x-1.0.0.tgz!package/dist/config.js"
    assert found.line == 2


def test_apk_like_zip_with_strings_xml_and_a_dex_blob():
    secret = google_secret("apk")
    key_secret = google_secret("dex")
    strings_xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<resources>\n'
        '    <string name="app_name">Orders</string>\n'
        f'    <string name="google_client_secret">{secret}</string>\n</resources>\n'
    )
    # A dex-like blob: magic, binary header, then string data items (ULEB128 length + MUTF-8).
    dex = bytearray(b"dex\n035\x00" + bytes(range(256)) * 4)
    for value in (b"Lcom/example/Auth;", key_secret.encode(), b"client_secret"):
        dex += bytes([len(value)]) + value + b"\x00"
    dex += bytes(64)
    apk = zip_bytes(
        {
            "AndroidManifest.xml": b"\x03\x00\x08\x00" + bytes(100),
            "classes.dex": bytes(dex),
            "res/values/strings.xml": strings_xml,
            "resources.arsc": bytes(64),
        }
    )
    scan = scan_bytes(apk, "app-release.apk")
    by_path = scan.by_path()
    xml = by_path["app-release.apk!res/values/strings.xml"]
    assert [(f.rule_id, f.line) for f in xml] == [("google-oauth-client-secret", 4)]
    dex_found = by_path["app-release.apk!classes.dex"]
    assert [f.secret for f in dex_found] == [key_secret]
    # Binary members are matched in place: line and column count 0x0A bytes, as grep -a does.
    offset = bytes(dex).index(key_secret.encode())
    line_start = bytes(dex).rfind(b"\n", 0, offset) + 1
    assert (dex_found[0].line, dex_found[0].column) == (
        bytes(dex).count(b"\n", 0, offset) + 1,
        offset - line_start + 1,
    )


def test_utf16_strings_in_a_binary_are_found_in_a_view_with_the_same_path():
    secret = google_secret("utf16")
    dll = b"MZ\x90\x00" + bytes(200) + f"ClientSecret={secret}".encode("utf-16-le") + bytes(50)
    scan = scan_bytes(zip_bytes({"lib/net8.0/Auth.dll": dll}), "auth.1.0.0.nupkg")
    found = only(scan)
    assert found.origin.path == "auth.1.0.0.nupkg!lib/net8.0/Auth.dll"
    assert found.origin.note == UTF16_RUNS_NOTE
    assert found.line == 1


def test_utf16_document_with_a_bom_keeps_its_lines():
    secret = google_secret("bom")
    text = f'<configuration>\r\n  <add key="secret" value="{secret}" />\r\n</configuration>\r\n'
    scan = scan_bytes(b"\xff\xfe" + text.encode("utf-16-le"), "web.config")
    found = only(scan)
    assert (found.line, found.origin.note) == (2, UTF16_DOCUMENT_NOTE)


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("settings.env.gz", gzip.compress),
        ("settings.env.bz2", bz2.compress),
        ("settings.env.xz", lzma.compress),
    ],
)
def test_single_stream_compression(name, compress):
    secret = google_secret(name)
    found = only(scan_bytes(compress(properties(secret).encode()), f"backup/{name}"))
    assert found.origin.path == f"backup/{name}!settings.env"
    assert found.line == 4


@pytest.mark.parametrize("mode", ["w:bz2", "w:xz"])
def test_tar_bz2_and_tar_xz(mode):
    secret = google_secret(mode)
    found = only(scan_bytes(tar_bytes({"etc/app.conf": properties(secret)}, mode=mode), "x.tar"))
    assert found.origin.path == "x.tar!etc/app.conf"


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_every_common_zip_compression_method(method):
    secret = google_secret(str(method))
    found = only(
        scan_bytes(zip_bytes({"a/b.properties": properties(secret)}, method=method), "m.zip")
    )
    assert (found.origin.path, found.line) == ("m.zip!a/b.properties", 4)


def test_stored_member_is_reported_once_not_again_in_the_raw_archive():
    secret = google_secret("stored")
    scan = scan_bytes(zip_bytes({"x.txt": properties(secret)}, method=zipfile.ZIP_STORED), "s.zip")
    assert [f.origin.path for f in scan.findings] == ["s.zip!x.txt"]


def test_zip64_member():
    secret = google_secret("zip64")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("big.properties", "w", force_zip64=True) as handle,
    ):
        handle.write(properties(secret).encode())
    found = only(scan_bytes(out.getvalue(), "z.zip"))
    assert found.origin.path == "z.zip!big.properties"


def test_zip_with_a_launcher_script_in_front():
    secret = google_secret("sfx")
    launcher = b'#!/bin/sh\nexec java -jar "$0" "$@"\n'
    data = launcher + zip_bytes({"app.properties": properties(secret)})
    found = only(scan_bytes(data, "bin/app"))
    assert found.origin.path == "bin/app!app.properties"


def test_source_map_members_carry_the_original_sources_and_lines():
    secret = google_secret("map")
    original = f'export const config = {{\n  clientId: "x",\n  clientSecret: "{secret}",\n}};\n'
    source_map = json.dumps(
        {
            "version": 3,
            "file": "main.js",
            "sources": ["webpack://app/./src/config.ts", "webpack://app/./src/empty.ts"],
            "sourcesContent": [original, None],
            "mappings": "AAAA",
        }
    )
    found = only(scan_bytes(source_map.encode(), "dist/main.js.map"))
    assert found.origin.path == "dist/main.js.map!webpack://app/./src/config.ts"
    assert found.line == 3


def test_minified_bundle_and_its_inline_source_map():
    secret = google_secret("bundle")
    original = f'const a = 1;\nconst clientSecret = "{secret}";\n'
    inline = base64.b64encode(
        json.dumps(
            {"version": 3, "sources": ["src/auth.js"], "sourcesContent": [original], "mappings": ""}
        ).encode()
    ).decode()
    minified = (
        "!function(){" + "var a=1;" * 500 + f'var s="{secret}";' + "}();\n"
        f"//# sourceMappingURL=data:application/json;charset=utf-8;base64,{inline}\n"
    )
    scan = scan_bytes(minified.encode(), "static/js/main.3f2a1c.js")
    locations = sorted((f.origin.path, f.line, f.column) for f in scan.findings)
    column = minified.index(secret) + 1
    assert locations == [
        ("static/js/main.3f2a1c.js", 1, column),
        ("static/js/main.3f2a1c.js!src/auth.js", 2, 23),
    ]


def test_git_provenance_of_the_outer_blob_is_kept():
    secret = google_secret("git")
    origin = Origin(
        source="git", path="dist/app.zip", root="/repo", commit="c" * 40, blob_id="b" * 40
    )
    found = only(scan_bytes(zip_bytes({"x.properties": properties(secret)}), "", origin=origin))
    o = found.origin
    assert (o.source, o.path, o.root, o.commit, o.blob_id) == (
        "archive", "dist/app.zip!x.properties", "/repo", "c" * 40, "b" * 40,
    )  # fmt: skip


def test_member_names_are_strings_with_control_characters_and_separators_escaped():
    secret = google_secret("names")
    scan = scan_bytes(zip_bytes({"a!b\x1b[31m.txt": properties(secret)}), "n.zip")
    assert only(scan).origin.path == "n.zip!a\\x21b\\x1b[31m.txt"


def test_depth_zero_opens_nothing_and_says_so():
    secret = google_secret("depth0")
    scan = scan_bytes(
        zip_bytes({"x.properties": properties(secret)}), "a.zip", ArchiveLimits(max_depth=0)
    )
    assert not scan.findings
    assert scan.skipped() == [
        ("a.zip", "archive not opened: nested deeper than --max-archive-depth (0)")
    ]
    assert any("a.zip: archive limit hit" in e for e in scan.problems.errors)


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("x.7z", b"7z\xbc\xaf\x27\x1c" + bytes(40), "7z archive"),
        ("x.rar", b"Rar!\x1a\x07\x01\x00" + bytes(40), "RAR archive"),
        ("layer.tar.zst", b"\x28\xb5\x2f\xfd" + bytes(40), "zstd stream"),
    ],
)
def test_unsupported_formats_are_listed_as_skipped(name, data, what):
    scan = scan_bytes(data, name)
    assert scan.skipped() == [(name, f"{what}: format not supported")]


def test_plain_text_passes_through_untouched():
    problems = Problems()
    blob = Blob(data=b"hello\n", origin=Origin(source="file", path="a.txt"))
    assert list(artifacts.expand(blob, ArchiveLimits(), problems)) == [blob]
    assert not problems.errors and not problems.skipped


def test_scan_api_opens_archives_in_a_directory(tmp_path: Path):
    secret = google_secret("api")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.jar").write_bytes(
        zip_bytes({"application.properties": properties(secret)})
    )
    result = scanner.scan([tmp_path], Config(jobs=1))
    assert [(f.origin.path, f.line) for f in result.findings] == [
        ("dist/app.jar!application.properties", 4)
    ]


def test_cli_limit_flags_reach_the_scan_and_the_json_summary(tmp_path: Path):
    (tmp_path / "many.zip").write_bytes(zip_bytes({f"f{i}.txt": "x" for i in range(5)}))
    done = CliRunner().invoke(
        app,
        [
            "scan", str(tmp_path), "-f", "json", "-j", "1", "--no-progress",
            "--max-archive-members", "2", "--max-expanded-bytes", "1000000",
            "--max-compression-ratio", "50", "--archive-timeout", "30", "--max-archive-depth", "3",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)["summary"]
    assert summary["skipped"] == [
        {
            "location": f"many.zip!f{i}.txt",
            "reason": "not read: over --max-archive-members (2) in one archive",
        }
        for i in (2, 3, 4)
    ]
    assert any("many.zip: archive limit hit" in e for e in summary["errors"])
    assert "many.zip: archive limit hit" in done.stderr


def test_cli_help_lists_every_archive_limit():
    done = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    for flag in (
        "--max-archive-depth", "--max-archive-members", "--max-expanded-bytes",
        "--max-compression-ratio", "--archive-timeout",
    ):  # fmt: skip
        assert flag in done.output


def test_raw_zip_writer_round_trips():
    data = raw_zip([RawEntry("a.txt", b"hello", method=zipfile.ZIP_STORED, size=5)])
    assert only_text(data) == b"hello"


def only_text(data: bytes) -> bytes:
    blob = Blob(data=data, origin=Origin(source="file", path="t.zip"))
    return next(artifacts.expand(blob, ArchiveLimits(), Problems())).data


def test_a_pem_key_inside_a_jar_keeps_parsing():
    scan = scan_bytes(zip_bytes({"keys/signing.pem": pem("pkcs8-ec")}), "a.jar")
    found = only(scan, "private-key-pem")
    assert (found.origin.path, found.line, found.encrypted) == ("a.jar!keys/signing.pem", 1, False)
