"""Tests for scanner.keys. Every key is generated at run time: nothing secret lives in the repo."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from scanner import keys
from scanner.keys import (
    MAX_INPUT_BYTES,
    TRIVIAL_PASSWORDS,
    KeyInfo,
    KeyParseError,
    Pkcs12Result,
    inspect_key,
    inspect_pkcs12,
    is_java_keystore,
    jwk_thumbprint,
    load_private_key,
    normalize_key_text,
    public_jwk,
)

Enc = serialization.Encoding
Fmt = serialization.PrivateFormat
NO_ENCRYPTION = serialization.NoEncryption()
PASSWORD = b"correct horse"


# ---------------------------------------------------------------------------------------------
# Keys (generated once per module: RSA generation dominates the run time)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ec_p384() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def ed448_key() -> ed448.Ed448PrivateKey:
    return ed448.Ed448PrivateKey.generate()


@pytest.fixture(scope="module")
def x25519_key() -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.generate()


@pytest.fixture(scope="module")
def dsa_key() -> dsa.DSAPrivateKey:
    return dsa.generate_private_key(key_size=1024)  # noqa: S505 - SSH only knows 1024-bit DSA


@pytest.fixture(scope="module")
def certificate(ec_p256: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leakstop test")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_p256.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ec_p256, hashes.SHA256())
    )


# ---------------------------------------------------------------------------------------------
# Builders and independent references


def armor(label: str, der: bytes, headers: dict[str, str] | None = None) -> str:
    """PEM built by hand so no literal armour line ever appears in this file."""
    b64 = base64.b64encode(der).decode()
    lines = ["-----" + "BEGIN " + label + "-----"]
    if headers:
        lines += [f"{name}: {value}" for name, value in headers.items()] + [""]
    lines += textwrap.wrap(b64, 64)
    lines.append("-----" + "END " + label + "-----")
    return "\n".join(lines) + "\n"


def armor_text(label: str, body: str) -> str:
    return "-----" + "BEGIN " + label + "-----\n" + body + "\n-----" + "END " + label + "-----\n"


def pem(key: Any, fmt: serialization.PrivateFormat, encryption: Any = NO_ENCRYPTION) -> str:
    text: str = key.private_bytes(Enc.PEM, fmt, encryption).decode()
    return text


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(value: int, size: int | None = None) -> str:
    return b64u(value.to_bytes(size or max(1, (value.bit_length() + 7) // 8), "big"))


def reference_thumbprint(public_key: Any) -> str:
    """RFC 7638 thumbprint from PyJWT's JWK, serialised by the RFC's own template."""
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        canonical = f'{{"e":"{jwk["e"]}","kty":"RSA","n":"{jwk["n"]}"}}'
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
        canonical = f'{{"crv":"{jwk["crv"]}","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    elif isinstance(public_key, x25519.X25519PublicKey):  # PyJWT has no X25519 JWK
        canonical = f'{{"crv":"X25519","kty":"OKP","x":"{b64u(public_key.public_bytes_raw())}"}}'
    else:
        jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
        canonical = f'{{"crv":"{jwk["crv"]}","kty":"OKP","x":"{jwk["x"]}"}}'
    return b64u(hashlib.sha256(canonical.encode()).digest())


def spki(key: Any) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    der: bytes = public.public_bytes(Enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def sshstr(data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return struct.pack(">I", len(raw)) + raw


def mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return sshstr(raw)


def ssh_public_blob(key: Any) -> bytes:
    if isinstance(key, ed448.Ed448PrivateKey):  # PuTTY-only key type, no OpenSSH encoder
        return sshstr("ssh-ed448") + sshstr(key.public_key().public_bytes_raw())
    if isinstance(key, dsa.DSAPrivateKey):  # cryptography's SSH DSA support is deprecated
        numbers = key.private_numbers().public_numbers
        params = numbers.parameter_numbers
        return sshstr("ssh-dss") + b"".join(
            mpint(v) for v in (params.p, params.q, params.g, numbers.y)
        )
    line = key.public_key().public_bytes(Enc.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(line.split()[1])


def ssh_keytype(key: Any) -> str:
    return sshstr_read(ssh_public_blob(key))


def sshstr_read(blob: bytes) -> str:
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4 : 4 + length].decode()


def openssh_private_fields(key: Any) -> bytes:
    """Key-specific fields of an OpenSSH private section (PROTOCOL.key)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        pk = key.public_key().public_bytes_raw()
        return sshstr(pk) + sshstr(key.private_bytes_raw() + pk)
    if isinstance(key, dsa.DSAPrivateKey):
        numbers = key.private_numbers()
        pub = numbers.public_numbers
        prm = pub.parameter_numbers
        return b"".join(mpint(v) for v in (prm.p, prm.q, prm.g, pub.y, numbers.x))
    if isinstance(key, rsa.RSAPrivateKey):
        r = key.private_numbers()
        rsa_pub = r.public_numbers
        return b"".join(mpint(v) for v in (rsa_pub.n, rsa_pub.e, r.d, r.iqmp, r.p, r.q))
    raise AssertionError("unsupported test key")


def openssh_file(
    public_blob: bytes,
    private_section: bytes,
    *,
    cipher: str = "none",
    kdf: str = "none",
    kdf_options: bytes = b"",
    trailer: bytes = b"",
) -> str:
    blob = (
        b"openssh-key-v1\x00"
        + sshstr(cipher)
        + sshstr(kdf)
        + sshstr(kdf_options)
        + struct.pack(">I", 1)
        + sshstr(public_blob)
        + sshstr(private_section)
        + trailer
    )
    return armor("OPENSSH PRIVATE KEY", blob)


def openssh_plain_section(
    keytype: str, fields: bytes, comment: str, *, checkints: tuple[int, int] | None = None
) -> bytes:
    check = struct.unpack(">I", os.urandom(4))[0]
    first, second = checkints or (check, check)
    body = struct.pack(">II", first, second) + sshstr(keytype) + fields + sshstr(comment)
    return body + bytes(range(1, 1 + (-len(body) % 8)))


def bcrypt_options() -> bytes:
    return sshstr(os.urandom(16)) + struct.pack(">I", 16)


def putty_private_blob(key: Any) -> bytes:
    """PuTTY appendix C private encodings."""
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return mpint(n.d) + mpint(n.p) + mpint(n.q) + mpint(n.iqmp)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return mpint(key.private_numbers().private_value)
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return sshstr(key.private_bytes_raw())  # little-endian integer = the raw secret
    if isinstance(key, dsa.DSAPrivateKey):
        return mpint(key.private_numbers().x)
    raise AssertionError("unsupported test key")


def ppk(
    version: int,
    key: Any,
    *,
    comment: str = "",
    passphrase: bytes | None = None,
    public_blob: bytes | None = None,
    private_blob: bytes | None = None,
) -> str:
    """A PuTTY key file built per PuTTY's documentation (appendix C), MAC included."""
    keytype = ssh_keytype(key)
    public = public_blob if public_blob is not None else ssh_public_blob(key)
    private = private_blob if private_blob is not None else putty_private_blob(key)
    derivation: list[str] = []
    if passphrase is None:
        encryption, stored = "none", private
        mac_key = hashlib.sha1(b"putty-private-key-file-mac-key").digest() if version == 2 else b""
    else:
        encryption = "aes256-cbc"
        private += os.urandom(-len(private) % 16)
        if version == 2:
            digest = hashlib.sha1(b"\0\0\0\0" + passphrase).digest()
            digest += hashlib.sha1(b"\0\0\0\1" + passphrase).digest()
            aes_key, iv = digest[:32], bytes(16)
            mac_key = hashlib.sha1(b"putty-private-key-file-mac-key" + passphrase).digest()
        else:
            salt = os.urandom(16)
            kdf = Argon2id(salt=salt, length=80, iterations=1, lanes=1, memory_cost=8192)
            out = kdf.derive(passphrase)
            aes_key, iv, mac_key = out[:32], out[32:48], out[48:]
            derivation = [
                "Key-Derivation: Argon2id",
                "Argon2-Memory: 8192",
                "Argon2-Passes: 1",
                "Argon2-Parallelism: 1",
                f"Argon2-Salt: {salt.hex()}",
            ]
        encryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
        stored = encryptor.update(private) + encryptor.finalize()
    mac_input = b"".join(sshstr(x) for x in (keytype, encryption, comment, public, private))
    digest_mod = hashlib.sha1 if version == 2 else hashlib.sha256
    mac = hmac.new(mac_key, mac_input, digest_mod).hexdigest()
    public_lines = textwrap.wrap(base64.b64encode(public).decode(), 64)
    private_lines = textwrap.wrap(base64.b64encode(stored).decode(), 64)
    lines = [
        f"PuTTY-User-Key-File-{version}: {keytype}",
        f"Encryption: {encryption}",
        f"Comment: {comment}",
        f"Public-Lines: {len(public_lines)}",
        *public_lines,
        *derivation,
        f"Private-Lines: {len(private_lines)}",
        *private_lines,
        f"Private-MAC: {mac}",
    ]
    return "\n".join(lines) + "\n"


def private_jwk(key: Any) -> dict[str, str]:
    """A private JWK assembled from the key's numbers (RFC 7518 section 6)."""
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return {
            "kty": "RSA",
            "n": b64u_int(n.public_numbers.n),
            "e": b64u_int(n.public_numbers.e),
            "d": b64u_int(n.d),
            "p": b64u_int(n.p),
            "q": b64u_int(n.q),
            "dp": b64u_int(n.dmp1),
            "dq": b64u_int(n.dmq1),
            "qi": b64u_int(n.iqmp),
        }
    if isinstance(key, ec.EllipticCurvePrivateKey):
        e = key.private_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[key.curve.name]
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64u_int(e.public_numbers.x, size),
            "y": b64u_int(e.public_numbers.y, size),
            "d": b64u_int(e.private_value, size),
        }
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64u(key.public_key().public_bytes_raw()),
            "d": b64u(key.private_bytes_raw()),
        }
    raise AssertionError("unsupported test key")


def self_signed(key: Any) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p12 test")])
    now = datetime.datetime.now(datetime.UTC)
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, digest)
    )


def p12(key: Any, password: bytes | None) -> bytes:
    encryption: Any = (
        NO_ENCRYPTION if password is None else serialization.BestAvailableEncryption(password)
    )
    return pkcs12.serialize_key_and_certificates(b"alias", key, self_signed(key), None, encryption)


def der_element(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    return tag, pos, pos + length


def der_children(data: bytes) -> list[bytes]:
    _, start, end = der_element(data)
    kids, pos = [], start
    while pos < end:
        kid_end = der_element(data, pos)[2]
        kids.append(data[pos:kid_end])
        pos = kid_end
    return kids


def der_encode(tag: int, content: bytes) -> bytes:
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    raw = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def with_mac_iterations(pfx: bytes, iterations: int) -> bytes:
    """Rewrite the MacData iteration count of a PFX (its last element)."""
    version, auth_safe, mac_data = der_children(pfx)
    digest_info, salt, _ = der_children(mac_data)
    count = der_encode(0x02, iterations.to_bytes(iterations.bit_length() // 8 + 1, "big"))
    return der_encode(0x30, version + auth_safe + der_encode(0x30, digest_info + salt + count))


# ---------------------------------------------------------------------------------------------
# PEM / DER formats


PEM_CASES = [
    ("rsa_key", Fmt.TraditionalOpenSSL, "pkcs1", "RSA", 2048, None),
    ("rsa_key", Fmt.PKCS8, "pkcs8", "RSA", 2048, None),
    ("ec_p256", Fmt.TraditionalOpenSSL, "sec1", "EC", 256, "P-256"),
    ("ec_p256", Fmt.PKCS8, "pkcs8", "EC", 256, "P-256"),
    ("ec_p384", Fmt.TraditionalOpenSSL, "sec1", "EC", 384, "P-384"),
    ("ec_p384", Fmt.PKCS8, "pkcs8", "EC", 384, "P-384"),
    ("ed25519_key", Fmt.PKCS8, "pkcs8", "Ed25519", 256, None),
    ("ed448_key", Fmt.PKCS8, "pkcs8", "Ed448", 456, None),
    ("x25519_key", Fmt.PKCS8, "pkcs8", "X25519", 256, None),
    ("dsa_key", Fmt.TraditionalOpenSSL, "dsa", "DSA", 1024, None),
    ("dsa_key", Fmt.PKCS8, "pkcs8", "DSA", 1024, None),
]


@pytest.mark.parametrize(
    ("fixture", "fmt", "expected_format", "algorithm", "bits", "curve"), PEM_CASES
)
def test_unencrypted_pem(
    request: pytest.FixtureRequest,
    fixture: str,
    fmt: serialization.PrivateFormat,
    expected_format: str,
    algorithm: str,
    bits: int,
    curve: str | None,
) -> None:
    key = request.getfixturevalue(fixture)
    text = pem(key, fmt)
    thumbprint = None if algorithm == "DSA" else reference_thumbprint(key.public_key())
    expected = KeyInfo(expected_format, algorithm, False, bits, curve, thumbprint)
    assert inspect_key(text) == expected
    assert inspect_key(text.encode()) == expected
    loaded = load_private_key(text)
    assert loaded is not None and spki(loaded) == spki(key)


@pytest.mark.parametrize("fixture", ["rsa_key", "ec_p256", "ed25519_key", "dsa_key"])
def test_encrypted_pkcs8(request: pytest.FixtureRequest, fixture: str) -> None:
    key = request.getfixturevalue(fixture)
    text = pem(key, Fmt.PKCS8, serialization.BestAvailableEncryption(PASSWORD))
    assert inspect_key(text) == KeyInfo("pkcs8-encrypted", None, True)
    assert load_private_key(text) is None
    assert load_private_key(text, b"wrong password") is None
    loaded = load_private_key(text, PASSWORD)
    assert loaded is not None and spki(loaded) == spki(key)


@pytest.mark.parametrize(
    ("fixture", "algorithm"), [("rsa_key", "RSA"), ("ec_p256", "EC"), ("dsa_key", "DSA")]
)
def test_legacy_encrypted_pem(request: pytest.FixtureRequest, fixture: str, algorithm: str) -> None:
    key = request.getfixturevalue(fixture)
    text = pem(key, Fmt.TraditionalOpenSSL, serialization.BestAvailableEncryption(PASSWORD))
    assert "Proc-Type: 4,ENCRYPTED" in text and "DEK-Info: " in text
    assert inspect_key(text) == KeyInfo("pem-legacy-encrypted", algorithm, True)
    assert load_private_key(text) is None
    loaded = load_private_key(text, PASSWORD)
    assert loaded is not None and spki(loaded) == spki(key)


def test_legacy_encrypted_pem_built_by_hand_and_collapsed() -> None:
    headers = {"Proc-Type": "4,ENCRYPTED", "DEK-Info": "DES-EDE3-CBC," + os.urandom(8).hex()}
    text = armor("RSA PRIVATE KEY", os.urandom(1200), headers)
    expected = KeyInfo("pem-legacy-encrypted", "RSA", True)
    assert inspect_key(text) == expected
    assert inspect_key(text.replace("\n", " ")) == expected  # newlines folded by YAML / env


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, os.urandom(1200)),  # IV size
        ({"Proc-Type": "4,ENCRYPTED"}, os.urandom(1200)),  # no DEK-Info
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "ROT13-CBC," + "00" * 16}, os.urandom(1200)),
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + "00" * 16}, bytes(1200)),
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + "00" * 16}, os.urandom(1201)),
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + "00" * 16}, os.urandom(32)),
        ({"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + "00" * 16}, b"EXAMPLE!" * 150),
    ],
    ids=[
        "iv-size",
        "no-dek-info",
        "unknown-cipher",
        "all-zero",
        "not-block-multiple",
        "too-short",
        "placeholder",
    ],
)
def test_legacy_encrypted_pem_rejects_implausible(headers: dict[str, str], body: bytes) -> None:
    assert inspect_key(armor("RSA PRIVATE KEY", body, headers)) is None


def test_post_quantum_pkcs8() -> None:
    mldsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mldsa")
    key = mldsa.MLDSA65PrivateKey.generate()
    info = inspect_key(pem(key, Fmt.PKCS8))
    assert info == KeyInfo("pkcs8", "ML-DSA-65", False)  # no JWK form yet: no thumbprint
    assert load_private_key(pem(key, Fmt.PKCS8)) is not None


def test_pkcs8_with_an_algorithm_cryptography_cannot_load() -> None:
    # GOST R 34.10-2012 (1.2.643.7.1.1.1.1): well-formed PKCS#8, still a leaked private key.
    algorithm = der_encode(0x30, der_encode(0x06, bytes.fromhex("2a85030701010101")))
    inner = der_encode(0x04, der_encode(0x04, os.urandom(32)))
    der = der_encode(0x30, der_encode(0x02, b"\x00") + algorithm + inner)
    assert inspect_key(armor("PRIVATE KEY", der)) == KeyInfo("pkcs8", None, False)
    assert load_private_key(armor("PRIVATE KEY", der)) is None


def test_binary_der_and_bare_base64(rsa_key: rsa.RSAPrivateKey, ec_p256: Any) -> None:
    pkcs8 = rsa_key.private_bytes(Enc.DER, Fmt.PKCS8, NO_ENCRYPTION)
    sec1 = ec_p256.private_bytes(Enc.DER, Fmt.TraditionalOpenSSL, NO_ENCRYPTION)
    encrypted = rsa_key.private_bytes(
        Enc.DER, Fmt.PKCS8, serialization.BestAvailableEncryption(PASSWORD)
    )
    info = inspect_key(pkcs8)
    assert info is not None and info.format == "pkcs8" and info.bits == 2048
    sec1_info = inspect_key(sec1)
    assert sec1_info is not None and sec1_info.format == "sec1"
    assert inspect_key(encrypted) == KeyInfo("pkcs8-encrypted", None, True)
    # Java properties / env vars often hold the DER as bare base64 without PEM armour.
    assert inspect_key(base64.b64encode(pkcs8).decode()) == info
    assert inspect_key("\n".join(textwrap.wrap(base64.b64encode(pkcs8).decode(), 76))) == info
    loaded = load_private_key(encrypted, PASSWORD)
    assert loaded is not None and spki(loaded) == spki(rsa_key)


def test_finds_the_key_among_other_pem_blocks(
    ec_p256: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> None:
    cert_pem = certificate.public_bytes(Enc.PEM).decode()
    params = armor("EC PARAMETERS", bytes.fromhex("06082a8648ce3d030107"))
    key_pem = pem(ec_p256, Fmt.TraditionalOpenSSL)
    info = inspect_key(cert_pem + params + key_pem)
    assert info is not None and info.format == "sec1"
    assert info.thumbprint == reference_thumbprint(ec_p256.public_key())


def test_structure_wins_over_a_wrong_label(rsa_key: rsa.RSAPrivateKey) -> None:
    mislabelled = armor("RSA PRIVATE KEY", rsa_key.private_bytes(Enc.DER, Fmt.PKCS8, NO_ENCRYPTION))
    info = inspect_key(mislabelled)
    assert info is not None and info.format == "pkcs8" and info.algorithm == "RSA"


def test_corrupted_rsa_components_are_rejected(rsa_key: rsa.RSAPrivateKey) -> None:
    n = rsa_key.private_numbers()
    # Re-encode PKCS#1 with a wrong CRT coefficient: structurally valid, mathematically not.
    ints = [0, n.public_numbers.n, n.public_numbers.e, n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp + 2]
    body = b"".join(der_encode(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big")) for v in ints)
    assert inspect_key(armor("RSA PRIVATE KEY", der_encode(0x30, body))) is None


# ---------------------------------------------------------------------------------------------
# OpenSSH


@pytest.mark.parametrize("fixture", ["rsa_key", "ec_p256", "ec_p384", "ed25519_key"])
def test_openssh_unencrypted(request: pytest.FixtureRequest, fixture: str) -> None:
    key = request.getfixturevalue(fixture)
    text = pem(key, Fmt.OpenSSH)
    info = inspect_key(text)
    assert info is not None
    assert (info.format, info.encrypted, info.comment) == ("openssh", False, None)
    assert info.thumbprint == reference_thumbprint(key.public_key())
    assert _facts(info) == _facts(inspect_key(pem(key, Fmt.PKCS8)))
    loaded = load_private_key(text)
    assert loaded is not None and spki(loaded) == spki(key)


def _facts(info: KeyInfo | None) -> tuple[Any, ...]:
    assert info is not None
    return (info.algorithm, info.encrypted, info.bits, info.curve, info.thumbprint)


@pytest.mark.parametrize("fixture", ["rsa_key", "ed25519_key", "dsa_key"])
def test_openssh_hand_built_with_comment(request: pytest.FixtureRequest, fixture: str) -> None:
    key = request.getfixturevalue(fixture)
    keytype = ssh_keytype(key)
    section = openssh_plain_section(keytype, openssh_private_fields(key), "deploy@ci-runner")
    info = inspect_key(openssh_file(ssh_public_blob(key), section))
    assert info is not None and info.comment == "deploy@ci-runner" and not info.encrypted
    if fixture == "dsa_key":
        assert (info.algorithm, info.bits, info.thumbprint) == ("DSA", 1024, None)
    else:
        assert info.thumbprint == reference_thumbprint(key.public_key())
    loaded = load_private_key(openssh_file(ssh_public_blob(key), section))
    assert loaded is not None and spki(loaded) == spki(key)


@pytest.mark.parametrize(
    ("cipher", "trailer"),
    [
        ("aes256-ctr", b""),
        ("aes256-cbc", b""),
        ("aes256-gcm@openssh.com", os.urandom(16)),
        ("chacha20-poly1305@openssh.com", os.urandom(16)),
    ],
    ids=["aes256-ctr", "aes256-cbc", "aes256-gcm", "chacha20-poly1305"],
)
@pytest.mark.parametrize("fixture", ["rsa_key", "ec_p256", "ed25519_key"])
def test_openssh_encrypted(
    request: pytest.FixtureRequest, fixture: str, cipher: str, trailer: bytes
) -> None:
    # cryptography needs bcrypt to write encrypted OpenSSH keys, so the container is built by
    # hand: the private section is opaque ciphertext to the inspector anyway.
    key = request.getfixturevalue(fixture)
    text = openssh_file(
        ssh_public_blob(key),
        os.urandom(1024 if fixture == "rsa_key" else 160),
        cipher=cipher,
        kdf="bcrypt",
        kdf_options=bcrypt_options(),
        trailer=trailer,
    )
    info = inspect_key(text)
    assert info is not None and info.encrypted and info.format == "openssh"
    plain = inspect_key(pem(key, Fmt.PKCS8))
    assert plain is not None
    assert (info.algorithm, info.bits, info.curve) == (plain.algorithm, plain.bits, plain.curve)
    assert info.thumbprint == reference_thumbprint(key.public_key())  # public part is clear
    assert load_private_key(text) is None


def test_openssh_security_key_is_reported_without_thumbprint(
    ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    keytype = "sk-ssh-ed25519@openssh.com"
    pk = ed25519_key.public_key().public_bytes_raw()
    public = sshstr(keytype) + sshstr(pk) + sshstr("ssh:")
    fields = sshstr(pk) + sshstr("ssh:") + b"\x01" + sshstr(os.urandom(64)) + sshstr(b"")
    text = openssh_file(public, openssh_plain_section(keytype, fields, "yubikey"))
    assert inspect_key(text) == KeyInfo("openssh", "Ed25519-SK", False, 256, None, None, "yubikey")
    assert load_private_key(text) is None


def test_openssh_malformed(ed25519_key: ed25519.Ed25519PrivateKey) -> None:
    public = ssh_public_blob(ed25519_key)
    fields = openssh_private_fields(ed25519_key)
    broken_check = openssh_plain_section("ssh-ed25519", fields, "", checkints=(1, 2))
    assert inspect_key(openssh_file(public, broken_check)) is None
    good = openssh_plain_section("ssh-ed25519", fields, "")
    assert inspect_key(openssh_file(public, good)) is not None
    # cipher "none" with a KDF, an unknown cipher, zeros posing as ciphertext, wrong key type
    assert inspect_key(openssh_file(public, good, kdf="bcrypt")) is None
    for cipher, section in (("rot13", os.urandom(160)), ("aes256-ctr", bytes(160))):
        encrypted = openssh_file(
            public, section, cipher=cipher, kdf="bcrypt", kdf_options=bcrypt_options()
        )
        assert inspect_key(encrypted) is None
    other = ed25519.Ed25519PrivateKey.generate()
    mismatched = openssh_plain_section("ssh-ed25519", openssh_private_fields(other), "")
    assert inspect_key(openssh_file(public, mismatched)) is None
    lines = openssh_file(public, good).splitlines()
    assert inspect_key("\n".join(lines[:-2] + lines[-1:])) is None  # last body line lost


# ---------------------------------------------------------------------------------------------
# PuTTY


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize(
    "fixture", ["rsa_key", "ec_p256", "ec_p384", "ed25519_key", "ed448_key", "dsa_key"]
)
def test_putty_unencrypted(request: pytest.FixtureRequest, fixture: str, version: int) -> None:
    key = request.getfixturevalue(fixture)
    text = ppk(version, key, comment="rsa-key-20240101 ops laptop")
    info = inspect_key(text)
    assert info is not None
    assert (info.format, info.encrypted) == (f"putty-v{version}", False)
    assert info.comment == "rsa-key-20240101 ops laptop"
    expected = None if fixture == "dsa_key" else reference_thumbprint(key.public_key())
    assert info.thumbprint == expected
    loaded = load_private_key(text)
    assert loaded is not None and spki(loaded) == spki(key)
    assert inspect_key(text.replace("\n", "\r\n")) == info  # Windows line endings


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("fixture", ["rsa_key", "ed25519_key", "ec_p256"])
def test_putty_encrypted(request: pytest.FixtureRequest, fixture: str, version: int) -> None:
    key = request.getfixturevalue(fixture)
    text = ppk(version, key, comment="laptop", passphrase=PASSWORD)
    assert "Encryption: aes256-cbc" in text
    info = inspect_key(text)
    assert info is not None and info.encrypted and info.format == f"putty-v{version}"
    assert info.comment == "laptop"  # the comment is clear text in a PPK
    assert info.thumbprint == reference_thumbprint(key.public_key())
    assert load_private_key(text) is None
    assert load_private_key(text, b"not it") is None
    loaded = load_private_key(text, PASSWORD)
    assert loaded is not None and spki(loaded) == spki(key)


def test_putty_comment_with_backslashes_is_not_unescaped(ed25519_key: Any) -> None:
    info = inspect_key(ppk(3, ed25519_key, comment="C:\\keys\\new\\deploy"))
    assert info is not None and info.comment == "C:\\keys\\new\\deploy"


def test_putty_malformed(rsa_key: rsa.RSAPrivateKey, ed25519_key: Any) -> None:
    other = ed25519.Ed25519PrivateKey.generate()
    assert inspect_key(ppk(3, ed25519_key, private_blob=putty_private_blob(other))) is None
    good = ppk(2, rsa_key)
    assert inspect_key(good) is not None
    without_mac = "\n".join(line for line in good.splitlines() if "Private-MAC" not in line)
    assert inspect_key(without_mac) is None
    assert inspect_key(good.replace("Public-Lines: ", "Public-Lines: 9")) is None
    assert inspect_key(good.replace("File-2:", "File-1:")) is None
    assert inspect_key(good.replace("Encryption: none", "Encryption: des-cbc")) is None
    assert inspect_key(good.replace("ssh-rsa\n", "ssh-ed25519\n", 1)) is None
    encrypted_v3 = ppk(3, ed25519_key, passphrase=PASSWORD)
    assert inspect_key(encrypted_v3.replace("Argon2id", "Argon2x")) is None


# ---------------------------------------------------------------------------------------------
# JWK / JWKS


@pytest.mark.parametrize("fixture", ["rsa_key", "ec_p256", "ec_p384", "ed25519_key"])
def test_private_jwk(request: pytest.FixtureRequest, fixture: str) -> None:
    key = request.getfixturevalue(fixture)
    jwk = private_jwk(key)
    info = inspect_key(json.dumps(jwk))
    assert info is not None and (info.format, info.encrypted) == ("jwk", False)
    assert info.thumbprint == reference_thumbprint(key.public_key()) == jwk_thumbprint(jwk)
    loaded = load_private_key(json.dumps(jwk, indent=2))
    assert loaded is not None and spki(loaded) == spki(key)


def test_jwks_uses_first_private_key(rsa_key: rsa.RSAPrivateKey, ec_p256: Any) -> None:
    public_only = public_jwk(rsa_key)
    document = {"keys": [public_only, private_jwk(ec_p256), private_jwk(rsa_key)]}
    info = inspect_key(json.dumps(document))
    assert info is not None and info.algorithm == "EC"
    assert info.thumbprint == reference_thumbprint(ec_p256.public_key())
    assert inspect_key(json.dumps({"keys": [public_only]})) is None
    assert inspect_key(json.dumps(public_only)) is None


def test_rsa_jwk_with_only_private_exponent(rsa_key: rsa.RSAPrivateKey) -> None:
    jwk = {k: v for k, v in private_jwk(rsa_key).items() if k in ("kty", "n", "e", "d")}
    info = inspect_key(json.dumps(jwk))
    assert info is not None and info.thumbprint == reference_thumbprint(rsa_key.public_key())
    loaded = load_private_key(json.dumps(jwk))
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == rsa_key.private_numbers()


def test_jwk_tampering_and_placeholders(rsa_key: rsa.RSAPrivateKey, ec_p256: Any) -> None:
    ec_jwk = private_jwk(ec_p256)
    wrong_d = ec_jwk | {"d": b64u_int(ec_p256.private_numbers().private_value ^ 1, 32)}
    assert inspect_key(json.dumps(wrong_d)) is None
    rsa_jwk = private_jwk(rsa_key)
    assert inspect_key(json.dumps(rsa_jwk | {"qi": rsa_jwk["dp"]})) is None
    assert inspect_key(json.dumps(rsa_jwk | {"d": "..."})) is None
    partial_crt = {k: v for k, v in rsa_jwk.items() if k != "dq"}
    assert inspect_key(json.dumps(partial_crt)) is None
    okp = private_jwk(ed25519.Ed25519PrivateKey.generate())
    other_x = b64u(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    assert inspect_key(json.dumps(okp | {"x": other_x})) is None
    assert inspect_key(json.dumps({"kty": "oct", "k": b64u(os.urandom(32)), "d": "x"})) is None
    assert inspect_key('{"kty": "RSA", "d": "<your key here>"}') is None


# ---------------------------------------------------------------------------------------------
# Escaped and wrapped keys, normalize_key_text


def _java_concat(text: str) -> str:
    lines = text.strip().split("\n")
    return 'String key = "' + '\\n" +\n    "'.join(lines) + '\\n";'


def _python_parens(text: str) -> str:
    return "KEY = (\n" + "\n".join(f'    "{line}\\n"' for line in text.strip().split("\n")) + "\n)"


def _base64_wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(base64.b64encode(text.encode()).decode(), 76))


def _gson_escapes(text: str) -> str:
    """Gson writes "=" and friends as \\u escapes."""
    return json.dumps(text).replace("+", "\\u002b").replace("=", "\\u003d")


ESCAPINGS: list[tuple[str, Callable[[str], str | bytes]]] = [
    ("json string", lambda t: json.dumps(t)),
    ("json object", lambda t: json.dumps({"type": "service_account", "private_key": t})),
    ("dotenv", lambda t: 'PRIVATE_KEY="' + t.replace("\n", "\\n") + '"'),
    ("single quotes", lambda t: "'" + t.replace("\n", "\\n") + "'"),
    ("double escaped", lambda t: t.replace("\n", "\\\\n")),
    ("escaped crlf", lambda t: t.replace("\n", "\\r\\n")),
    ("crlf", lambda t: t.replace("\n", "\r\n")),
    ("yaml block", lambda t: "key: |\n" + textwrap.indent(t, "    ")),
    ("folded to spaces", lambda t: t.replace("\n", " ")),
    ("newlines dropped", lambda t: t.replace("\n", "")),
    ("java concatenation", _java_concat),
    ("python implicit concatenation", _python_parens),
    ("xml entities", lambda t: t.replace("\n", "&#10;")),
    ("shell comments", lambda t: textwrap.indent(t, "# ")),
    ("base64 (k8s secret)", lambda t: base64.b64encode(t.encode()).decode()),
    ("base64 wrapped", _base64_wrapped),
    ("base64 of escaped", lambda t: base64.b64encode(json.dumps(t).encode()).decode()),
    ("utf-16 bytes", lambda t: t.encode("utf-16")),
    ("json unicode escapes", _gson_escapes),
]


@pytest.mark.parametrize(("name", "transform"), ESCAPINGS, ids=[e[0] for e in ESCAPINGS])
@pytest.mark.parametrize("fixture", ["rsa_key", "ec_p256"])
def test_escaped_and_wrapped_pem(
    request: pytest.FixtureRequest, fixture: str, name: str, transform: Callable[[str], Any]
) -> None:
    key = request.getfixturevalue(fixture)
    text = pem(key, Fmt.TraditionalOpenSSL)
    expected = inspect_key(text)
    assert expected is not None
    assert inspect_key(transform(text)) == expected, name


@pytest.mark.parametrize("name", ["json string", "dotenv", "base64 (k8s secret)", "crlf"])
def test_escaped_openssh_and_putty(ed25519_key: Any, name: str) -> None:
    transform = dict(ESCAPINGS)[name]
    for text in (pem(ed25519_key, Fmt.OpenSSH), ppk(3, ed25519_key, comment="c")):
        expected = inspect_key(text)
        assert expected is not None
        assert inspect_key(transform(text)) == expected


def test_escaped_jwk(ec_p256: ec.EllipticCurvePrivateKey) -> None:
    document = json.dumps(private_jwk(ec_p256))
    expected = inspect_key(document)
    assert expected is not None
    assert inspect_key(json.dumps(document)) == expected  # JWK stored as a JSON string
    assert inspect_key(base64.b64encode(document.encode()).decode()) == expected


def test_normalize_key_text() -> None:
    body = armor_text("PRIVATE KEY", "QUJD\nREVG")
    assert normalize_key_text(json.dumps(body)) == body.strip()
    assert normalize_key_text(body.replace("\n", "\\n")) == body.strip()
    assert normalize_key_text(body.replace("\n", "\\\\n")) == body.strip()
    assert normalize_key_text(body.replace("\n", "\r\n")) == body.strip()
    assert normalize_key_text(textwrap.indent(body, "      ")) == body.strip()
    assert normalize_key_text(base64.b64encode(body.encode()).decode()) == body.strip()
    assert normalize_key_text(f"'{body.strip()}'") == body.strip()
    assert normalize_key_text(f'b"{body.strip()}",') == body.strip()
    wrapped = "tls.key: " + base64.b64encode(body.encode()).decode()
    assert normalize_key_text(wrapped) == body.strip()
    assert normalize_key_text("not a key") == "not a key"
    assert normalize_key_text("\\\\\\") == "\\\\\\"
    assert normalize_key_text('{"a": ""}') == '{"a": ""}'  # JSON is left alone


# ---------------------------------------------------------------------------------------------
# Things that are not usable private keys


def test_rejects_public_material(
    rsa_key: rsa.RSAPrivateKey, ed25519_key: Any, certificate: x509.Certificate
) -> None:
    public = rsa_key.public_key()
    assert inspect_key(certificate.public_bytes(Enc.PEM)) is None
    assert inspect_key(certificate.public_bytes(Enc.DER)) is None
    spki_pem = public.public_bytes(Enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert inspect_key(spki_pem) is None
    assert inspect_key(public.public_bytes(Enc.PEM, serialization.PublicFormat.PKCS1)) is None
    assert inspect_key(public.public_bytes(Enc.DER, serialization.PublicFormat.PKCS1)) is None
    for key in (rsa_key, ed25519_key):
        line = key.public_key().public_bytes(Enc.OpenSSH, serialization.PublicFormat.OpenSSH)
        assert inspect_key(line + b" user@host") is None
        assert inspect_key(line) is None
    # the public key blob relabelled as a private key is still not a private key
    assert inspect_key(armor("PRIVATE KEY", spki(rsa_key))) is None


def test_rejects_truncated(rsa_key: rsa.RSAPrivateKey, ed25519_key: Any) -> None:
    text = pem(rsa_key, Fmt.PKCS8)
    assert inspect_key(text[: len(text) // 2]) is None
    lines = text.splitlines()
    assert inspect_key("\n".join(lines[:5] + lines[-1:])) is None  # middle lines lost
    assert inspect_key("\n".join(lines[:-1])) is None  # END line lost
    ssh = pem(ed25519_key, Fmt.OpenSSH)
    assert inspect_key(ssh[: len(ssh) // 2]) is None
    putty = ppk(2, ed25519_key)
    assert inspect_key(putty[: putty.index("Private-Lines")]) is None


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("RSA PRIVATE KEY", "..."),
        ("RSA PRIVATE KEY", "<your key here>"),
        ("PRIVATE KEY", "MIIE...EXAMPLE"),
        ("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ" + "EXAMPLEKEY" * 40),
        ("PRIVATE KEY", "A" * 1600),
        ("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI" + "A" * 1600),
        ("EC PRIVATE KEY", "REPLACE_ME"),
        ("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA" + "A" * 400),
        ("OPENSSH PRIVATE KEY", "..."),
        ("DSA PRIVATE KEY", ""),
    ],
)
def test_rejects_placeholders(label: str, body: str) -> None:
    text = armor_text(label, "\n".join(textwrap.wrap(body, 64)))
    assert inspect_key(text) is None
    assert load_private_key(text) is None


def test_rejects_noise() -> None:
    assert inspect_key(b"") is None
    assert inspect_key("") is None
    assert inspect_key(os.urandom(4096)) is None
    assert inspect_key(b"\x30" + os.urandom(4095)) is None
    assert inspect_key(base64.b64encode(os.urandom(3000)).decode()) is None
    assert inspect_key(base64.b64encode(b"\x30\x82\x04\xa0" + os.urandom(1184)).decode()) is None
    assert inspect_key("password=hunter2") is None
    assert inspect_key("{") is None
    assert inspect_key("[" * 100_000) is None  # JSON nesting beyond the recursion limit
    assert inspect_key("PuTTY-User-Key-File-3: ssh-rsa\nPublic-Lines: 99999999") is None


def test_rejects_oversized_input(rsa_key: rsa.RSAPrivateKey) -> None:
    text = pem(rsa_key, Fmt.PKCS8) + " " * MAX_INPUT_BYTES
    started = time.perf_counter()
    assert inspect_key(text) is None
    assert inspect_key(text.encode()) is None
    assert load_private_key(text) is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "make",
    [
        lambda: armor_text("RSA PRIVATE KEY", "").split("\n")[0] * 30_000,
        lambda: armor_text("RSA PRIVATE KEY", "A") * 15_000,
        lambda: "\\" * (MAX_INPUT_BYTES - 1),
        lambda: '"' * (MAX_INPUT_BYTES - 1),
        lambda: '" ' * (MAX_INPUT_BYTES // 2 - 8) + "-----" + "BEGIN",
        lambda: "LS0tLS1CRUdJTi" + "A" * (MAX_INPUT_BYTES - 100),
        lambda: "A" * (MAX_INPUT_BYTES - 1),
        lambda: "-" * (MAX_INPUT_BYTES - 1),
        lambda: "PuTTY-User-Key-File-2: ssh-rsa\n" + "Comment: x\n" * 90_000,
        lambda: "# \n" * 300_000,
        lambda: '{"kty":"RSA","d":"x","keys":' * 30_000,
        lambda: "[" + "0," * 520_000 + "0]",
        lambda: '{"keys": [' + '{"kty": "EC", "d": "x"},' * 40_000 + "{}]}",
    ],
)
def test_pathological_inputs_stay_fast(make: Callable[[], str]) -> None:
    text = make()
    assert len(text) <= MAX_INPUT_BYTES
    started = time.perf_counter()
    assert inspect_key(text) is None
    assert inspect_key(text.encode()) is None
    assert time.perf_counter() - started < 3.0


def test_key_info_never_carries_key_material(rsa_key: rsa.RSAPrivateKey) -> None:
    text = pem(rsa_key, Fmt.TraditionalOpenSSL)
    rendered = repr(inspect_key(text))
    for line in text.splitlines()[1:-1]:
        assert line[:16] not in rendered


# ---------------------------------------------------------------------------------------------
# JWK helpers and RFC 7638


RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM"
    "4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)


def test_rfc7638_example_thumbprint() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    n = int.from_bytes(base64.urlsafe_b64decode(RFC7638_N + "=="), "big")
    key = rsa.RSAPublicNumbers(65537, n).public_key()
    assert jwk_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize(
    "fixture", ["rsa_key", "ec_p256", "ec_p384", "ed25519_key", "ed448_key", "x25519_key"]
)
def test_public_jwk_and_thumbprint_agree_with_pyjwt(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    key = request.getfixturevalue(fixture)
    jwk = public_jwk(key)
    assert jwk == public_jwk(key.public_key())
    if fixture == "x25519_key":
        raw = key.public_key().public_bytes_raw()
        assert jwk == {"kty": "OKP", "crv": "X25519", "x": b64u(raw)}
    else:
        algorithm: Any = {"rsa_key": RSAAlgorithm, "ec_p256": ECAlgorithm, "ec_p384": ECAlgorithm}
        reference = algorithm.get(fixture, OKPAlgorithm).to_jwk(key.public_key(), as_dict=True)
        assert jwk == {name: reference[name] for name in jwk}
        assert set(reference) - set(jwk) <= {"key_ops"}  # PyJWT adds key_ops for RSA
    assert jwk_thumbprint(key) == jwk_thumbprint(jwk) == reference_thumbprint(key.public_key())


def test_public_jwk_pads_ec_coordinates() -> None:
    key = ec.generate_private_key(ec.SECP521R1())
    jwk = public_jwk(key)
    assert jwk["crv"] == "P-521"
    assert len(base64.urlsafe_b64decode(jwk["x"] + "==")) == 66
    assert len(base64.urlsafe_b64decode(jwk["y"] + "==")) == 66


def test_thumbprint_ignores_private_and_extra_members(rsa_key: rsa.RSAPrivateKey) -> None:
    full = private_jwk(rsa_key) | {"kid": "k1", "use": "sig", "alg": "RS256"}
    assert jwk_thumbprint(full) == jwk_thumbprint(public_jwk(rsa_key))


def test_jwk_errors_do_not_leak_material(dsa_key: dsa.DSAPrivateKey) -> None:
    secretish = b64u(os.urandom(48))
    with pytest.raises(KeyParseError) as missing:
        jwk_thumbprint({"kty": "RSA", "d": secretish, "n": secretish})
    assert secretish not in str(missing.value)
    with pytest.raises(KeyParseError):
        jwk_thumbprint({"kty": "XYZ", "x": secretish})
    with pytest.raises(KeyParseError):
        jwk_thumbprint({"n": secretish, "e": "AQAB"})
    with pytest.raises(KeyParseError):
        public_jwk(dsa_key)
    with pytest.raises(ValueError):  # KeyParseError is a ValueError for callers
        public_jwk(ec.generate_private_key(ec.BrainpoolP256R1()))


# ---------------------------------------------------------------------------------------------
# PKCS#12 and Java keystores


def test_pkcs12_without_password(ec_p256: ec.EllipticCurvePrivateKey) -> None:
    result = inspect_pkcs12(p12(ec_p256, None))
    assert result.opened and result.password_kind == "empty" and result.is_pkcs12
    assert result.keys == (
        KeyInfo("pkcs12", "EC", False, 256, "P-256", reference_thumbprint(ec_p256.public_key())),
    )
    assert len(result.key_objects) == 1 and spki(result.key_objects[0]) == spki(ec_p256)
    assert "key_objects" not in repr(result)


def test_pkcs12_with_trivial_password(rsa_key: rsa.RSAPrivateKey) -> None:
    data = p12(rsa_key, b"changeit")
    result = inspect_pkcs12(data)
    assert result.opened and result.password_kind == "guessable"
    assert result.keys[0].thumbprint == reference_thumbprint(rsa_key.public_key())
    assert b"changeit" not in repr(result).encode()
    assert inspect_pkcs12(base64.b64encode(data)) == result  # as stored in config files
    assert inspect_pkcs12(data, passwords=[b"nope"]) == Pkcs12Result(False, None, is_pkcs12=True)


def test_pkcs12_with_strong_password(ed25519_key: Any) -> None:
    strong = base64.b64encode(os.urandom(24))
    assert strong not in TRIVIAL_PASSWORDS
    result = inspect_pkcs12(p12(ed25519_key, strong))
    assert (result.opened, result.password_kind, result.keys) == (False, None, ())
    assert result.is_pkcs12
    opened = inspect_pkcs12(p12(ed25519_key, strong), passwords=[b"x", strong])
    assert opened.opened and opened.password_kind == "guessable"


def test_pkcs12_truststore_without_keys(ec_p256: Any, certificate: x509.Certificate) -> None:
    data = pkcs12.serialize_key_and_certificates(b"ca", None, certificate, None, NO_ENCRYPTION)
    result = inspect_pkcs12(data)
    assert result.opened and result.keys == () and result.password_kind == "empty"


def test_pkcs12_refuses_huge_iteration_counts(ec_p256: ec.EllipticCurvePrivateKey) -> None:
    data = with_mac_iterations(p12(ec_p256, b"changeit"), 2_000_000_000)
    started = time.perf_counter()
    result = inspect_pkcs12(data)
    assert time.perf_counter() - started < 1.0
    assert (result.opened, result.is_pkcs12) == (False, True)
    sane = with_mac_iterations(p12(ec_p256, b"changeit"), 2048)
    assert inspect_pkcs12(sane).opened


def test_pkcs12_rejects_non_pfx() -> None:
    for data in (b"", os.urandom(2048), b"\x30\x03\x02\x01\x03", b"not base64 !!"):
        assert inspect_pkcs12(data) == Pkcs12Result(False, None)
    assert inspect_pkcs12(b"\x30" * (MAX_INPUT_BYTES + 1)) == Pkcs12Result(False, None)


def test_is_java_keystore(ec_p256: Any) -> None:
    jks = b"\xfe\xed\xfe\xed" + struct.pack(">II", 2, 1) + os.urandom(64)
    assert is_java_keystore(jks) == "jks"
    assert is_java_keystore(b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)) == "jceks"
    assert is_java_keystore(b"\xfe\xed\xfe\xed" + struct.pack(">I", 7)) is None
    assert is_java_keystore(b"\xfe\xed\xfe\xed") is None
    assert is_java_keystore(p12(ec_p256, None)) is None


# ---------------------------------------------------------------------------------------------
# Never raises


def parse_without_safety_net(data: str | bytes) -> None:
    """inspect_key has a last-resort catch-all; drive the parsers underneath it so that only
    the expected "malformed input" errors may be absorbed and any other bug fails the test."""
    for candidate in keys._candidates(data):
        assert isinstance(candidate.info, KeyInfo)
        keys._guarded(candidate.load, None)  # how load_private_key calls it
        keys._guarded(candidate.load, PASSWORD)
    if isinstance(data, bytes):
        assert isinstance(keys._open_pkcs12(data, TRIVIAL_PASSWORDS[:3]), Pkcs12Result)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_inspect_never_raises(data: str | bytes) -> None:
    parse_without_safety_net(data)
    info = inspect_key(data)
    assert info is None or isinstance(info, KeyInfo)
    assert load_private_key(data) is None or info is not None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('-BEGINDPRVATEKYSOH \n\\"+/=A0{}[]:,'), max_size=400))
def test_inspect_never_raises_on_key_shaped_text(text: str) -> None:
    parse_without_safety_net(text)
    parse_without_safety_net(armor_text("PRIVATE KEY", text))
    parse_without_safety_net(armor_text("OPENSSH PRIVATE KEY", text))
    assert inspect_key(text) is None


@pytest.fixture(scope="module")
def valid_encodings(
    rsa_key: rsa.RSAPrivateKey, ec_p256: Any, ed25519_key: Any, dsa_key: Any
) -> list[bytes]:
    encrypted = serialization.BestAvailableEncryption(PASSWORD)
    return [
        pem(ec_p256, Fmt.TraditionalOpenSSL).encode(),
        pem(ec_p256, Fmt.PKCS8, encrypted).encode(),
        pem(rsa_key, Fmt.TraditionalOpenSSL, encrypted).encode(),
        pem(ed25519_key, Fmt.OpenSSH).encode(),
        ppk(3, ec_p256, comment="fuzz").encode(),
        ppk(2, dsa_key, passphrase=PASSWORD).encode(),
        json.dumps(private_jwk(ec_p256)).encode(),
        ec_p256.private_bytes(Enc.DER, Fmt.PKCS8, NO_ENCRYPTION),
        p12(ec_p256, b"changeit"),
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_keys_never_raise(valid_encodings: list[bytes], data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(valid_encodings))
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip" and mutated:
            mutated[position] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del mutated[position:]
        elif action == "insert":
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif mutated:
            del mutated[position]
    blob = bytes(mutated)
    parse_without_safety_net(blob)
    parse_without_safety_net(blob.decode("latin-1"))
    assert isinstance(inspect_pkcs12(blob), Pkcs12Result)


def test_key_kept_as_json_string_lines_of_a_notebook_cell(ec_p256) -> None:
    """A notebook stores a cell as a list of JSON strings, one per line."""
    text = ec_p256.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cell = json.dumps([line + "\n" for line in text.splitlines()], indent=1)
    captured = cell[cell.index("-----BEGIN") : cell.rindex("-----") + 5]  # what the rule matches
    info = inspect_key(captured)
    assert info is not None and info.algorithm == "EC" and not info.encrypted
