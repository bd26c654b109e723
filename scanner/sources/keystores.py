"""Keystores: PKCS#12 (.p12/.pfx) and Java keystores (JKS, JCEKS), turned into key cards.

A key card is a small text that the engine's ordinary, data-defined rules read: the private key
as PEM (PKCS#8 when the keystore opens with an empty or guessable password, the encrypted PKCS#8
structure as stored when it stays locked) followed by one line of facts::

    -----BEGIN PRIVATE KEY-----
    ...
    -----END PRIVATE KEY-----
    leakstop-keystore: pkcs12; entry=1; protection=empty-password

``patterns/keystores.toml`` matches exactly that shape (rules ``private-key-pkcs12`` and
``private-key-java-keystore``), so a keystore finding goes through the same key parser
(``keys.inspect_key``: type, ``encrypted``, RFC 7638 thumbprint, hence a location-independent
fingerprint), filters, baselines, rulesets and reports as any other, and ``--show-secrets`` and
verification get a usable key. No password is ever written: only whether it was empty or
guessable. Trying passwords on PKCS#12 is ``keys.inspect_pkcs12``'s job, bounded by the
key-derivation work the file asks for; JKS key protection is a cheap SHA-1 keystream.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

# The keys module's list of trivial passwords, plus Google's fixed password for the .p12 keys
# of legacy service accounts (an OAuth credential this tool exists to find).
EXTRA_PASSWORDS: tuple[bytes, ...] = (b"notasecret",)
JAVA_KEYSTORE_MAGIC = (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce")


def passwords() -> tuple[bytes, ...]:
    """The guessable passwords tried on a keystore."""
    from scanner import keys

    return (*keys.TRIVIAL_PASSWORDS, *EXTRA_PASSWORDS)


MAX_ENTRIES = 10_000
MAX_JKS_KEY_BYTES = 64 << 10
"""A protected JKS key larger than this is no real key; it is not worth a password try."""

OID_DATA = bytes.fromhex("2a864886f70d010701")
OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
OID_ENCRYPTED_DATA = bytes.fromhex("2a864886f70d010706")
OID_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0101")
OID_SHROUDED_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0102")
OID_SAFE_CONTENTS_BAG = bytes.fromhex("2a864886f70d010c0a0106")
OID_FRIENDLY_NAME = bytes.fromhex("2a864886f70d010914")
OID_JKS_KEY_PROTECTOR = bytes.fromhex("2b060104012a02110101")


@dataclass(frozen=True)
class KeyCard:
    """The text form of one keystore entry, and a one-line note on where it came from."""

    text: bytes
    note: str


def cards(fmt: str, data: bytes) -> tuple[list[KeyCard], list[str]]:
    """Key cards of a keystore, and what could not be read (for ``summary.skipped``).
    Raises ValueError when the bytes are not a keystore after all."""
    if fmt == "pkcs12":
        return pkcs12_cards(data)
    return java_keystore_cards(data)


def is_pkcs12(data: bytes) -> bool:
    """PFX structure: SEQUENCE { INTEGER 3, ContentInfo { data | signedData, ... }, ... }."""
    if data[:2] == b"\x30\x80":  # BER, indefinite length: check the version and content type
        lead = data[:40]
        return data[2:5] == b"\x02\x01\x03" and (OID_DATA in lead or OID_SIGNED_DATA in lead)
    try:
        _, start, end = _expect(data, 0, len(data), 0x30)
        _, v_start, v_end = _expect(data, start, end, 0x02)
        if data[v_start:v_end] != b"\x03":
            return False
        _, ci_start, ci_end = _expect(data, v_end, end, 0x30)
        _, oid_start, oid_end = _expect(data, ci_start, ci_end, 0x06)
    except ValueError:
        return False
    return data[oid_start:oid_end] in (OID_DATA, OID_SIGNED_DATA)


def java_keystore_type(data: bytes) -> str | None:
    """``jks`` or ``jceks`` for a Java keystore (magic number and a known version)."""
    # Every blob is sniffed: look at the magic before loading the key parser (cryptography).
    if len(data) < 12 or data[:4] not in JAVA_KEYSTORE_MAGIC:
        return None
    from scanner import keys

    return keys.is_java_keystore(data)


def pkcs12_cards(data: bytes) -> tuple[list[KeyCard], list[str]]:
    """Open with an empty or guessable password if one fits (``keys.inspect_pkcs12`` bounds
    the key-derivation work first); otherwise show the key bags that are visible without a
    password: shrouded ones as stored (encrypted), plain ones as they are."""
    from scanner import keys

    opened = keys.inspect_pkcs12(data, passwords())
    try:
        view = _read_pfx(data)
    except ValueError:
        view = None
    problems: list[str] = []
    if opened.opened:
        protection = f"{opened.password_kind}-password"  # "empty" or "guessable", never which
        aliases = [bag.alias for bag in view.bags] if view else []
        result = [
            _card("pkcs12", n, protection, _pkcs8_pem(key), _nth(aliases, n))
            for n, key in enumerate(opened.key_objects, start=1)
        ]
        if view and len(view.bags) > len(result):
            problems.append(
                f"PKCS#12 keystore holds {len(view.bags)} keys; only {len(result)} reported"
            )
        return result, problems
    if view is None:
        return [], ["PKCS#12 keystore in a layout leakstop cannot read without its password"]
    result = []
    for n, bag in enumerate(view.bags, start=1):
        label = "ENCRYPTED PRIVATE KEY" if bag.encrypted else "PRIVATE KEY"
        protection = "password" if bag.encrypted else "none"
        result.append(_card("pkcs12", n, protection, _pem(label, bag.der), bag.alias))
    if not result:
        problems.append(
            "PKCS#12 keystore not opened (its password is neither empty nor guessable, or "
            "its key derivation is too costly to try); its encrypted contents, which may hold "
            "private keys, were not read"
        )
    return result, problems


def java_keystore_cards(data: bytes) -> tuple[list[KeyCard], list[str]]:
    """Private-key entries of a JKS or JCEKS keystore. JKS key protection is opened when the
    password is empty or guessable; JCEKS keys are reported as stored (encrypted)."""
    kind = java_keystore_type(data)
    if kind is None:
        raise ValueError("not a Java keystore")
    reader = _Reader(data)
    reader.take(8)
    version = struct.unpack(">I", data[4:8])[0]
    count = reader.u4()
    result: list[KeyCard] = []
    problems: list[str] = []
    try:
        for n in range(1, min(count, MAX_ENTRIES) + 1):
            tag = reader.u4()
            alias = reader.utf()
            reader.take(8)  # creation time
            if tag == 1:
                protected = reader.take(reader.u4())
                for _ in range(reader.u4()):  # certificate chain
                    if version == 2:
                        reader.utf()
                    reader.take(reader.u4())
                result.append(_java_card(kind, n, alias, protected))
            elif tag == 2:
                if version == 2:
                    reader.utf()
                reader.take(reader.u4())
            else:
                what = "secret-key entry (a sealed Java object)" if tag == 3 else "unknown entry"
                problems.append(
                    f"{kind.upper()} {what} {_safe_alias(alias)!r} not opened; later entries "
                    "were not read"
                )
                break
    except ValueError:
        problems.append(f"{kind.upper()} keystore ends early (truncated); later entries not read")
    if count > MAX_ENTRIES:
        problems.append(f"{kind.upper()} keystore lists {count} entries; only {MAX_ENTRIES} read")
    return result, problems


@dataclass(frozen=True)
class _Bag:
    der: bytes
    encrypted: bool
    alias: str | None


@dataclass(frozen=True)
class _PfxView:
    bags: tuple[_Bag, ...]
    encrypted_safes: int


def _read_pfx(data: bytes) -> _PfxView:
    """The key bags visible without a password, and how many safes are encrypted."""
    _, start, end = _expect(data, 0, len(data), 0x30)
    _, _, pos = _expect(data, start, end, 0x02)
    _, ci_start, ci_end = _expect(data, pos, end, 0x30)
    _, oid_s, oid_e = _expect(data, ci_start, ci_end, 0x06)
    if data[oid_s:oid_e] != OID_DATA:
        raise ValueError("PKCS#12 with public-key integrity mode")
    _, x_s, x_e = _expect(data, oid_e, ci_end, 0xA0)
    _, os_s, os_e = _expect(data, x_s, x_e, 0x04)
    bags: list[_Bag] = []
    encrypted = 0
    _, as_s, as_e = _expect(data, os_s, os_e, 0x30)
    for tag, s, e in _items(data, as_s, as_e):
        if tag != 0x30:
            continue
        _, o_s, o_e = _expect(data, s, e, 0x06)
        content_type = data[o_s:o_e]
        if content_type == OID_DATA:
            _, c_s, c_e = _expect(data, o_e, e, 0xA0)
            _, sc_s, sc_e = _expect(data, c_s, c_e, 0x04)
            _safe_contents(data, sc_s, sc_e, bags, 0)
        else:
            encrypted += 1
    return _PfxView(tuple(bags), encrypted)


def _safe_contents(data: bytes, start: int, end: int, bags: list[_Bag], depth: int) -> None:
    if depth > 4:
        raise ValueError("safe contents nested too deep")
    _, s_s, s_e = _expect(data, start, end, 0x30)
    for tag, s, e in _items(data, s_s, s_e):
        if tag != 0x30:
            continue
        _, o_s, o_e = _expect(data, s, e, 0x06)
        bag_id = data[o_s:o_e]
        _, v_s, v_e = _expect(data, o_e, e, 0xA0)
        alias = _friendly_name(data, v_e, e)
        if bag_id in (OID_KEY_BAG, OID_SHROUDED_KEY_BAG):
            der = data[v_s : _expect(data, v_s, v_e, 0x30)[2]]
            bags.append(_Bag(der=der, encrypted=bag_id == OID_SHROUDED_KEY_BAG, alias=alias))
        elif bag_id == OID_SAFE_CONTENTS_BAG:
            _safe_contents(data, v_s, v_e, bags, depth + 1)


def _friendly_name(data: bytes, start: int, end: int) -> str | None:
    if start >= end:
        return None
    try:
        _, a_s, a_e = _expect(data, start, end, 0x31)
        for tag, s, e in _items(data, a_s, a_e):
            if tag != 0x30:
                continue
            _, o_s, o_e = _expect(data, s, e, 0x06)
            if data[o_s:o_e] != OID_FRIENDLY_NAME:
                continue
            _, v_s, v_e = _expect(data, o_e, e, 0x31)
            _, n_s, n_e = _expect(data, v_s, v_e, 0x1E)
            return data[n_s:n_e].decode("utf-16-be", "replace")
    except ValueError:
        return None
    return None


def _pkcs8_pem(key: PrivateKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _java_card(kind: str, n: int, alias: str, protected: bytes) -> KeyCard:
    opened = _open_jks_key(protected) if kind == "jks" else None
    if opened is not None:
        protection, plain = opened
        return _card(kind, n, protection, _pem("PRIVATE KEY", plain), alias)
    return _card(kind, n, "password", _pem("ENCRYPTED PRIVATE KEY", protected), alias)


def _open_jks_key(protected: bytes) -> tuple[str, bytes] | None:
    """Sun's JKS key protection (a SHA-1 keystream and check digest) under an empty or
    guessable password; returns (protection, PKCS#8 DER) when one fits."""
    try:
        _, s, e = _expect(protected, 0, len(protected), 0x30)
        _, a_s, a_e = _expect(protected, s, e, 0x30)
        _, o_s, o_e = _expect(protected, a_s, a_e, 0x06)
        _, c_s, c_e = _expect(protected, a_e, e, 0x04)
    except ValueError:
        return None
    if protected[o_s:o_e] != OID_JKS_KEY_PROTECTOR or not 41 <= c_e - c_s <= MAX_JKS_KEY_BYTES:
        return None
    blob = protected[c_s:c_e]
    salt, body, check = blob[:20], blob[20:-20], blob[-20:]
    for password in passwords():
        protection = "guessable-password" if password else "empty-password"
        secret = password.decode("latin-1").encode("utf-16-be")
        stream = bytearray()
        digest = salt
        while len(stream) < len(body):
            digest = hashlib.sha1(secret + digest).digest()  # the JKS format
            stream += digest
        mask = int.from_bytes(stream[: len(body)], "big")
        plain = (int.from_bytes(body, "big") ^ mask).to_bytes(len(body), "big")
        if hashlib.sha1(secret + plain).digest() == check:
            return protection, plain
    return None


def _card(kind: str, n: int, protection: str, pem: bytes, alias: str | None) -> KeyCard:
    facts = f"leakstop-keystore: {kind}; entry={n}; protection={protection}"
    if alias:
        facts += f"; alias={_safe_alias(alias)}"
    how = {
        "empty-password": "opens with an empty password",
        "guessable-password": "opens with a guessable password",
        "none": "stored unencrypted",
        "password": "encrypted with a password that is neither empty nor guessable",
    }[protection]
    label = {"pkcs12": "a PKCS#12", "jks": "a JKS", "jceks": "a JCEKS"}[kind]
    return KeyCard(
        text=pem.rstrip(b"\n") + b"\n" + facts.encode() + b"\n",
        note=f"private key from {label} keystore (entry {n}, {how})",
    )


def _nth(aliases: list[str | None], n: int) -> str | None:
    return aliases[n - 1] if len(aliases) >= n else None


def _safe_alias(alias: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+ -]", "_", alias)[:64].strip() or "_"


def _pem(label: str, der: bytes) -> bytes:
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    return b"\n".join([begin, *lines, end])


class _Reader:
    """Big-endian fields of a Java keystore, with bounds checks (ValueError when short)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u4(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n).decode("utf-8", "replace")


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``; ValueError if it does
    not fit within ``end``."""
    if pos + 2 > end:
        raise ValueError("truncated DER")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("unsupported DER tag")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int, int]:
    found = _tlv(data, pos, end)
    if found[0] != tag:
        raise ValueError("unexpected DER tag")
    return found


def _items(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos, end)
        yield tag, s, e
        pos = e
