"""Builders for the artifacts tests: archives, packages, images, keystores and bombs, all made
in memory at run time. Secrets and keys come from scanner.samples, never from literals."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

from scanner.config import ArchiveLimits
from scanner.engine import Engine
from scanner.models import Blob, Finding, Origin
from scanner.pipeline import EngineSpec
from scanner.samples import expand
from scanner.sources import artifacts
from scanner.sources.base import Problems

Files = Mapping[str, bytes | str]


def google_secret(seed: str = "artifacts") -> str:
    return expand("GOCSPX-«b64u:28»", seed)


def as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


# --- containers -------------------------------------------------------------------------------


def zip_bytes(files: Files, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, as_bytes(content))
    return out.getvalue()


@dataclass
class TarEntry:
    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""


def tar_bytes(files: Files | Iterable[TarEntry], *, mode: str = "w") -> bytes:
    """A tar (``mode`` "w", "w:gz", "w:bz2", "w:xz") of files or explicit entries."""
    entries = (
        [TarEntry(n, as_bytes(c)) for n, c in files.items()]
        if isinstance(files, Mapping)
        else list(files)
    )
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.kind
            info.linkname = entry.link
            info.size = len(entry.data) if entry.kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(entry.data) if info.size else None)
    return out.getvalue()


def npm_tgz(files: Files) -> bytes:
    """An npm package tarball: everything under ``package/``."""
    return tar_bytes({f"package/{n}": c for n, c in files.items()}, mode="w:gz")


def wheel(name: str, version: str, files: Files) -> bytes:
    dist = f"{name}-{version}.dist-info"
    metadata = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/RECORD": "",
    }
    return zip_bytes({**files, **metadata})


# --- images -----------------------------------------------------------------------------------


def layer_tar(files: Files, *, whiteouts: Iterable[str] = ()) -> bytes:
    entries = [TarEntry(n, as_bytes(c)) for n, c in files.items()]
    for path in whiteouts:
        directory, _, base = path.rpartition("/")
        entries.append(TarEntry(f"{directory}/.wh.{base}" if directory else f".wh.{base}"))
    return tar_bytes(entries)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def docker_save(layers: list[bytes], *, env: Iterable[str] = ()) -> bytes:
    """A legacy ``docker save`` tarball: ``<id>/layer.tar`` per layer, a config, manifest.json."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": list(env)},
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    files: dict[str, bytes] = {}
    names = []
    for i, layer in enumerate(layers):
        directory = hashlib.sha256(f"layer-{i}".encode()).hexdigest()
        files[f"{directory}/VERSION"] = b"1.0"
        files[f"{directory}/layer.tar"] = layer
        names.append(f"{directory}/layer.tar")
    files[config_name] = config
    manifest = [{"Config": config_name, "RepoTags": ["app:latest"], "Layers": names}]
    files["manifest.json"] = json.dumps(manifest).encode()
    files["repositories"] = b'{"app":{"latest":"0"}}'
    return tar_bytes(files)


def oci_layout(layers: list[bytes], *, compress: bool = True) -> dict[str, bytes]:
    """The files of an OCI image layout: oci-layout, index.json, blobs/sha256/*."""
    blobs: dict[str, bytes] = {}
    descriptors = []
    for layer in layers:
        data = gzip.compress(layer, mtime=0) if compress else layer
        blobs[sha256(data)] = data
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
        descriptors.append({"mediaType": media, "digest": sha256(data), "size": len(data)})
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    blobs[sha256(config)] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": descriptors,
        }
    ).encode()
    blobs[sha256(manifest)] = manifest
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": sha256(manifest),
                "size": len(manifest),
            }
        ],
    }
    files = {f"blobs/{d.replace(':', '/')}": b for d, b in blobs.items()}
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    files["index.json"] = json.dumps(index).encode()
    return files


# --- keystores --------------------------------------------------------------------------------


def pkcs12_store(password: bytes | None, *, alias: bytes = b"signing") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    encryption = BestAvailableEncryption(password) if password else NoEncryption()
    return pkcs12.serialize_key_and_certificates(alias, key, None, None, encryption)


def pkcs12_legacy(password: bytes) -> bytes:
    """PKCS#12 with SHA-1/3DES key protection, as older Java and Windows tools write."""
    key = ec.generate_private_key(ec.SECP256R1())
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .build(password)
    )
    return pkcs12.serialize_key_and_certificates(b"legacy", key, None, None, encryption)


def jks_store(pkcs8_der: bytes, password: str, *, alias: str = "tomcat") -> bytes:
    """A JKS keystore with one private-key entry, protected the way Sun's KeyProtector does
    (SHA-1 keystream over the PKCS#8 key, then a SHA-1 check digest), and the store digest."""
    secret = password.encode("utf-16-be")
    salt = hashlib.sha256(alias.encode()).digest()[:20]
    stream = bytearray()
    digest = salt
    while len(stream) < len(pkcs8_der):
        digest = hashlib.sha1(secret + digest).digest()
        stream += digest
    body = bytes(a ^ b for a, b in zip(pkcs8_der, stream, strict=False))
    check = hashlib.sha1(secret + pkcs8_der).digest()
    algorithm = bytes.fromhex("300e060a2b060104012a021101010500")  # KeyProtector OID, NULL
    protected = _der(0x30, algorithm + _der(0x04, salt + body + check))
    alias_bytes = alias.encode()
    entry = (
        struct.pack(">I", 1)
        + struct.pack(">H", len(alias_bytes))
        + alias_bytes
        + struct.pack(">Q", 0)
        + struct.pack(">I", len(protected))
        + protected
        + struct.pack(">I", 0)  # no certificate chain
    )
    store = struct.pack(">III", 0xFEEDFEED, 2, 1) + entry
    return store + hashlib.sha1(secret + b"Mighty Aphrodite" + store).digest()


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


# --- bombs ------------------------------------------------------------------------------------


@functools.cache
def zeros_deflate(chunks: int) -> bytes:
    """A raw deflate stream of ``chunks`` × 16 MiB of zeros, built in milliseconds: after a
    full flush the compressor's output for the same input repeats byte for byte."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(bytes(16 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return piece * chunks + final


@dataclass
class RawEntry:
    """A zip entry written byte by byte, so headers can say what a test wants them to."""

    name: str
    data: bytes
    method: int = zipfile.ZIP_DEFLATED
    size: int = 0
    crc: int = 0
    flags: int = 0
    offset: int | None = field(default=None)
    """Point the central directory at another entry's local header (overlap)."""


def raw_zip(entries: list[RawEntry], *, shared_data: bool = False) -> bytes:
    """A zip written by hand. ``shared_data``: one local header and payload (the first
    entry's) that every central directory record points at, a full-overlap zip bomb."""
    out = bytearray()
    offsets: list[int] = []
    for i, entry in enumerate(entries):
        if shared_data and i:
            offsets.append(offsets[0])
            continue
        offsets.append(len(out))
        name = entry.name.encode()
        out += b"PK\x03\x04" + struct.pack(
            "<HHHHHIIIHH", 20, entry.flags, entry.method, 0, 0, entry.crc, len(entry.data),
            entry.size, len(name), 0,
        )  # fmt: skip
        out += name + entry.data
    central = bytearray()
    for i, entry in enumerate(entries):
        name = entry.name.encode()
        source = entries[0] if shared_data else entry
        central += b"PK\x01\x02" + struct.pack(
            "<HHHHHHIIIHHHHHII", 20, 20, source.flags, source.method, 0, 0, source.crc,
            len(source.data), source.size, len(name), 0, 0, 0, 0, 0,
            entry.offset if entry.offset is not None else offsets[i],
        )  # fmt: skip
        central += name
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(out), 0
    )
    return bytes(out + central + end)


def nested_zip(levels: int, innermost: Files) -> bytes:
    data = zip_bytes(innermost)
    for level in range(levels - 1, 0, -1):
        data = zip_bytes({f"level{level + 1}.zip": data})
    return data


# --- running the expander and the engine -------------------------------------------------------


@functools.cache
def engine() -> Engine:
    return EngineSpec().build()


@dataclass
class Scan:
    findings: list[Finding]
    blobs: list[Blob]
    problems: Problems

    def by_path(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for f in self.findings:
            grouped.setdefault(f.origin.path or "", []).append(f)
        return grouped

    def skipped(self) -> list[tuple[str, str]]:
        return [(s.location, s.reason) for s in self.problems.skipped]


def scan_bytes(
    data: bytes,
    name: str,
    limits: ArchiveLimits | None = None,
    *,
    origin: Origin | None = None,
) -> Scan:
    """Expand one top-level blob and scan everything it yields, as a worker does."""
    problems = Problems()
    blob = Blob(data=data, origin=origin or Origin(source="file", path=name, root="/scan"))
    blobs = list(artifacts.expand(blob, limits or ArchiveLimits(), problems))
    findings = [f for b in blobs for f in engine().scan(b).findings]
    return Scan(findings, blobs, problems)
