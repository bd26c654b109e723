"""Bytes of build artifacts for the accuracy corpus: zip and tar archives, gzip streams, a
``docker save`` image, a dex-like binary and PKCS#12 keystores (the cases are in corpus.py).

Everything is built in memory with fixed timestamps, so a seed gives the same bytes (except
PKCS#12 files, whose salts the cryptography library draws from the OS). Chains are written the
way a user reads them: ``dist/app.zip!config/application.properties``, and a compressed tar
is one link (``inner.tar.gz!conf.zip!settings.env``), as leakstop reports it.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import tarfile
import zipfile
from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from benchmarks.accuracy.keygen import KeyMaker

FIXED_TIME = (2024, 5, 1, 12, 0, 0)
FIXED_EPOCH = 1714564800


def zip_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def tar_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), FIXED_EPOCH, 0o644
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def gz_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def dex_like(secret: str, rng: random.Random) -> tuple[bytes, int]:
    """Binary bytes with ``secret`` inside a string table, as a classes.dex holds constants;
    returns the bytes and grep's line of the secret (counting 0x0A bytes before it)."""
    head = b"dex\n035\0" + rng.randbytes(400)
    strings = b"\0".join([b"Lcom/acme/auth/Config;", b"client_secret", secret.encode(), b"()V"])
    data = head + b"\0" + strings + b"\0" + rng.randbytes(300)
    offset = data.index(secret.encode())
    return data, data[:offset].count(b"\n") + 1


def pkcs12_file(keys: KeyMaker, password: bytes | None) -> bytes:
    """A PKCS#12 keystore with one EC key and its certificate."""
    from cryptography import x509

    key = keys.ec()
    cert = x509.load_pem_x509_certificate(_self_signed(keys, key).encode())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"client", key, cert, None, encryption)


def _self_signed(keys: KeyMaker, key: object) -> str:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client.corpus.invalid")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(keys.rng.getrandbits(120) | 1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def docker_save(layers: Sequence[Sequence[tuple[str, bytes]]]) -> tuple[bytes, list[str]]:
    """A ``docker save`` tarball (legacy layout: ``<id>/layer.tar``) of the given layers,
    bottom first; returns the bytes and each layer's member path."""
    names = [f"{n:064x}"[-64:] for n in range(1, len(layers) + 1)]
    members: list[tuple[str, bytes]] = []
    paths = []
    for name, files in zip(names, layers, strict=True):
        paths.append(f"{name}/layer.tar")
        members.append((f"{name}/layer.tar", tar_bytes(files)))
    manifest = [{"Config": "config.json", "RepoTags": ["acme/api:1.0"], "Layers": paths}]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    members.append(("config.json", b'{"architecture": "amd64", "os": "linux"}'))
    return tar_bytes(members), paths
