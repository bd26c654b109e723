"""Private key inspection: what a candidate key is, whether it is encrypted, and the RFC 7638
thumbprint that links it to a registered OAuth client (private_key_jwt, mTLS).

Everything here reads hostile input. Inputs are capped at 1 MiB, binary structures are walked
with explicit bounds, attacker-chosen KDF costs are checked before any password is tried, and
the inspection entry points return None instead of raising on malformed data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, ParamSpec, TypeAlias, TypeVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PrivateKey: TypeAlias = PrivateKeyTypes
PublicKey: TypeAlias = PublicKeyTypes

MAX_INPUT_BYTES: Final = 1 << 20

TRIVIAL_PASSWORDS: tuple[bytes, ...] = (
    b"",
    b"changeit",
    b"password",
    b"android",
    b"123456",
    b"secret",
    b"changeme",
    b"keystore",
    b"pass",
    b"test",
    b"12345678",
    b"1234",
    b"server",
    b"client",
)


@dataclass(frozen=True)
class KeyInfo:
    """What a private key is, without any of its secret parts (safe to log and report)."""

    format: str
    algorithm: str | None
    encrypted: bool
    bits: int | None = None
    curve: str | None = None
    thumbprint: str | None = None
    comment: str | None = None


class KeyParseError(ValueError):
    """A key or JWK could not be used. Messages never contain key material."""


@dataclass(frozen=True)
class Pkcs12Result:
    """Outcome of trying trivial passwords on a PKCS#12 file; never records the password."""

    opened: bool
    password_kind: str | None  # "empty" | "guessable" | None
    keys: tuple[KeyInfo, ...] = ()
    is_pkcs12: bool = False  # structurally a PFX, whether or not it opened
    key_objects: tuple[PrivateKeyTypes, ...] = field(default=(), repr=False, compare=False)


def inspect_key(text: str | bytes) -> KeyInfo | None:
    """Identify the private key in a candidate match, or None when it is not a usable one.

    Certificates, public keys, truncated or corrupt data, placeholder bodies and JWKs without
    "d" give None; so does anything else the parsers reject (this never raises).
    """
    try:
        for candidate in _candidates(text):
            return candidate.info
    except Exception:  # a hostile blob must never abort a scan
        return None
    return None


def load_private_key(text: str | bytes, password: bytes | None = None) -> PrivateKey | None:
    """Return a cryptography private key object (to sign RFC 7523 client assertions).

    None when the key is encrypted and no working password is given, or cannot be parsed.
    """
    try:
        for candidate in _candidates(text):
            key = _guarded(candidate.load, password)
            if key is not None:
                return key
    except Exception:  # same contract as inspect_key: bad input is None, not a crash
        return None
    return None


def public_jwk(key: PrivateKeyTypes | PublicKeyTypes) -> dict[str, str]:
    """RFC 7517 public JWK (kty, n/e or crv/x/y) of a private or public key object.

    Raises KeyParseError for key types JOSE cannot express (DSA, DH, curves without a JWK name).
    """
    public = _public_of(key)
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64u_uint(numbers.n), "e": _b64u_uint(numbers.e)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        crv = _JWK_CURVE_BY_NAME.get(public.curve.name)
        if crv is None:
            raise KeyParseError(f"curve {public.curve.name} has no JWK name")
        size = (public.curve.key_size + 7) // 8
        point = public.public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": _b64u(point.x.to_bytes(size, "big")),
            "y": _b64u(point.y.to_bytes(size, "big")),
        }
    for okp_type, crv in _OKP_PUBLIC_TYPES:
        if isinstance(public, okp_type):
            return {"kty": "OKP", "crv": crv, "x": _b64u(public.public_bytes_raw())}
    raise KeyParseError(f"{type(key).__name__} has no JWK representation")


def jwk_thumbprint(jwk_or_key: Mapping[str, object] | PrivateKeyTypes | PublicKeyTypes) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url, no padding) of a JWK dict or a key object.

    Only the required public members count, so a private JWK and its public half agree.
    """
    jwk: Mapping[str, object]
    jwk = jwk_or_key if isinstance(jwk_or_key, Mapping) else public_jwk(jwk_or_key)
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise KeyParseError("JWK has no supported kty")
    required: dict[str, str] = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise KeyParseError(f"JWK is missing member {name!r}")
        required[name] = value
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _b64u(hashlib.sha256(canonical.encode("utf-8")).digest())


def inspect_pkcs12(data: bytes, passwords: Iterable[bytes] = TRIVIAL_PASSWORDS) -> Pkcs12Result:
    """Try to open a PKCS#12 file (DER or base64) with trivial passwords.

    Key derivation costs visible in the file are checked first, so a crafted iteration count
    cannot stall a scan; password_kind says "empty" or "guessable", never which password.
    """
    try:
        return _open_pkcs12(data, passwords)
    except Exception:  # hostile input: report "not opened" rather than crash
        return Pkcs12Result(opened=False, password_kind=None)


def is_java_keystore(data: bytes) -> str | None:
    """Return "jks" or "jceks" when the bytes start like a Java keystore, else None.

    These formats need the store password to read and use no standard crypto we can open.
    """
    if len(data) < 8:
        return None
    magic, version = struct.unpack(">II", data[:8])
    if version not in (1, 2):
        return None
    return {0xFEEDFEED: "jks", 0xCECECECE: "jceks"}.get(magic)


def normalize_key_text(text: str) -> str:
    """Undo the escaping a key picks up inside code and config, so the parsers see plain text.

    Handles quotes, string concatenation, JSON/backslash/XML escapes, CRLF, indentation and
    comment prefixes, and base64-wrapped PEM (Kubernetes Secret data, env vars).
    """
    current = text
    for _ in range(_NORMALIZE_ROUNDS):
        previous = current
        current = current.strip().lstrip("\ufeff").strip()
        current = _unquote(current)
        current = _unescape(current)
        current = _strip_line_decorations(current)
        current = _unwrap_base64(current)
        if current == previous:
            break
    return current


# --------------------------------------------------------------------------------------------
# Limits and tables

_NORMALIZE_ROUNDS: Final = 4
_MAX_RSA_BITS: Final = 16384  # OpenSSL's own ceiling for RSA operations
_MAX_DSA_BITS: Final = 16384
_MAX_D_ONLY_RSA_BITS: Final = 8192  # a JWK with only n/e/d is checked with one modexp
_MAX_PEM_BLOCKS: Final = 64
_MAX_JWKS: Final = 64
_MAX_JSON_NODES: Final = 10_000
_MAX_DER_CHILDREN: Final = 32
_MAX_SSH_KEYS: Final = 8
_MAX_PUTTY_LINES: Final = 4096
_MAX_COMMENT: Final = 1024
_MAX_ENCRYPTED_BYTES: Final = 64 * 1024
_MAX_KDF_ITERATIONS: Final = 1_000_000  # any single PBKDF2/PBE/scrypt cost we agree to pay
_PKCS12_WORK_BUDGET: Final = 4_000_000  # total KDF iterations across all password attempts
_MAX_BER_STEPS: Final = 50_000
_MAX_BER_DEPTH: Final = 32
_MAX_BCRYPT_ROUNDS: Final = 512
_MAX_ARGON2_MEMORY_KIB: Final = 256 * 1024
_MAX_ARGON2_PASSES: Final = 64
_MAX_ARGON2_LANES: Final = 64

_JWK_CURVE_BY_NAME: Final = {
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "secp256k1": "secp256k1",
}
_JWK_CURVES: Final[dict[str, ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "secp256k1": ec.SECP256K1(),
}
_OKP_PUBLIC_TYPES: Final = (
    (ed25519.Ed25519PublicKey, "Ed25519"),
    (ed448.Ed448PublicKey, "Ed448"),
    (x25519.X25519PublicKey, "X25519"),
    (x448.X448PublicKey, "X448"),
)
_THUMBPRINT_MEMBERS: Final = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
# Named rather than imported: post-quantum classes are missing from older cryptography, and
# touching the finite-field DH module emits a deprecation warning in cryptography >= 50.
_NAMED_ALGORITHMS: Final = {
    f"{prefix}{kind}Key": name
    for prefix, name in (
        ("DH", "DH"),
        ("MLDSA44", "ML-DSA-44"),
        ("MLDSA65", "ML-DSA-65"),
        ("MLDSA87", "ML-DSA-87"),
        ("MLKEM512", "ML-KEM-512"),
        ("MLKEM768", "ML-KEM-768"),
        ("MLKEM1024", "ML-KEM-1024"),
    )
    for kind in ("Private", "Public")
}

# DER-encoded OID contents.
_PKCS8_ALGORITHMS: Final = {
    bytes.fromhex("2a864886f70d010101"): "RSA",
    bytes.fromhex("2a864886f70d01010a"): "RSA",  # RSASSA-PSS
    bytes.fromhex("2a8648ce3d0201"): "EC",
    bytes.fromhex("2a8648ce380401"): "DSA",
    bytes.fromhex("2b656e"): "X25519",
    bytes.fromhex("2b656f"): "X448",
    bytes.fromhex("2b6570"): "Ed25519",
    bytes.fromhex("2b6571"): "Ed448",
    bytes.fromhex("2a864886f70d010301"): "DH",
    bytes.fromhex("2a8648ce3e0201"): "DH",
    bytes.fromhex("608648016503040311"): "ML-DSA-44",
    bytes.fromhex("608648016503040312"): "ML-DSA-65",
    bytes.fromhex("608648016503040313"): "ML-DSA-87",
    bytes.fromhex("608648016503040401"): "ML-KEM-512",
    bytes.fromhex("608648016503040402"): "ML-KEM-768",
    bytes.fromhex("608648016503040403"): "ML-KEM-1024",
    bytes.fromhex("2a811ccf550182"): "SM2",
}
_OID_PBES2: Final = bytes.fromhex("2a864886f70d01050d")
_OID_PBKDF2: Final = bytes.fromhex("2a864886f70d01050c")
_OID_SCRYPT: Final = bytes.fromhex("2b06010401da47040b")
_OID_PKCS12_PBE: Final = frozenset(
    bytes.fromhex("2a864886f70d010c01") + bytes([n]) for n in range(1, 7)
)
_OID_PBES1: Final = frozenset(
    bytes.fromhex("2a864886f70d0105") + bytes([n]) for n in (1, 3, 4, 6, 10, 11)
)

_LEGACY_LABEL_ALGORITHMS: Final = {
    "RSA PRIVATE KEY": "RSA",
    "EC PRIVATE KEY": "EC",
    "DSA PRIVATE KEY": "DSA",
}
_LEGACY_MIN_BYTES: Final = {"RSA": 256, "DSA": 160, "EC": 48}
_LEGACY_BLOCK_SIZES: Final = {
    "AES": 16,
    "ARIA": 16,
    "CAMELLIA": 16,
    "SEED": 16,
    "SM4": 16,
    "DES": 8,
    "BF": 8,
    "CAST5": 8,
    "IDEA": 8,
    "RC2": 8,
}

_OPENSSH_MAGIC: Final = b"openssh-key-v1\x00"
_OPENSSH_CIPHER_BLOCKS: Final = {
    "3des-cbc": 8,
    "aes128-cbc": 16,
    "aes192-cbc": 16,
    "aes256-cbc": 16,
    "aes128-ctr": 16,
    "aes192-ctr": 16,
    "aes256-ctr": 16,
    "aes128-gcm@openssh.com": 16,
    "aes256-gcm@openssh.com": 16,
    "chacha20-poly1305@openssh.com": 8,
}
# Field layout after the key type in an unencrypted private section: m=mpint s=string b=byte.
_OPENSSH_PRIVATE_FIELDS: Final = {
    "ssh-rsa": "mmmmmm",
    "ssh-dss": "mmmmm",
    "ecdsa-sha2-nistp256": "ssm",
    "ecdsa-sha2-nistp384": "ssm",
    "ecdsa-sha2-nistp521": "ssm",
    "ssh-ed25519": "ss",
    "sk-ssh-ed25519@openssh.com": "ssbss",
    "sk-ecdsa-sha2-nistp256@openssh.com": "sssbss",
}
_SSH_CURVES: Final[dict[str, ec.EllipticCurve]] = {
    "nistp256": ec.SECP256R1(),
    "nistp384": ec.SECP384R1(),
    "nistp521": ec.SECP521R1(),
}
_ARGON2_FLAVOURS: Final = ("Argon2id", "Argon2i", "Argon2d")

_PEM_MARKER: Final = re.compile(r"-----(BEGIN|END) ([A-Z0-9][A-Z0-9 ]{0,62})-----")
_PEM_HEADER: Final = re.compile(r"[ \t\r\n]*([A-Za-z][A-Za-z0-9-]{0,39}):[ \t]*")
_PROC_TYPE_VALUE: Final = re.compile(r"(\d{1,3})[ \t]*,[ \t]*([A-Z-]{1,20})")
_DEK_INFO_VALUE: Final = re.compile(r"([A-Za-z0-9-]{1,40})[ \t]*,[ \t]*([0-9A-Fa-f]{1,64})")
_OTHER_HEADER_VALUE: Final = re.compile(r"[^\r\n]*")
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_BASE64_ANY: Final = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_+/-]*={0,2}")
_EMBEDDED_BASE64_PEM: Final = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=\s]*")
_PUTTY_FIRST_LINE: Final = re.compile(r"PuTTY-User-Key-File-(\d+):[ \t]*([\x21-\x7e]{1,64})")
_PUTTY_HEADER: Final = re.compile(r"([A-Za-z0-9-]{1,40}):[ \t]*(.*)")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")
_CONCATENATION: Final = re.compile(r"([\"'])\s*(?:(?:\+|\.|&|\|\|)\s*)?\1")
_BACKSLASH_ESCAPE: Final = re.compile(r"\\+(?:u([0-9A-Fa-f]{4})|([nrt/\"']))?")
_XML_NEWLINE: Final = re.compile(r"&#(?:10|13|[xX]0*[aAdD]);")
_LINE_PREFIX: Final = re.compile(r"(?:#+[ \t]*|(?:\*+|>+|;+|//|--)[ \t]+)")
_TEXT_MARKERS: Final = ("-----BEGIN", "PuTTY-User-Key-File-")

_RECOVERABLE: Final = (
    ValueError,  # includes KeyParseError, binascii.Error, UnicodeError, JSONDecodeError
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    UnsupportedAlgorithm,
    struct.error,
)

_Loader: TypeAlias = Callable[[bytes | None], PrivateKeyTypes | None]
_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class _Candidate:
    info: KeyInfo
    load: _Loader = field(repr=False)


@dataclass(frozen=True)
class _SshPublic:
    keytype: str
    algorithm: str
    bits: int | None
    curve: str | None
    key: PublicKeyTypes | None  # None for DSA, which JOSE cannot name anyway
    ints: tuple[int, ...] = ()  # RSA (e, n) or DSA (p, q, g, y)
    security_key: bool = False


# --------------------------------------------------------------------------------------------
# Dispatch


def _candidates(data: str | bytes) -> Iterator[_Candidate]:
    """Every private key found in the input, in document order."""
    if len(data) > MAX_INPUT_BYTES:
        return
    if isinstance(data, bytes):
        if data[:1] == b"\x30":
            candidate = _guarded(_der_key, data)
            if candidate is not None:
                yield candidate
                return
        text = _decode_text(data)
    else:
        text = data
    text = normalize_key_text(text)
    if "-----BEGIN" in text:
        yield from _pem_candidates(text)
    if "PuTTY-User-Key-File-" in text:
        candidate = _guarded(_putty_key, text)
        if candidate is not None:
            yield candidate
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        yield from _json_candidates(stripped)
    elif not any(marker in text for marker in _TEXT_MARKERS):
        candidate = _guarded(_bare_base64_key, stripped)
        if candidate is not None:
            yield candidate


def _guarded(fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R | None:
    """Run one parser; a malformed structure means "not this kind of key", not an error."""
    try:
        return fn(*args, **kwargs)
    except _RECOVERABLE:
        return None


def _plain(info: KeyInfo, key: PrivateKeyTypes | None) -> _Candidate:
    return _Candidate(info, lambda _password: key)


def _locked(info: KeyInfo, decrypt: Callable[[bytes], PrivateKeyTypes | None]) -> _Candidate:
    def load(password: bytes | None) -> PrivateKeyTypes | None:
        return None if password is None else decrypt(password)

    return _Candidate(info, load)


# --------------------------------------------------------------------------------------------
# PEM, DER, PKCS#1/#8, SEC1, legacy OpenSSL encryption


def _pem_candidates(text: str) -> Iterator[_Candidate]:
    """Pair BEGIN/END markers in one linear pass and parse each private-key block."""
    begin: re.Match[str] | None = None
    attempts = 0
    for marker in _PEM_MARKER.finditer(text):
        if marker.group(1) == "BEGIN":
            begin = marker
            continue
        if begin is None or begin.group(2) != marker.group(2):
            begin = None
            continue
        label, body = marker.group(2), text[begin.end() : marker.start()]
        begin = None
        if not label.endswith("PRIVATE KEY"):
            continue
        attempts += 1
        if attempts > _MAX_PEM_BLOCKS:
            return
        candidate = _guarded(_pem_key, label, body)
        if candidate is not None:
            yield candidate


def _pem_key(label: str, body: str) -> _Candidate:
    if label == "OPENSSH PRIVATE KEY":
        return _openssh_key(_b64_body(body))
    headers, payload = _split_pem_headers(body)
    if headers.get("Proc-Type") == "4,ENCRYPTED":
        return _legacy_encrypted_key(label, headers, payload)
    return _der_key(_b64_body(payload))


def _split_pem_headers(body: str) -> tuple[dict[str, str], str]:
    """RFC 1421 headers (Proc-Type, DEK-Info) even when newlines were collapsed to spaces."""
    headers: dict[str, str] = {}
    pos = 0
    while len(headers) < 8:
        match = _PEM_HEADER.match(body, pos)
        if match is None:
            break
        name = match.group(1)
        value_pattern = {"Proc-Type": _PROC_TYPE_VALUE, "DEK-Info": _DEK_INFO_VALUE}.get(
            name, _OTHER_HEADER_VALUE
        )
        value = value_pattern.match(body, match.end())
        if value is None:
            raise KeyParseError("malformed PEM header")
        if value_pattern is _OTHER_HEADER_VALUE:
            headers[name] = value.group(0).strip()
        else:
            headers[name] = f"{value.group(1).upper()},{value.group(2).upper()}"
        pos = value.end()
    return headers, body[pos:]


def _legacy_encrypted_key(label: str, headers: dict[str, str], payload: str) -> _Candidate:
    """OpenSSL "traditional" encryption: the body is ciphertext, so check its shape only."""
    cipher, _, iv = headers.get("DEK-Info", "").partition(",")
    family = cipher.split("-", 1)[0]
    block = _LEGACY_BLOCK_SIZES.get(family)
    if block is None or not cipher.endswith("-CBC") or len(iv) != 2 * block:
        raise KeyParseError("unsupported DEK-Info")
    data = _b64_body(payload)
    algorithm = _LEGACY_LABEL_ALGORITHMS.get(label)
    minimum = _LEGACY_MIN_BYTES.get(algorithm or "", 48)
    if not minimum <= len(data) <= _MAX_ENCRYPTED_BYTES or len(data) % block:
        raise KeyParseError("implausible encrypted body length")
    if not _looks_random(data):
        raise KeyParseError("encrypted body is not ciphertext")
    armored = _armor(label, data, {"Proc-Type": "4,ENCRYPTED", "DEK-Info": f"{cipher},{iv}"})

    def decrypt(password: bytes) -> PrivateKeyTypes:
        key = serialization.load_pem_private_key(
            armored, password, unsafe_skip_rsa_key_validation=True
        )
        return _checked(key)

    return _locked(KeyInfo("pem-legacy-encrypted", algorithm, True), decrypt)


def _der_key(der: bytes) -> _Candidate:
    """A DER private key of any standard shape, told apart by structure rather than label."""
    kind, oid = _der_shape(der)
    if kind == "pkcs8-encrypted":

        def decrypt(password: bytes) -> PrivateKeyTypes | None:
            if _kdf_cost(der) > _MAX_KDF_ITERATIONS:
                return None
            key = serialization.load_der_private_key(
                der, password, unsafe_skip_rsa_key_validation=True
            )
            return _checked(key)

        return _locked(KeyInfo("pkcs8-encrypted", None, True), decrypt)
    try:
        key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    except UnsupportedAlgorithm:
        # Well-formed, but an algorithm or curve this cryptography build cannot load: still a
        # leaked private key, so report what the structure tells us.
        if kind == "pkcs8" and len(der) >= 48:
            return _plain(KeyInfo("pkcs8", _PKCS8_ALGORITHMS.get(oid), False), None)
        if kind == "sec1":
            return _plain(KeyInfo("sec1", "EC", False), None)
        raise
    key = _checked(key)
    return _plain(_describe(kind, key), key)


def _der_shape(der: bytes) -> tuple[str, bytes]:
    """Classify a DER private key: pkcs8 (with its algorithm OID), pkcs8-encrypted, pkcs1,
    sec1 or dsa. Raises KeyParseError for anything else (certificates, public keys, junk)."""
    tag, start, end = _der_tlv(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise KeyParseError("not a DER private key")
    kids = _der_children(der, start, end)
    tags = tuple(kid[0] for kid in kids)
    if tags == (0x30, 0x04):
        _check_pbe_algorithm(der, kids[0])
        data = der[kids[1][1] : kids[1][2]]
        if not 32 <= len(data) <= _MAX_ENCRYPTED_BYTES or len(data) % 8:
            raise KeyParseError("implausible encrypted key length")
        if not _looks_random(data):
            raise KeyParseError("encrypted key is not ciphertext")
        return "pkcs8-encrypted", b""
    if not tags or tags[0] != 0x02:
        raise KeyParseError("not a DER private key")
    version = _der_uint(der, kids[0])
    if tags[:3] == (0x02, 0x30, 0x04) and set(tags[3:]) <= {0xA0, 0xA1, 0x81} and version < 2:
        algorithm = _der_children(der, kids[1][1], kids[1][2])
        if not algorithm or algorithm[0][0] != 0x06:
            raise KeyParseError("malformed AlgorithmIdentifier")
        return "pkcs8", der[algorithm[0][1] : algorithm[0][2]]
    if version == 0 and len(tags) == 9 and set(tags) == {0x02}:
        return "pkcs1", b""
    if version == 1 and len(tags) == 10 and set(tags[:9]) == {0x02} and tags[9] == 0x30:
        return "pkcs1", b""  # multi-prime RSA
    if version == 0 and len(tags) == 6 and set(tags) == {0x02}:
        return "dsa", b""
    if version == 1 and tags[:2] == (0x02, 0x04) and set(tags[2:]) <= {0xA0, 0xA1}:
        return "sec1", b""
    raise KeyParseError("not a DER private key")


def _check_pbe_algorithm(der: bytes, algorithm: tuple[int, int, int]) -> None:
    """EncryptedPrivateKeyInfo must name a real password-based scheme with sane parameters."""
    kids = _der_children(der, algorithm[1], algorithm[2])
    if len(kids) != 2 or kids[0][0] != 0x06 or kids[1][0] != 0x30:
        raise KeyParseError("malformed encryption AlgorithmIdentifier")
    oid = der[kids[0][1] : kids[0][2]]
    params = _der_children(der, kids[1][1], kids[1][2])
    if oid == _OID_PBES2:
        if len(params) != 2 or params[0][0] != 0x30 or params[1][0] != 0x30:
            raise KeyParseError("malformed PBES2 parameters")
        kdf = _der_children(der, params[0][1], params[0][2])
        scheme = _der_children(der, params[1][1], params[1][2])
        if len(kdf) != 2 or kdf[0][0] != 0x06 or kdf[1][0] != 0x30:
            raise KeyParseError("malformed PBES2 key derivation")
        if der[kdf[0][1] : kdf[0][2]] not in (_OID_PBKDF2, _OID_SCRYPT):
            raise KeyParseError("unknown PBES2 key derivation")
        kdf_params = _der_children(der, kdf[1][1], kdf[1][2])
        if len(kdf_params) < 2 or kdf_params[1][0] != 0x02:
            raise KeyParseError("malformed key derivation parameters")
        if not scheme or scheme[0][0] != 0x06:
            raise KeyParseError("malformed PBES2 encryption scheme")
    elif oid in _OID_PKCS12_PBE or oid in _OID_PBES1:
        if len(params) != 2 or params[0][0] != 0x04 or params[1][0] != 0x02:
            raise KeyParseError("malformed PBE parameters")
    else:
        raise KeyParseError("unknown key encryption algorithm")


def _der_tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Strict DER: (tag, content start, content end) of the element at pos."""
    if end - pos < 2:
        raise KeyParseError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise KeyParseError("unsupported DER tag")
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4 or end - pos < count:
            raise KeyParseError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if length > end - pos:
        raise KeyParseError("truncated DER")
    return tag, pos, pos + length


def _der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    kids: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        if len(kids) >= _MAX_DER_CHILDREN:
            raise KeyParseError("too many DER elements")
        kid = _der_tlv(data, pos, end)
        kids.append(kid)
        pos = kid[2]
    return kids


def _der_uint(data: bytes, element: tuple[int, int, int]) -> int:
    """A small non-negative INTEGER (versions, iteration counts); huge values saturate."""
    tag, start, end = element
    if tag != 0x02 or end == start:
        raise KeyParseError("expected INTEGER")
    if end - start > 8:
        return 1 << 64
    return int.from_bytes(data[start:end], "big")


# --------------------------------------------------------------------------------------------
# OpenSSH "openssh-key-v1"


def _openssh_key(blob: bytes) -> _Candidate:
    """Parse the openssh-key-v1 container: the public key is always in clear, so algorithm
    and thumbprint are known even when the private section is encrypted."""
    if not blob.startswith(_OPENSSH_MAGIC):
        raise KeyParseError("not an openssh-key-v1 blob")
    reader = _SshReader(blob, len(_OPENSSH_MAGIC))
    cipher = reader.text()
    kdf = reader.text()
    kdf_options = reader.string()
    count = reader.u32()
    if not 1 <= count <= _MAX_SSH_KEYS:
        raise KeyParseError("implausible key count")
    publics = [_ssh_public(reader.string()) for _ in range(count)]
    private = reader.string()
    trailer = reader.rest()
    public = publics[0]
    if cipher == "none":
        if kdf != "none" or kdf_options or trailer or not private or len(private) % 8:
            raise KeyParseError("inconsistent unencrypted openssh key")
        fields, comment = _openssh_private_section(private, [p.keytype for p in publics])
        key = _openssh_private_key(blob, public, fields) if count == 1 else None
        return _plain(_describe_ssh("openssh", public, encrypted=False, comment=comment), key)
    block = _OPENSSH_CIPHER_BLOCKS.get(cipher)
    if block is None or kdf != "bcrypt":
        raise KeyParseError("unknown openssh cipher or kdf")
    options = _SshReader(kdf_options)
    salt = options.string()
    rounds = options.u32()
    options.end()
    if not salt or rounds == 0:
        raise KeyParseError("bad bcrypt parameters")
    if len(trailer) not in (0, 16) or (trailer and not cipher.endswith("@openssh.com")):
        raise KeyParseError("bad openssh authentication tag")
    if not private or len(private) % block or not _looks_random(private):
        raise KeyParseError("implausible encrypted openssh section")
    armored = _armor("OPENSSH PRIVATE KEY", blob)

    def decrypt(password: bytes) -> PrivateKeyTypes | None:
        if rounds > _MAX_BCRYPT_ROUNDS:
            return None
        key = serialization.load_ssh_private_key(
            armored, password, unsafe_skip_rsa_key_validation=True
        )
        return _checked(key)

    return _locked(_describe_ssh("openssh", public, encrypted=True), decrypt)


def _openssh_private_section(
    section: bytes, keytypes: list[str]
) -> tuple[list[int | bytes], str | None]:
    """Walk the unencrypted private section: check-ints, one record per key, padding."""
    reader = _SshReader(section)
    if reader.u32() != reader.u32():
        raise KeyParseError("openssh check-ints differ")
    first: tuple[list[int | bytes], str | None] | None = None
    for keytype in keytypes:
        if reader.text() != keytype:
            raise KeyParseError("openssh private key type mismatch")
        layout = _OPENSSH_PRIVATE_FIELDS.get(keytype)
        if layout is None:
            raise KeyParseError("unsupported openssh key type")
        fields = [reader.field(kind) for kind in layout]
        comment = _comment(reader.string())
        if first is None:
            first = (fields, comment)
    padding = reader.rest()
    if len(padding) >= 16 or padding != bytes(range(1, len(padding) + 1)):
        raise KeyParseError("bad openssh padding")
    if first is None:
        raise KeyParseError("no openssh key")
    return first


def _openssh_private_key(
    blob: bytes, public: _SshPublic, fields: list[int | bytes]
) -> PrivateKeyTypes | None:
    if public.security_key:
        return None  # the private half lives in a hardware authenticator
    if public.keytype == "ssh-dss":
        # cryptography's SSH DSA support is deprecated; the numbers are all we need.
        if tuple(fields[:4]) != public.ints:
            raise KeyParseError("openssh DSA fields mismatch")
        return _dsa_private(public, _as_int(fields[4]))
    key = serialization.load_ssh_private_key(
        _armor("OPENSSH PRIVATE KEY", blob), None, unsafe_skip_rsa_key_validation=True
    )
    return _checked(key)


# --------------------------------------------------------------------------------------------
# SSH wire format (RFC 4251) shared by OpenSSH and PuTTY


class _SshReader:
    """Bounds-checked reader for SSH uint32 / string / mpint fields."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self._data = data
        self._pos = pos

    def u32(self) -> int:
        if len(self._data) - self._pos < 4:
            raise KeyParseError("truncated SSH data")
        value: int = struct.unpack_from(">I", self._data, self._pos)[0]
        self._pos += 4
        return value

    def byte(self) -> int:
        if self._pos >= len(self._data):
            raise KeyParseError("truncated SSH data")
        self._pos += 1
        return self._data[self._pos - 1]

    def string(self) -> bytes:
        length = self.u32()
        if length > len(self._data) - self._pos:
            raise KeyParseError("truncated SSH string")
        self._pos += length
        return self._data[self._pos - length : self._pos]

    def text(self) -> str:
        value = self.string()
        if len(value) > 256 or not all(0x21 <= c <= 0x7E for c in value):
            raise KeyParseError("bad SSH name")
        return value.decode("ascii")

    def mpint(self) -> int:
        value = self.string()
        if value[:1] >= b"\x80":
            raise KeyParseError("negative mpint")
        return int.from_bytes(value, "big")

    def field(self, kind: str) -> int | bytes:
        if kind == "m":
            return self.mpint()
        if kind == "b":
            return self.byte()
        return self.string()

    def rest(self) -> bytes:
        value = self._data[self._pos :]
        self._pos = len(self._data)
        return value

    def end(self) -> None:
        if self._pos != len(self._data):
            raise KeyParseError("trailing SSH data")


def _ssh_public(blob: bytes) -> _SshPublic:
    """Decode an SSH public key blob into algorithm facts and a cryptography public key."""
    reader = _SshReader(blob)
    keytype = reader.text()
    if keytype == "ssh-rsa":
        e, n = reader.mpint(), reader.mpint()
        reader.end()
        if n.bit_length() > _MAX_RSA_BITS or e < 3 or not e % 2:
            raise KeyParseError("implausible RSA public key")
        key = rsa.RSAPublicNumbers(e, n).public_key()
        return _SshPublic(keytype, "RSA", n.bit_length(), None, key, (e, n))
    if keytype == "ssh-dss":
        p, q, g, y = reader.mpint(), reader.mpint(), reader.mpint(), reader.mpint()
        reader.end()
        if not 0 < p.bit_length() <= _MAX_DSA_BITS or not 1 < g < p or not 1 < y < p:
            raise KeyParseError("implausible DSA public key")
        return _SshPublic(keytype, "DSA", p.bit_length(), None, None, (p, q, g, y))
    security_key = keytype.startswith("sk-")
    if keytype in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-ed448"):
        raw = reader.string()
        if security_key:
            reader.string()  # application ("ssh:")
        reader.end()
        if keytype == "ssh-ed448":
            ed448_key = ed448.Ed448PublicKey.from_public_bytes(raw)
            return _SshPublic(keytype, "Ed448", 456, None, ed448_key)
        algorithm = "Ed25519-SK" if security_key else "Ed25519"
        okp = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        return _SshPublic(keytype, algorithm, 256, None, okp, security_key=security_key)
    if keytype.startswith("ecdsa-sha2-") or keytype == "sk-ecdsa-sha2-nistp256@openssh.com":
        curve_id = reader.text()
        point = reader.string()
        if security_key:
            reader.string()
        reader.end()
        curve = _SSH_CURVES.get(curve_id)
        if curve is None or not keytype.removesuffix("@openssh.com").endswith(curve_id):
            raise KeyParseError("unknown SSH curve")
        ec_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
        algorithm = "EC-SK" if security_key else "EC"
        curve_name = _curve_name(curve)
        return _SshPublic(
            keytype, algorithm, curve.key_size, curve_name, ec_key, security_key=security_key
        )
    raise KeyParseError("unsupported SSH key type")


def _describe_ssh(
    fmt: str, public: _SshPublic, *, encrypted: bool, comment: str | None = None
) -> KeyInfo:
    thumbprint = None
    if public.key is not None and not public.security_key:
        thumbprint = _thumbprint_or_none(public.key)
    return KeyInfo(fmt, public.algorithm, encrypted, public.bits, public.curve, thumbprint, comment)


def _dsa_private(public: _SshPublic, x: int) -> PrivateKeyTypes:
    p, q, g, y = public.ints
    if not 0 < x < q or pow(g, x, p) != y:
        raise KeyParseError("DSA private key does not match its public key")
    parameters = dsa.DSAParameterNumbers(p, q, g)
    return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(y, parameters)).private_key()


# --------------------------------------------------------------------------------------------
# PuTTY .ppk (versions 2 and 3)


def _putty_key(text: str) -> _Candidate:
    """Parse PuTTY's text container; the public blob is clear text in every version."""
    lines = text[text.index("PuTTY-User-Key-File-") :].splitlines()
    first = _PUTTY_FIRST_LINE.fullmatch(lines[0].strip())
    if first is None or first.group(1) not in ("2", "3"):
        raise KeyParseError("unsupported PuTTY key file version")
    version, keytype = first.group(1), first.group(2)
    headers, blobs = _putty_sections(lines)
    encryption = headers.get("Encryption")
    mac = _HEX.match(headers.get("Private-MAC", ""))
    if mac is None or len(mac.group(0)) != (40 if version == "2" else 64):
        raise KeyParseError("missing or malformed Private-MAC")
    if "Public-Lines" not in blobs or "Private-Lines" not in blobs:
        raise KeyParseError("missing PuTTY key blobs")
    public = _ssh_public(base64.b64decode(blobs["Public-Lines"], validate=True))
    if public.keytype != keytype or public.security_key:
        raise KeyParseError("PuTTY key type mismatch")
    private = base64.b64decode(blobs["Private-Lines"], validate=True)
    comment = _comment(headers.get("Comment", "").encode("utf-8", "replace"))
    fmt = f"putty-v{version}"
    if encryption == "none":
        key = _putty_private_key(public, private)
        return _plain(_describe_ssh(fmt, public, encrypted=False, comment=comment), key)
    if encryption != "aes256-cbc":
        raise KeyParseError("unknown PuTTY encryption")
    if not private or len(private) % 16 or not _looks_random(private):
        raise KeyParseError("implausible encrypted PuTTY blob")
    if version == "3":
        _argon2_parameters(headers)  # validates now; used when a password is tried

    def decrypt(password: bytes) -> PrivateKeyTypes | None:
        return _putty_decrypt(version, headers, public, private, password)

    return _locked(_describe_ssh(fmt, public, encrypted=True, comment=comment), decrypt)


def _putty_sections(lines: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and the base64 blobs that follow Public-Lines / Private-Lines counts."""
    headers: dict[str, str] = {}
    blobs: dict[str, str] = {}
    index = 1
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line:
            continue
        match = _PUTTY_HEADER.fullmatch(line)
        if match is None:
            raise KeyParseError("malformed PuTTY header line")
        name, value = match.group(1), match.group(2).strip()
        if name in headers or name in blobs:
            raise KeyParseError("duplicate PuTTY header")
        if name in ("Public-Lines", "Private-Lines"):
            count = int(value) if value.isdigit() else 0
            if not 0 < count <= _MAX_PUTTY_LINES or index + count > len(lines):
                raise KeyParseError("bad PuTTY line count")
            blobs[name] = "".join(part.strip() for part in lines[index : index + count])
            index += count
            continue
        headers[name] = value
        if name == "Private-MAC":
            break
    return headers, blobs


def _putty_private_key(public: _SshPublic, private: bytes) -> PrivateKeyTypes:
    """Rebuild the key from PuTTY's private blob and insist it matches the public blob, which
    catches corruption and wrong passwords without needing the MAC."""
    reader = _SshReader(private)
    keytype = public.keytype
    if keytype == "ssh-rsa":
        d, p, q, iqmp = reader.mpint(), reader.mpint(), reader.mpint(), reader.mpint()
        e, n = public.ints
        if p < 3 or q < 3:
            raise KeyParseError("bad RSA primes")
        dmp1, dmq1 = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q)
        numbers = rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, rsa.RSAPublicNumbers(e, n))
        if not _rsa_consistent(numbers):
            raise KeyParseError("RSA private key does not match its public key")
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)
    if keytype == "ssh-dss":
        return _dsa_private(public, reader.mpint())
    if keytype.startswith("ecdsa-sha2-"):
        if not isinstance(public.key, ec.EllipticCurvePublicKey):
            raise KeyParseError("bad EC public key")
        ec_key = ec.derive_private_key(reader.mpint(), public.key.curve)
        if ec_key.public_key().public_numbers() != public.key.public_numbers():
            raise KeyParseError("EC private key does not match its public key")
        return ec_key
    if keytype in ("ssh-ed25519", "ssh-ed448"):
        # PuTTY stores the RFC 8032 secret as a little-endian integer, high zero bytes dropped.
        size = 32 if keytype == "ssh-ed25519" else 57
        secret = reader.string()
        if len(secret) > size:
            raise KeyParseError("bad EdDSA private key length")
        secret = secret + bytes(size - len(secret))
        okp: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
        if size == 32:
            okp = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
        else:
            okp = ed448.Ed448PrivateKey.from_private_bytes(secret)
        if public.key is None or okp.public_key() != public.key:
            raise KeyParseError("EdDSA private key does not match its public key")
        return okp
    raise KeyParseError("unsupported PuTTY key type")


def _putty_decrypt(
    version: str, headers: dict[str, str], public: _SshPublic, private: bytes, password: bytes
) -> PrivateKeyTypes | None:
    if version == "2":
        # PPK v2: AES key from two SHA-1 hashes of the passphrase, zero IV (PuTTY appendix C).
        digest = hashlib.sha1(b"\x00\x00\x00\x00" + password).digest()
        digest += hashlib.sha1(b"\x00\x00\x00\x01" + password).digest()
        key, iv = digest[:32], bytes(16)
    else:
        derived = _argon2_derive(headers, password)
        if derived is None:
            return None
        key, iv = derived[:32], derived[32:48]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(private) + decryptor.finalize()
    return _guarded(_putty_private_key, public, plain)


def _argon2_parameters(headers: Mapping[str, str]) -> tuple[str, int, int, int, bytes]:
    flavour = headers.get("Key-Derivation", "")
    numbers = [headers.get(f"Argon2-{name}", "") for name in ("Memory", "Passes", "Parallelism")]
    salt = headers.get("Argon2-Salt", "")
    if flavour not in _ARGON2_FLAVOURS or not all(value.isdigit() for value in numbers):
        raise KeyParseError("bad PuTTY key derivation headers")
    if not salt or len(salt) % 2 or _HEX.fullmatch(salt) is None:
        raise KeyParseError("bad Argon2 salt")
    memory, passes, lanes = (int(value) for value in numbers)
    if not (memory and passes and lanes):
        raise KeyParseError("bad Argon2 parameters")
    return flavour, memory, passes, lanes, bytes.fromhex(salt)


def _argon2_derive(headers: Mapping[str, str], password: bytes) -> bytes | None:
    flavour, memory, passes, lanes, salt = _argon2_parameters(headers)
    if memory > _MAX_ARGON2_MEMORY_KIB or passes > _MAX_ARGON2_PASSES or lanes > _MAX_ARGON2_LANES:
        return None  # attacker-chosen cost we refuse to pay
    try:
        from cryptography.hazmat.primitives.kdf import argon2
    except ImportError:  # cryptography < 44
        return None
    kdf_type: type[argon2.Argon2id] | None = getattr(argon2, flavour, None)
    if kdf_type is None:  # flavour missing from this cryptography build
        return None
    kdf = kdf_type(salt=salt, length=80, iterations=passes, lanes=lanes, memory_cost=memory)
    return kdf.derive(password)


# --------------------------------------------------------------------------------------------
# JWK / JWKS


def _json_candidates(text: str) -> Iterator[_Candidate]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return
    for jwk in _private_jwks(document):
        candidate = _guarded(_jwk_key, jwk)
        if candidate is not None:
            yield candidate


def _private_jwks(document: object) -> Iterator[Mapping[str, object]]:
    """JWK objects with a private member "d", breadth-first (a JWKS yields its keys in order)."""
    queue: deque[object] = deque([document])
    visited = found = 0
    while queue and visited < _MAX_JSON_NODES and found < _MAX_JWKS:
        node = queue.popleft()
        visited += 1
        if isinstance(node, dict):
            if isinstance(node.get("kty"), str) and "d" in node:
                found += 1
                yield node
                continue
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)


def _jwk_key(jwk: Mapping[str, object]) -> _Candidate:
    kty = jwk["kty"]
    if kty == "RSA":
        return _rsa_jwk(jwk)
    if kty == "EC":
        curve = _JWK_CURVES[_jwk_str(jwk, "crv")]
        x, y, d = (_jwk_int(jwk, name) for name in ("x", "y", "d"))
        public_numbers = ec.EllipticCurvePublicNumbers(x, y, curve)
        ec_key = ec.EllipticCurvePrivateNumbers(d, public_numbers).private_key()
        if ec_key.public_key().public_numbers() != public_numbers:
            raise KeyParseError("EC JWK d does not match x/y")
        return _plain(_describe("jwk", ec_key), ec_key)
    if kty == "OKP":
        okp_types: dict[str, Callable[[bytes], PrivateKeyTypes]] = {
            "Ed25519": ed25519.Ed25519PrivateKey.from_private_bytes,
            "Ed448": ed448.Ed448PrivateKey.from_private_bytes,
            "X25519": x25519.X25519PrivateKey.from_private_bytes,
            "X448": x448.X448PrivateKey.from_private_bytes,
        }
        okp = okp_types[_jwk_str(jwk, "crv")](_jwk_bytes(jwk, "d"))
        if "x" in jwk and public_jwk(okp)["x"] != _b64u(_jwk_bytes(jwk, "x")):
            raise KeyParseError("OKP JWK d does not match x")
        return _plain(_describe("jwk", okp), okp)
    raise KeyParseError("JWK is not an asymmetric private key")


def _rsa_jwk(jwk: Mapping[str, object]) -> _Candidate:
    n, e, d = (_jwk_int(jwk, name) for name in ("n", "e", "d"))
    crt_names = ("p", "q", "dp", "dq", "qi")
    present = [name in jwk for name in crt_names]
    public_numbers = rsa.RSAPublicNumbers(e, n)
    if all(present):
        p, q, dp, dq, qi = (_jwk_int(jwk, name) for name in crt_names)
        numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers)
        if not _rsa_consistent(numbers):
            raise KeyParseError("RSA JWK members are inconsistent")
        key = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        return _plain(_describe("jwk", key), key)
    if any(present):
        raise KeyParseError("RSA JWK has some but not all CRT members")
    # RFC 7518 6.3.2 allows n/e/d alone: check d against n/e with one modular exponentiation.
    if not 512 <= n.bit_length() <= _MAX_D_ONLY_RSA_BITS or not 1 < d < n or e < 3:
        raise KeyParseError("implausible RSA JWK")
    if pow(pow(2, e, n), d, n) != 2:
        raise KeyParseError("RSA JWK d does not match n/e")

    def recover(_password: bytes | None) -> PrivateKeyTypes:
        p, q = rsa.rsa_recover_prime_factors(n, e, d)
        dmp1, dmq1, iqmp = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        numbers = rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, public_numbers)
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)

    return _Candidate(_describe("jwk", public_numbers.public_key()), recover)


def _jwk_str(jwk: Mapping[str, object], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise KeyParseError(f"JWK member {name!r} is not a string")
    return value


def _jwk_bytes(jwk: Mapping[str, object], name: str) -> bytes:
    value = _jwk_str(jwk, name)
    if not value or len(value) > 4096 or _BASE64URL.fullmatch(value) is None:
        raise KeyParseError(f"JWK member {name!r} is not base64url")
    value = value.rstrip("=").replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _jwk_int(jwk: Mapping[str, object], name: str) -> int:
    return int.from_bytes(_jwk_bytes(jwk, name), "big")


# --------------------------------------------------------------------------------------------
# Bare DER in base64 (keys stored without PEM armour in properties and env vars)


def _bare_base64_key(text: str) -> _Candidate:
    compact = "".join(text.split())
    if len(compact) < 64 or _BASE64_ANY.fullmatch(compact) is None:
        raise KeyParseError("not base64")
    der = _b64decode_any(compact)
    if der[:1] != b"\x30":
        raise KeyParseError("not DER")
    return _der_key(der)


# --------------------------------------------------------------------------------------------
# PKCS#12


def _open_pkcs12(data: bytes, passwords: Iterable[bytes]) -> Pkcs12Result:
    if len(data) > MAX_INPUT_BYTES:
        return Pkcs12Result(opened=False, password_kind=None)
    try:
        der = data if data[:1] == b"\x30" else _b64decode_any("".join(data.decode("ascii").split()))
        work, largest = _pfx_kdf_work(der)
    except _BudgetExceeded:
        return Pkcs12Result(opened=False, password_kind=None, is_pkcs12=True)
    except _RECOVERABLE:
        return Pkcs12Result(opened=False, password_kind=None)
    if largest > _MAX_KDF_ITERATIONS:
        return Pkcs12Result(opened=False, password_kind=None, is_pkcs12=True)
    # Charge every attempt the whole visible KDF work (MAC plus bags): conservative and simple.
    attempts_left = _PKCS12_WORK_BUDGET // max(1, work)
    for password in passwords:
        for variant in (None, b"") if password == b"" else (password,):
            if attempts_left <= 0:
                return Pkcs12Result(opened=False, password_kind=None, is_pkcs12=True)
            attempts_left -= 1
            try:
                bundle = _pkcs12().load_pkcs12(der, variant)
            except ValueError:
                continue
            key = bundle.key
            keys: tuple[PrivateKeyTypes, ...] = () if key is None else (key,)
            return Pkcs12Result(
                opened=True,
                password_kind="empty" if not password else "guessable",
                keys=tuple(_describe("pkcs12", k) for k in keys),
                is_pkcs12=True,
                key_objects=keys,
            )
    return Pkcs12Result(opened=False, password_kind=None, is_pkcs12=True)


class _BudgetExceeded(Exception):
    """The structure is too big or deep to bound its cost; treat it as unopenable."""


def _pfx_kdf_work(der: bytes) -> tuple[int, int]:
    """(Total visible KDF work, largest single KDF) of a PFX, from a bounded
    BER walk that also looks inside OCTET STRINGs that hold nested DER."""
    walker = _KdfWalker()
    tag, start, end, after = walker.element(der, 0, len(der), 0)
    if tag != 0x30 or after != len(der):
        raise KeyParseError("not a PFX")
    kids = walker.children(der, start, end, 1)
    if len(kids) < 2 or kids[0][0] != 0x02 or _der_uint(der, kids[0]) != 3 or kids[1][0] != 0x30:
        raise KeyParseError("not a PFX")
    if len(kids) > 2:
        mac = walker.children(der, kids[2][1], kids[2][2], 2)
        if len(mac) < 2 or mac[0][0] != 0x30 or mac[1][0] != 0x04:
            raise KeyParseError("malformed MacData")
        walker.add(_der_uint(der, mac[2]) if len(mac) > 2 else 1)
    walker.visit(der, tag, start, end, 0)
    return walker.work, walker.largest


class _KdfWalker:
    """Bounded BER walk collecting iteration counts of PBKDF2, scrypt and PBE parameters."""

    def __init__(self) -> None:
        self.steps = 0
        self.work = 0
        self.largest = 0

    def add(self, cost: int) -> None:
        self.work += cost
        self.largest = max(self.largest, cost)

    def element(self, data: bytes, pos: int, end: int, depth: int) -> tuple[int, int, int, int]:
        """(tag, content start, content end, next position); BER indefinite lengths allowed."""
        self.steps += 1
        if self.steps > _MAX_BER_STEPS or depth > _MAX_BER_DEPTH:
            raise _BudgetExceeded
        if end - pos < 2:
            raise KeyParseError("truncated BER")
        tag, first = data[pos], data[pos + 1]
        pos += 2
        if tag & 0x1F == 0x1F:
            raise KeyParseError("unsupported BER tag")
        if first == 0x80:
            if not tag & 0x20:
                raise KeyParseError("indefinite primitive")
            cursor = pos
            while not (end - cursor >= 2 and data[cursor] == 0 and data[cursor + 1] == 0):
                cursor = self.element(data, cursor, end, depth + 1)[3]
            return tag, pos, cursor, cursor + 2
        if first & 0x80:
            count = first & 0x7F
            if count > 4 or end - pos < count:
                raise KeyParseError("bad BER length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        else:
            length = first
        if length > end - pos:
            raise KeyParseError("truncated BER")
        return tag, pos, pos + length, pos + length

    def children(self, data: bytes, start: int, end: int, depth: int) -> list[tuple[int, int, int]]:
        kids: list[tuple[int, int, int]] = []
        pos = start
        while pos < end:
            tag, content_start, content_end, pos = self.element(data, pos, end, depth)
            kids.append((tag, content_start, content_end))
        return kids

    def visit(self, data: bytes, tag: int, start: int, end: int, depth: int) -> None:
        if tag & 0x20:
            kids = self.children(data, start, end, depth + 1)
            if tag == 0x24:  # BER constructed OCTET STRING: reassemble, then look inside
                self.nested(b"".join(data[s:e] for t, s, e in kids if t == 0x04), depth)
                return
            if tag == 0x30 and len(kids) >= 2 and kids[0][0] == 0x06:
                self.kdf(data, data[kids[0][1] : kids[0][2]], kids[1], depth + 1)
            for kid in kids:
                self.visit(data, *kid, depth + 1)
        elif tag == 0x04 and end > start and data[start] == 0x30:
            self.nested(data[start:end], depth)

    def nested(self, content: bytes, depth: int) -> None:
        try:
            tag, start, end, after = self.element(content, 0, len(content), depth + 1)
            if after == len(content):
                self.visit(content, tag, start, end, depth + 1)
        except KeyParseError:
            pass  # ciphertext or an opaque value, not nested DER

    def kdf(self, data: bytes, oid: bytes, params: tuple[int, int, int], depth: int) -> None:
        if oid not in (_OID_PBKDF2, _OID_SCRYPT) and oid not in _OID_PKCS12_PBE | _OID_PBES1:
            return
        if params[0] != 0x30:
            raise KeyParseError("malformed KDF parameters")
        values = self.children(data, params[1], params[2], depth + 1)
        if len(values) < 2:
            raise KeyParseError("malformed KDF parameters")
        if oid == _OID_SCRYPT:
            if len(values) < 4:
                raise KeyParseError("malformed scrypt parameters")
            n, r, p = (_der_uint(data, value) for value in values[1:4])
            self.add(n * r * p)
        else:
            self.add(_der_uint(data, values[1]))


def _kdf_cost(der: bytes) -> int:
    """Largest KDF cost named in an EncryptedPrivateKeyInfo (checked before decrypting)."""
    walker = _KdfWalker()
    tag, start, end, _ = walker.element(der, 0, len(der), 0)
    walker.visit(der, tag, start, end, 0)
    return walker.largest


# --------------------------------------------------------------------------------------------
# Key objects: sanity checks and description


def _checked(key: PrivateKeyTypes) -> PrivateKeyTypes:
    """Reject keys that are corrupt or absurdly large before anyone uses them.

    RSA keys are loaded with cryptography's validation skipped (it tests primality: ~50 ms
    per 2048-bit key, seconds for big ones), then checked here with cheap integer identities.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size > _MAX_RSA_BITS or not _rsa_consistent(key.private_numbers()):
            raise KeyParseError("inconsistent RSA private key")
    elif getattr(key, "key_size", 0) > _MAX_DSA_BITS:  # DSA, finite-field DH
        raise KeyParseError("implausible key size")
    return key


def _rsa_consistent(numbers: rsa.RSAPrivateNumbers) -> bool:
    """n = pq and the private exponents agree with e and the primes (catches any corruption)."""
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    p, q, d = numbers.p, numbers.q, numbers.d
    return (
        n.bit_length() <= _MAX_RSA_BITS
        and p > 2
        and q > 2
        and p * q == n
        and e > 2
        and 0 < d < n
        and (e * d) % (p - 1) == 1
        and (e * d) % (q - 1) == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and (numbers.iqmp * q) % p == 1
    )


def _describe(
    fmt: str,
    key: PrivateKeyTypes | PublicKeyTypes,
    *,
    encrypted: bool = False,
    comment: str | None = None,
) -> KeyInfo:
    algorithm, bits, curve = _key_facts(key)
    return KeyInfo(fmt, algorithm, encrypted, bits, curve, _thumbprint_or_none(key), comment)


def _key_facts(key: object) -> tuple[str | None, int | None, str | None]:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA", key.key_size, None
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "EC", key.curve.key_size, _curve_name(key.curve)
    if isinstance(key, (dsa.DSAPrivateKey, dsa.DSAPublicKey)):
        return "DSA", key.key_size, None
    okp_facts = (
        ((ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey), "Ed25519", 256),
        ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "Ed448", 456),
        ((x25519.X25519PrivateKey, x25519.X25519PublicKey), "X25519", 256),
        ((x448.X448PrivateKey, x448.X448PublicKey), "X448", 448),
    )
    for types, name, bits in okp_facts:
        if isinstance(key, types):
            return name, bits, None
    size = getattr(key, "key_size", None)
    return _NAMED_ALGORITHMS.get(type(key).__name__), size if isinstance(size, int) else None, None


def _curve_name(curve: ec.EllipticCurve) -> str:
    return {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
        curve.name, curve.name
    )


def _thumbprint_or_none(key: PrivateKeyTypes | PublicKeyTypes) -> str | None:
    try:
        return jwk_thumbprint(key)
    except KeyParseError:
        return None


def _public_of(key: object) -> object:
    public_key = getattr(key, "public_key", None)
    return public_key() if callable(public_key) else key


# --------------------------------------------------------------------------------------------
# Normalisation helpers


def _decode_text(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # keeps byte offsets; PEM inside binaries stays intact


def _unquote(text: str) -> str:
    """Strip one layer of string-literal quoting, joining concatenated fragments first."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, str):
            return value
    if text[:1] not in ("{", "[") and any(marker in text for marker in _TEXT_MARKERS):
        text = _CONCATENATION.sub("", text)
    body = text.rstrip(" \t\r\n,;)")
    start = 0
    while start < min(3, len(body)) and body[start] in "bBrRuU(":
        start += 1
    if len(body) - start >= 2 and body[start] in "\"'`" and body[-1] == body[start]:
        return body[start + 1 : -1]
    return text


def _unescape(text: str) -> str:
    """Turn literal \\n, \\r\\n, \\\\n, \\uXXXX and XML newline entities into real characters
    when the text reads as escaped (more escape sequences than real newlines)."""
    if "&#" in text:
        text = _XML_NEWLINE.sub("\n", text)
    if "\\" not in text:
        return text
    escapes = text.count("\\n") + text.count("\\r")
    if escapes == 0 or escapes < text.count("\n"):
        return text
    return _BACKSLASH_ESCAPE.sub(_replace_escape, text)


def _replace_escape(match: re.Match[str]) -> str:
    code, char = match.group(1), match.group(2)
    if code is not None:
        return chr(int(code, 16))
    if char is None:
        return match.group(0)
    return {"n": "\n", "r": "", "t": " "}.get(char, char)


def _strip_line_decorations(text: str) -> str:
    """Drop indentation, trailing line continuations and comment prefixes on every line."""
    if "\n" not in text and "\r" not in text:
        return text
    lines = []
    armored = "-----BEGIN" in text or "PuTTY-User-Key-File-" in text
    for line in text.splitlines():
        stripped = line.strip()
        prefix = _LINE_PREFIX.match(stripped)
        if prefix is not None:
            stripped = stripped[prefix.end() :]
        stripped = stripped.removesuffix("\\").rstrip()
        # A key kept as a list of JSON strings (a notebook cell's "source"): each line is
        # wrapped in quotes and followed by a comma, which no PEM or base64 line ends with.
        unwrapped = stripped.strip('",').strip() if armored else stripped
        if unwrapped or not stripped:
            lines.append(unwrapped)
    return "\n".join(lines)


def _unwrap_base64(text: str) -> str:
    """Decode base64 that wraps a PEM, PuTTY or JSON key (Kubernetes Secret data, env vars)."""
    if any(marker in text for marker in _TEXT_MARKERS):
        return text
    compact = "".join(text.split())
    if len(compact) >= 16 and _BASE64_ANY.fullmatch(compact) is not None:
        decoded = _decoded_key_text(compact)
        return text if decoded is None else decoded
    embedded = _EMBEDDED_BASE64_PEM.search(text)
    if embedded is not None:
        decoded = _decoded_key_text("".join(embedded.group(0).split()))
        if decoded is not None:
            return decoded
    return text


def _decoded_key_text(compact: str) -> str | None:
    try:
        decoded = _b64decode_any(compact).decode("utf-8")
    except ValueError:
        return None
    if decoded.lstrip(" \t\r\n\"'").startswith((*_TEXT_MARKERS, "{")):
        return decoded
    return None


def _comment(raw: bytes) -> str | None:
    text = raw.decode("utf-8", "replace")
    text = "".join(ch for ch in text if ch.isprintable())[:_MAX_COMMENT]
    return text or None


# --------------------------------------------------------------------------------------------
# Encoding helpers


def _b64_body(text: str) -> bytes:
    """Strict base64 of a PEM body: placeholders like "..." or "<key>" fail here."""
    compact = "".join(text.split())
    if not compact or len(compact) % 4 or _BASE64.fullmatch(compact) is None:
        raise KeyParseError("PEM body is not base64")
    return base64.b64decode(compact, validate=True)


def _b64decode_any(compact: str) -> bytes:
    """Standard or URL-safe base64 (even mixed), padding optional, nothing else tolerated."""
    compact = compact.rstrip("=").replace("-", "+").replace("_", "/")
    if len(compact) % 4 == 1:
        raise KeyParseError("bad base64 length")
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_uint(value: int) -> str:
    return _b64u(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _armor(label: str, der: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    encoded = base64.b64encode(der).decode("ascii")
    lines = [f"-----BEGIN {label}-----"]
    if headers:
        lines += [f"{name}: {value}" for name, value in headers.items()] + [""]
    lines += [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    lines.append(f"-----END {label}-----")
    return ("\n".join(lines) + "\n").encode("ascii")


def _as_int(value: int | bytes) -> int:
    if not isinstance(value, int):
        raise KeyParseError("expected an integer field")
    return value


def _looks_random(data: bytes) -> bool:
    """Ciphertext has nearly as many distinct byte values as uniform random data of the same
    length; placeholder bodies ("AAAA...", a repeated "EXAMPLE") have far fewer."""
    sample = data[:4096]
    expected = 256 * (1 - (255 / 256) ** len(sample))
    return len(set(sample)) >= 0.6 * expected


def _pkcs12() -> Any:
    """cryptography's PKCS#12 module, imported on first use: it pulls in all of X.509
    (~40 ms), which scans without keystores never need."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    return pkcs12
