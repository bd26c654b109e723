"""Generate credential-shaped sample values at run time.

Rule files and tests never hold a literal secret or key (the repository must stay clean under
its own scanner); they hold tokens such as ``«b64u:28»`` or ``«key:pkcs8-ec»`` that this module
expands into fresh values of the right shape.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import string
import struct
import uuid
from collections.abc import Callable
from functools import cache

import regex
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

TOKEN = regex.compile(r"«([a-zA-Z0-9-]+)(?::([a-zA-Z0-9-]+))?»")

ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "lower": string.ascii_lowercase + string.digits,
    "upper": string.ascii_uppercase + string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "digits": string.digits,
    "b64u": string.ascii_letters + string.digits + "-_",
    "b64": string.ascii_letters + string.digits + "+/",
    "azure": string.ascii_letters + string.digits + "-_.~",
}


def expand(template: str, seed: str = "") -> str:
    """Replace every «token» in ``template`` with a generated value; the same seed gives the
    same random strings (keys are always fresh)."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311 - shapes, not secrets

    def one(match: regex.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name in ALPHABETS:
            return random_string(rng, ALPHABETS[name], int(arg or 32))
        if name == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if name in KEY_RENDERERS:
            return KEY_RENDERERS[name](arg or "pkcs8-ec")
        raise ValueError(f"unknown sample token «{name}»")

    return str(TOKEN.sub(one, template))


def random_string(rng: random.Random, alphabet: str, length: int) -> str:
    """A random string that contains at least one digit and one letter when the alphabet has
    both, so entropy and shape checks see a realistic credential."""
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(length))
        has_digit = any(c.isdigit() for c in alphabet)
        has_alpha = any(c.isalpha() for c in alphabet)
        if length < 6 or (
            (not has_digit or any(c.isdigit() for c in value))
            and (not has_alpha or any(c.isalpha() for c in value))
        ):
            return value


@cache
def private_key(algorithm: str) -> PrivateKeyTypes:
    """One fresh key per algorithm per process (RSA generation is slow)."""
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "dsa":
        return dsa.generate_private_key(key_size=2048)
    raise ValueError(f"unknown key algorithm {algorithm!r}")


def pem(fmt: str) -> str:
    """A private key in one of the on-disk formats scanners meet, generated now."""
    enc = serialization.Encoding.PEM
    none = serialization.NoEncryption()
    password = serialization.BestAvailableEncryption(os.urandom(12).hex().encode())
    pkcs8, trad = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
    table: dict[str, Callable[[], bytes]] = {
        "rsa-pkcs1": lambda: private_key("rsa").private_bytes(enc, trad, none),
        "ec-sec1": lambda: private_key("ec").private_bytes(enc, trad, none),
        "dsa": lambda: private_key("dsa").private_bytes(enc, trad, none),
        "pkcs8-rsa": lambda: private_key("rsa").private_bytes(enc, pkcs8, none),
        "pkcs8-ec": lambda: private_key("ec").private_bytes(enc, pkcs8, none),
        "pkcs8-ed25519": lambda: private_key("ed25519").private_bytes(enc, pkcs8, none),
        "pkcs8-encrypted": lambda: private_key("ec").private_bytes(enc, pkcs8, password),
        "legacy-encrypted": lambda: private_key("rsa").private_bytes(enc, trad, password),
        "openssh": lambda: private_key("ed25519").private_bytes(
            enc, serialization.PrivateFormat.OpenSSH, none
        ),
        "openssh-encrypted": lambda: openssh_encrypted_pem().encode(),
        "putty-v2": lambda: putty_key(2, encrypted=False).encode(),
        "putty-v3": lambda: putty_key(3, encrypted=False).encode(),
        "putty-v3-encrypted": lambda: putty_key(3, encrypted=True).encode(),
        "jwk-rsa": lambda: json.dumps(private_jwk("rsa"), indent=2).encode(),
        "jwk-ec": lambda: json.dumps(private_jwk("ec")).encode(),
        "jwk-okp": lambda: json.dumps(private_jwk("ed25519")).encode(),
        "public-rsa": lambda: (
            private_key("rsa")
            .public_key()
            .public_bytes(enc, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        "public-ec": lambda: (
            private_key("ec")
            .public_key()
            .public_bytes(enc, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        "public-jwk": lambda: json.dumps(public_only(private_jwk("ec"))).encode(),
    }
    if fmt not in table:
        raise ValueError(f"unknown key format {fmt!r}")
    return table[fmt]().decode()


def private_jwk(algorithm: str) -> dict[str, str]:
    """A private JWK (RFC 7517) for a fresh key."""
    key = private_key(algorithm)
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        pub = n.public_numbers
        return {
            "kty": "RSA",
            "kid": b64u(os.urandom(6)),
            "n": b64u_int(pub.n),
            "e": b64u_int(pub.e),
            "d": b64u_int(n.d),
            "p": b64u_int(n.p),
            "q": b64u_int(n.q),
            "dp": b64u_int(n.dmp1),
            "dq": b64u_int(n.dmq1),
            "qi": b64u_int(n.iqmp),
        }
    if isinstance(key, ec.EllipticCurvePrivateKey):
        en = key.private_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64u_int(en.public_numbers.x, 32),
            "y": b64u_int(en.public_numbers.y, 32),
            "d": b64u_int(en.private_value, 32),
        }
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public_raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(public_raw), "d": b64u(raw)}
    raise ValueError(f"no JWK form for {algorithm}")


def public_only(jwk: dict[str, str]) -> dict[str, str]:
    private = {"d", "p", "q", "dp", "dq", "qi", "oth"}
    return {k: v for k, v in jwk.items() if k not in private}


def openssh_encrypted_pem() -> str:
    """An OpenSSH key whose header says aes256-ctr/bcrypt, built by hand so no bcrypt
    dependency is needed; the encrypted section is random bytes of the right size."""
    pub = (
        private_key("ed25519")
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    pub_blob = base64.b64decode(pub.split()[1])
    kdf = ssh_string(os.urandom(16)) + struct.pack(">I", 16)
    body = (
        b"openssh-key-v1\0"
        + ssh_string(b"aes256-ctr")
        + ssh_string(b"bcrypt")
        + ssh_string(kdf)
        + struct.pack(">I", 1)
        + ssh_string(pub_blob)
        + ssh_string(os.urandom(144))
    )
    return wrap_pem("OPENSSH PRIVATE KEY", body)


def putty_key(version: int, *, encrypted: bool) -> str:
    """A PuTTY .ppk (v2 or v3) for a fresh Ed25519 key; encrypted ones carry random private
    lines, as only the headers tell a reader it is encrypted."""
    key = private_key("ed25519")
    pub = base64.b64decode(
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .split()[1]
    )
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    private = os.urandom(48) if encrypted else ssh_string(raw)
    pub_lines = _b64_lines(pub)
    priv_lines = _b64_lines(private)
    lines = [
        f"PuTTY-User-Key-File-{version}: ssh-ed25519",
        f"Encryption: {'aes256-cbc' if encrypted else 'none'}",
        "Comment: ed25519-key-sample",
        f"Public-Lines: {len(pub_lines)}",
        *pub_lines,
    ]
    if version == 3 and encrypted:
        lines += [
            "Key-Derivation: Argon2id",
            "Argon2-Memory: 8192",
            "Argon2-Passes: 13",
            "Argon2-Parallelism: 1",
            f"Argon2-Salt: {os.urandom(16).hex()}",
        ]
    lines += [
        f"Private-Lines: {len(priv_lines)}",
        *priv_lines,
        f"Private-MAC: {os.urandom(32 if version == 3 else 20).hex()}",
    ]
    return "\n".join(lines) + "\n"


def certificate_pem() -> str:
    """A self-signed certificate: public material that must never be reported."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = private_key("ec")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sample.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def escaped(text: str) -> str:
    """A multi-line value as it appears inlined in a string literal: newlines as ``\\n``."""
    return text.strip("\n").replace("\n", "\\n")


def concatenated(text: str) -> str:
    """A multi-line value split over concatenated string literals, one line per literal, as
    Java and C code inline a key: ``"-----BEGIN ...\\n" +``."""
    lines = text.strip("\n").splitlines()
    return " +\n".join(f'    "{line}\\n"' for line in lines)


def base64_text(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def truncated(text: str) -> str:
    """The first half of a key block, END line missing: a decoy, not a key."""
    lines = text.splitlines()
    return "\n".join(lines[: max(2, len(lines) // 2)])


KEY_RENDERERS: dict[str, Callable[[str], str]] = {
    "key": lambda fmt: pem(fmt).rstrip("\n"),
    "key-escaped": lambda fmt: escaped(pem(fmt)),
    "key-concat": lambda fmt: concatenated(pem(fmt)),
    "key-b64": lambda fmt: base64_text(pem(fmt)),
    "key-truncated": lambda fmt: truncated(pem(fmt)),
    "cert": lambda _: certificate_pem().rstrip("\n"),
    "cert-b64": lambda _: base64_text(certificate_pem()),
}


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def wrap_pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 70] for i in range(0, len(body), 70)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(value: int, length: int | None = None) -> str:
    size = length or max(1, (value.bit_length() + 7) // 8)
    return b64u(value.to_bytes(size, "big"))


def _b64_lines(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode()
    return [text[i : i + 64] for i in range(0, len(text), 64)]
