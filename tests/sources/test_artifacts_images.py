"""Container images: every layer is read, each finding names its layer digest, and a file a
later layer deletes is still reported in the layer that ships it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import scanner
from scanner.config import Config
from scanner.samples import pem
from tests.sources.artifacts_fixtures import (
    docker_save,
    google_secret,
    layer_tar,
    oci_layout,
    scan_bytes,
    sha256,
    tar_bytes,
)


def keys_found(scan):
    return [f for f in scan.findings if f.rule_id == "private-key-pem"]


def image_layers():
    base = layer_tar({"etc/os-release": "ID=test\n", "app/start.sh": "#!/bin/sh\nexec app\n"})
    with_key = layer_tar({"app/keys/signing.pem": pem("pkcs8-ec"), "app/config.yaml": "a: 1\n"})
    cleanup = layer_tar({"app/config.yaml": "a: 2\n"}, whiteouts=["app/keys/signing.pem"])
    return [base, with_key, cleanup]


def test_docker_save_reports_a_key_deleted_by_a_later_layer_in_its_own_layer():
    layers = image_layers()
    secret = google_secret("env")
    scan = scan_bytes(docker_save(layers, env=[f"GOOGLE_CLIENT_SECRET={secret}"]), "app.tar")
    [key] = keys_found(scan)
    assert key.origin.layer == sha256(layers[1])
    assert key.origin.path.startswith("app.tar!") and key.origin.path.endswith(
        "/layer.tar!app/keys/signing.pem"
    )
    assert key.line == 1
    assert key.origin.note == (
        f"deleted by a whiteout in a later image layer ({sha256(layers[2])}); still present "
        "in this layer"
    )
    [env] = [f for f in scan.findings if f.rule_id == "google-oauth-client-secret"]
    assert env.origin.path.endswith(".json") and env.origin.layer is None  # the image config
    assert not scan.problems.errors and not scan.problems.skipped


def test_files_not_deleted_later_carry_no_note():
    layers = [layer_tar({"srv/key.pem": pem("pkcs8-ec")}), layer_tar({"srv/other": "x"})]
    [key] = keys_found(scan_bytes(docker_save(layers), "img.tar"))
    assert key.origin.note is None and key.origin.layer == sha256(layers[0])


def test_an_opaque_directory_deletes_everything_below_it():
    layers = [
        layer_tar({"opt/app/secrets/key.pem": pem("pkcs8-ec")}),
        tar_bytes({"opt/app/.wh..wh..opq": b"", "opt/app/new.txt": b"x"}),
    ]
    [key] = keys_found(scan_bytes(docker_save(layers), "img.tar"))
    assert key.origin.note and "deleted by a whiteout" in key.origin.note


def test_oci_image_layout_as_a_tar():
    layers = image_layers()
    files = oci_layout(layers)
    scan = scan_bytes(tar_bytes(files), "image-oci.tar")
    [key] = keys_found(scan)
    compressed_digest = sha256(gzip.compress(layers[1], mtime=0))
    assert key.origin.layer == compressed_digest
    assert key.origin.path == (
        f"image-oci.tar!blobs/sha256/{compressed_digest[7:]}!app/keys/signing.pem"
    )
    assert key.origin.note and "deleted by a whiteout" in key.origin.note


def test_oci_image_layout_as_a_directory(tmp_path: Path):
    layers = image_layers()
    root = tmp_path / "image"
    for name, data in oci_layout(layers).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    result = scanner.scan([root], Config(jobs=1))
    [key] = [f for f in result.findings if f.rule_id == "private-key-pem"]
    digest = sha256(gzip.compress(layers[1], mtime=0))
    assert key.origin.layer == digest
    assert key.origin.path == f"blobs/sha256/{digest[7:]}!app/keys/signing.pem"


def test_gzipped_docker_save_is_streamed_and_layers_still_carry_digests():
    layers = image_layers()
    scan = scan_bytes(gzip.compress(docker_save(layers)), "app.tar.gz")
    [key] = keys_found(scan)
    assert key.origin.layer == sha256(layers[1])


def test_layer_listed_in_the_manifest_but_missing_is_skipped_with_a_reason():
    layers = image_layers()
    with tarfile.open(fileobj=io.BytesIO(docker_save(layers))) as source:
        members = {m.name: source.extractfile(m) for m in source.getmembers() if m.isfile()}
        files = {name: handle.read() for name, handle in members.items() if handle}
    manifest = json.loads(files["manifest.json"])
    dropped = manifest[0]["Layers"][1:]
    kept = {name: data for name, data in files.items() if name not in dropped}
    scan = scan_bytes(tar_bytes(kept), "partial.tar")
    assert scan.skipped() == [
        (f"partial.tar!{name}", "image layer listed in the manifest but missing")
        for name in reversed(dropped)
    ]
