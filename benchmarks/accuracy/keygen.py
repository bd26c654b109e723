"""Seeded key material for the accuracy corpus.

Every key, salt, IV and check value comes from the corpus RNG, so one seed gives the same
corpus byte for byte. Keys are built from numbers the RNG picks (RSA and DSA primes by
Miller-Rabin, EC and Ed25519 scalars directly); encrypted forms are built by hand for the
same reason (the cryptography library draws salts from the OS). Nothing here is a real key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import math
import random
import struct

from cryptography import x509
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.x509.oid import NameOID

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
NO_ENCRYPTION = serialization.NoEncryption()
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_SMALL_PRIMES_PRODUCT = math.prod(
    p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))
)

# Private-key forms a rule claims, by the name the corpus labels use.
PRIVATE_FORMS: tuple[str, ...] = (
    "rsa-pkcs1",
    "ec-sec1",
    "dsa",
    "pkcs8-rsa",
    "pkcs8-ec",
    "pkcs8-ed25519",
    "pkcs8-encrypted",
    "legacy-encrypted",
    "openssh-ed25519",
    "openssh-rsa",
    "openssh-encrypted",
    "putty-v2",
    "putty-v3",
    "putty-v3-encrypted",
    "jwk-rsa",
    "jwk-ec",
    "jwk-okp",
)


class KeyMaker:
    """Keys and their text forms, all drawn from one RNG. RSA and DSA keys are slow to make
    in pure Python, so a small pool is reused across files (a leaked key often is, too)."""

    RSA_POOL = 2

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._rsa: list[rsa.RSAPrivateKey] = []
        self._rsa_next = 0
        self._dsa: dsa.DSAPrivateKey | None = None

    # -- keys ------------------------------------------------------------------------------

    def rsa(self) -> rsa.RSAPrivateKey:
        if len(self._rsa) < self.RSA_POOL:
            self._rsa.append(_rsa_key(self.rng, 2048))
            return self._rsa[-1]
        key = self._rsa[self._rsa_next % self.RSA_POOL]
        self._rsa_next += 1
        return key

    def dsa(self) -> dsa.DSAPrivateKey:
        if self._dsa is None:
            self._dsa = _dsa_key(self.rng)
        return self._dsa

    def ec(self) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(self.rng.randrange(1, P256_ORDER), ec.SECP256R1())

    def ed25519(self) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.rng.randbytes(32))

    # -- private forms ---------------------------------------------------------------------

    def private(self, form: str) -> str:
        """One private key in ``form`` (see PRIVATE_FORMS), as the text a file would hold."""
        if form == "rsa-pkcs1":
            return _pem_text(self.rsa().private_bytes(PEM, TRADITIONAL, NO_ENCRYPTION))
        if form == "ec-sec1":
            return _pem_text(self.ec().private_bytes(PEM, TRADITIONAL, NO_ENCRYPTION))
        if form == "dsa":
            return _pem_text(self.dsa().private_bytes(PEM, TRADITIONAL, NO_ENCRYPTION))
        if form == "pkcs8-rsa":
            return _pem_text(self.rsa().private_bytes(PEM, PKCS8, NO_ENCRYPTION))
        if form == "pkcs8-ec":
            return _pem_text(self.ec().private_bytes(PEM, PKCS8, NO_ENCRYPTION))
        if form == "pkcs8-ed25519":
            return _pem_text(self.ed25519().private_bytes(PEM, PKCS8, NO_ENCRYPTION))
        if form == "pkcs8-encrypted":
            return self.encrypted_pkcs8(self.ec().private_bytes(DER, PKCS8, NO_ENCRYPTION))
        if form == "legacy-encrypted":
            return self.legacy_encrypted(self.rsa())
        if form == "openssh-ed25519":
            return self.openssh(self.ed25519())
        if form == "openssh-rsa":
            return self.openssh(self.rsa())
        if form == "openssh-encrypted":
            return self.openssh_encrypted(self.ed25519())
        if form in ("putty-v2", "putty-v3"):
            return self.putty(int(form[-1]), self.ed25519())
        if form == "putty-v3-encrypted":
            return self.putty_encrypted(self.ed25519())
        if form == "jwk-rsa":
            return json.dumps(self.private_jwk(self.rsa()), indent=2)
        if form == "jwk-ec":
            return json.dumps(self.private_jwk(self.ec()))
        if form == "jwk-okp":
            return json.dumps(self.private_jwk(self.ed25519()))
        raise ValueError(f"unknown private key form {form!r}")

    def encrypted_pkcs8(self, der: bytes) -> str:
        """PKCS#8 EncryptedPrivateKeyInfo: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC."""
        password = self.rng.randbytes(12).hex().encode()
        salt, iv, iterations = self.rng.randbytes(16), self.rng.randbytes(16), 2048
        key = PBKDF2HMAC(SHA256(), 32, salt, iterations).derive(password)
        body = _aes_cbc(key, iv, der)
        hmac_sha256 = _seq(_oid("1.2.840.113549.2.9"), b"\x05\x00")
        pbkdf2 = _seq(
            _oid("1.2.840.113549.1.5.12"),
            _seq(_octets(salt), _int(iterations), hmac_sha256),
        )
        aes = _seq(_oid("2.16.840.1.101.3.4.1.42"), _octets(iv))
        algorithm = _seq(_oid("1.2.840.113549.1.5.13"), _seq(pbkdf2, aes))
        return wrap_pem("ENCRYPTED PRIVATE KEY", _seq(algorithm, _octets(body)))

    def legacy_encrypted(self, key: rsa.RSAPrivateKey) -> str:
        """OpenSSL's pre-PKCS#8 encryption: Proc-Type/DEK-Info headers, AES-128-CBC."""
        der = key.private_bytes(DER, TRADITIONAL, NO_ENCRYPTION)
        password, iv = self.rng.randbytes(12).hex().encode(), self.rng.randbytes(16)
        aes_key = hashlib.md5(password + iv[:8]).digest()
        headers = f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{iv.hex().upper()}\n\n"
        return wrap_pem("RSA PRIVATE KEY", _aes_cbc(aes_key, iv, der), headers=headers, width=64)

    def openssh(self, key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
        """An unencrypted openssh-key-v1 container (PROTOCOL.key)."""
        public_blob, private_fields = _ssh_key_fields(key)
        check = self.rng.randbytes(4)
        section = check + check + private_fields + _ssh_string(b"sample@corpus")
        section += bytes(range(1, 1 + (-len(section) % 8)))
        body = (
            b"openssh-key-v1\0"
            + _ssh_string(b"none")
            + _ssh_string(b"none")
            + _ssh_string(b"")
            + struct.pack(">I", 1)
            + _ssh_string(public_blob)
            + _ssh_string(section)
        )
        return wrap_pem("OPENSSH PRIVATE KEY", body, width=70)

    def openssh_encrypted(self, key: ed25519.Ed25519PrivateKey) -> str:
        """An aes256-ctr/bcrypt openssh key; the encrypted section is RNG bytes of the right
        size (no password exists that opens it, which a scanner cannot tell)."""
        public_blob, private_fields = _ssh_key_fields(key)
        kdf = _ssh_string(self.rng.randbytes(16)) + struct.pack(">I", 16)
        size = 8 + len(private_fields) + 4 + len(b"sample@corpus")
        size += -size % 16
        body = (
            b"openssh-key-v1\0"
            + _ssh_string(b"aes256-ctr")
            + _ssh_string(b"bcrypt")
            + _ssh_string(kdf)
            + struct.pack(">I", 1)
            + _ssh_string(public_blob)
            + _ssh_string(self.rng.randbytes(size))
        )
        return wrap_pem("OPENSSH PRIVATE KEY", body, width=70)

    def putty(self, version: int, key: ed25519.Ed25519PrivateKey) -> str:
        """An unencrypted PuTTY .ppk with a correct Private-MAC."""
        public_blob, _ = _ssh_key_fields(key)
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, NO_ENCRYPTION
        )
        private_blob = _ssh_string(raw)
        comment = b"ed25519-key-corpus"
        mac_data = b"".join(
            _ssh_string(x) for x in (b"ssh-ed25519", b"none", comment, public_blob, private_blob)
        )
        if version == 2:
            mac_key = hashlib.sha1(b"putty-private-key-file-mac-key").digest()
            mac = hmac.new(mac_key, mac_data, hashlib.sha1).hexdigest()
        else:
            mac = hmac.new(b"", mac_data, hashlib.sha256).hexdigest()
        pub_lines, priv_lines = _b64_lines(public_blob), _b64_lines(private_blob)
        lines = [
            f"PuTTY-User-Key-File-{version}: ssh-ed25519",
            "Encryption: none",
            f"Comment: {comment.decode()}",
            f"Public-Lines: {len(pub_lines)}",
            *pub_lines,
            f"Private-Lines: {len(priv_lines)}",
            *priv_lines,
            f"Private-MAC: {mac}",
        ]
        return "\n".join(lines)

    def putty_encrypted(self, key: ed25519.Ed25519PrivateKey) -> str:
        """A PuTTY v3 key with aes256-cbc and Argon2id headers; the private blob is RNG bytes
        (a scanner sees only that it is encrypted)."""
        public_blob, _ = _ssh_key_fields(key)
        pub_lines = _b64_lines(public_blob)
        priv_lines = _b64_lines(self.rng.randbytes(48))
        lines = [
            "PuTTY-User-Key-File-3: ssh-ed25519",
            "Encryption: aes256-cbc",
            "Comment: ed25519-key-corpus",
            f"Public-Lines: {len(pub_lines)}",
            *pub_lines,
            "Key-Derivation: Argon2id",
            "Argon2-Memory: 8192",
            "Argon2-Passes: 13",
            "Argon2-Parallelism: 1",
            f"Argon2-Salt: {self.rng.randbytes(16).hex()}",
            f"Private-Lines: {len(priv_lines)}",
            *priv_lines,
            f"Private-MAC: {self.rng.randbytes(32).hex()}",
        ]
        return "\n".join(lines)

    def private_jwk(
        self, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ) -> dict[str, str]:
        kid = _b64u(self.rng.randbytes(6))
        if isinstance(key, rsa.RSAPrivateKey):
            n = key.private_numbers()
            return {
                "kty": "RSA",
                "kid": kid,
                "use": "sig",
                "n": _b64u_int(n.public_numbers.n),
                "e": _b64u_int(n.public_numbers.e),
                "d": _b64u_int(n.d),
                "p": _b64u_int(n.p),
                "q": _b64u_int(n.q),
                "dp": _b64u_int(n.dmp1),
                "dq": _b64u_int(n.dmq1),
                "qi": _b64u_int(n.iqmp),
            }
        if isinstance(key, ec.EllipticCurvePrivateKey):
            en = key.private_numbers()
            return {
                "kty": "EC",
                "kid": kid,
                "crv": "P-256",
                "x": _b64u_int(en.public_numbers.x, 32),
                "y": _b64u_int(en.public_numbers.y, 32),
                "d": _b64u_int(en.private_value, 32),
            }
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, NO_ENCRYPTION
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": _b64u(public), "d": _b64u(raw)}

    # -- public material (decoys) ----------------------------------------------------------

    def public(self, form: str) -> str:
        """Public material that must never be reported as a private key."""
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        if form == "spki-rsa":
            return _pem_text(self.rsa().public_key().public_bytes(PEM, spki))
        if form == "spki-ec":
            return _pem_text(self.ec().public_key().public_bytes(PEM, spki))
        if form == "pkcs1-public":
            fmt = serialization.PublicFormat.PKCS1
            return _pem_text(self.rsa().public_key().public_bytes(PEM, fmt))
        if form == "ssh-public":
            line = (
                self.ed25519()
                .public_key()
                .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            )
            return line.decode() + " deploy@ci"
        if form == "jwk-public":
            jwk = self.private_jwk(self.ec())
            return json.dumps({k: v for k, v in jwk.items() if k != "d"})
        if form == "jwks-public":
            keys = [self.private_jwk(self.rsa()), self.private_jwk(self.ec())]
            private = {"d", "p", "q", "dp", "dq", "qi"}
            public = [{k: v for k, v in jwk.items() if k not in private} for jwk in keys]
            return json.dumps({"keys": public}, indent=2)
        if form == "certificate":
            return self.certificate()
        if form == "csr":
            return self.csr()
        raise ValueError(f"unknown public form {form!r}")

    def certificate(self) -> str:
        """A self-signed certificate (Ed25519 signatures are deterministic)."""
        key = self.ed25519()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus.invalid")])
        start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(self.rng.getrandbits(120) | 1)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=365))
            .sign(key, None)
        )
        return _pem_text(cert.public_bytes(PEM))

    def csr(self) -> str:
        key = self.ed25519()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus.invalid")])
        request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, None)
        return _pem_text(request.public_bytes(PEM))


# -- text forms ------------------------------------------------------------------------------


def wrap_pem(label: str, der: bytes, *, headers: str = "", width: int = 64) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return f"-----BEGIN {label}-----\n{headers}" + "\n".join(lines) + f"\n-----END {label}-----"


def escaped(text: str) -> str:
    """A multi-line key as it sits in a string literal: newlines written as ``\\n``."""
    return text.replace("\n", "\\n")


def base64_text(text: str) -> str:
    return base64.b64encode((text + "\n").encode()).decode()


def truncated(text: str) -> str:
    """The first half of a key block, END line missing: a paste cut short, not a key."""
    lines = text.splitlines()
    return "\n".join(lines[: max(2, len(lines) // 2)])


def body_cut(text: str) -> str:
    """BEGIN and END intact but half the body gone: does not parse, so not a key."""
    lines = text.splitlines()
    inner = lines[1:-1]
    return "\n".join([lines[0], *inner[: len(inner) // 2], lines[-1]])


# -- helpers ---------------------------------------------------------------------------------


def _pem_text(data: bytes) -> str:
    return data.decode().rstrip("\n")


def _rsa_key(rng: random.Random, bits: int) -> rsa.RSAPrivateKey:
    e = 65537
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(e, phi) == 1 and (p * q).bit_length() == bits:
            break
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def _dsa_key(rng: random.Random) -> dsa.DSAPrivateKey:
    """DSA with a 1024-bit p and 160-bit q (the size of every ssh-dss key), parameters
    searched from the RNG."""
    q = _prime(rng, 160)
    while True:
        m = rng.getrandbits(1024 - 160) | (1 << (1024 - 160 - 1))
        m -= m % 2
        p = m * q + 1
        if p.bit_length() == 1024 and _probable_prime(p, rng):
            break
    h = 2
    while (g := pow(h, (p - 1) // q, p)) == 1:
        h += 1
    x = rng.randrange(1, q)
    params = dsa.DSAParameterNumbers(p, q, g)
    return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(pow(g, x, p), params)).private_key()


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if _probable_prime(candidate, rng):
            return candidate


def _probable_prime(n: int, rng: random.Random, rounds: int = 8) -> bool:
    if math.gcd(n, _SMALL_PRIMES_PRODUCT) != 1:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _ssh_key_fields(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> tuple[bytes, bytes]:
    """(public blob, private fields) of a key in the SSH wire format."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, NO_ENCRYPTION
        )
        blob = _ssh_string(b"ssh-ed25519") + _ssh_string(public)
        return blob, blob + _ssh_string(seed + public)
    n = key.private_numbers()
    e, modulus = n.public_numbers.e, n.public_numbers.n
    blob = _ssh_string(b"ssh-rsa") + _mpint(e) + _mpint(modulus)
    private = (
        _ssh_string(b"ssh-rsa")
        + _mpint(modulus)
        + _mpint(e)
        + _mpint(n.d)
        + _mpint(n.iqmp)
        + _mpint(n.p)
        + _mpint(n.q)
    )
    return blob, private


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return _ssh_string(raw)


def _aes_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _octets(data: bytes) -> bytes:
    return _der(0x04, data)


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def _oid(dotted: str) -> bytes:
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, out)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64u_int(value: int, length: int | None = None) -> str:
    return _b64u(value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big"))


def _b64_lines(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode()
    return [text[i : i + 64] for i in range(0, len(text), 64)]
