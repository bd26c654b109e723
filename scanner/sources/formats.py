"""Recognise containers by their bytes; the name is only a hint (and, when bytes and name
disagree, the reason for a warning). Cheap enough to run on every blob: a few byte
comparisons, and a structural check only where a magic number matched."""

from __future__ import annotations

import struct

from scanner.sources.strings import SNIFF_BYTES

ZIP_SUFFIXES = (
    ".zip", ".jar", ".war", ".ear", ".aar", ".apk", ".apks", ".aab", ".ipa", ".whl", ".egg",
    ".nupkg", ".snupkg", ".vsix", ".xpi", ".appx", ".msix", ".crx",
)  # fmt: skip
NAME_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (ZIP_SUFFIXES, "zip"),
    ((".tar.gz", ".tgz", ".gz"), "gzip"),
    ((".tar.bz2", ".tbz2", ".tbz", ".bz2"), "bzip2"),
    ((".tar.xz", ".txz", ".xz"), "xz"),
    ((".tar",), "tar"),
    ((".p12", ".pfx"), "pkcs12"),
    ((".jks",), "jks"),
    ((".jceks",), "jceks"),
)
DESCRIPTIONS = {
    "zip": "zip archive",
    "tar": "tar archive",
    "gzip": "gzip stream",
    "bzip2": "bzip2 stream",
    "xz": "xz stream",
    "zstd": "zstd stream",
    "7z": "7z archive",
    "rar": "RAR archive",
    "pkcs12": "PKCS#12 keystore",
    "jks": "Java keystore (JKS)",
    "jceks": "Java keystore (JCEKS)",
    "sourcemap": "source map",
}
_BZIP2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # first block, or the end of an empty stream
INLINE_SOURCE_MAP = b"sourceMappingURL=data:"
"""Marks a source map inlined in a bundle as a data: URL (``sourcemaps`` reads it)."""
_EOCD = b"PK\x05\x06"
_EOCD_REACH = 22 + 0xFFFF


def sniff(data: bytes, name: str = "") -> str | None:
    """The container format of ``data`` (a key of DESCRIPTIONS), or None for plain content."""
    head = data[:12]
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit() and head[4:10] in _BZIP2_BLOCKS:
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    from scanner.sources import keystores  # not needed by `plain`, the common case

    java = keystores.java_keystore_type(data)
    if java:
        return java
    if is_tar(data, name):
        return "tar"
    if head[:1] == b"\x30" and keystores.is_pkcs12(data):
        return "pkcs12"
    lower = name.lower()
    if lower.endswith(".map") and data.lstrip()[:1] in (b"{", b")"):
        return "sourcemap"
    if zip_prefix_length(data) is not None:
        return "zip"  # a zip with something in front: self-extracting, launcher script, crx
    return None


# The first byte of every format `sniff` knows by a magic number: zip, gzip, bzip2, xz, zstd,
# 7z, RAR, JKS, JCEKS and PKCS#12 (DER).
_MAGIC_FIRST_BYTES = frozenset(b"P\x1fB\xfd(7R\xfe\xce0")
_HINTED_SUFFIXES = (*(s for suffixes, _ in NAME_HINTS for s in suffixes), ".map")


def plain(data: bytes, name: str = "") -> bool:
    """True when ``sniff`` would say None, ``expected_format`` would say None and the content
    is text (no NUL byte in the places sniffing looks): decided with a few byte tests, so the
    common case, a source file, skips the full sniff. False means "look closer", not
    "container"."""
    # An empty file is plain (nothing in it to sniff) unless its name promises a container.
    if (data and data[0] in _MAGIC_FIRST_BYTES) or data[257:262] == b"ustar":
        return False
    # Where the sniff looks for NUL bytes: the head (binary content) and the zip tail. Bounds,
    # not slices: a slice would copy the bytes first.
    if data.find(b"\x00", 0, SNIFF_BYTES) >= 0:
        return False
    if data.find(b"\x00", max(SNIFF_BYTES, len(data) - _EOCD_REACH)) >= 0:
        return False
    return not name.lower().endswith(_HINTED_SUFFIXES)


def last_segment(path: str | None) -> str:
    """The innermost name of an archive member chain (``outer.zip!inner.jar!a/b.py`` gives
    ``a/b.py``): the name its format hints come from."""
    return (path or "").rsplit("!", 1)[-1]


def expected_format(name: str) -> str | None:
    """The format a file name promises, for warnings when the bytes say otherwise."""
    lower = name.lower().rsplit("/", 1)[-1]
    if "." not in lower:
        return None
    for suffixes, fmt in NAME_HINTS:
        if lower.endswith(suffixes):
            return fmt
    return None


def is_tar(data: bytes, name: str = "") -> bool:
    """A valid tar header at offset 0: the checksum must match, and the ustar magic must be
    present unless the name says tar (old v7 archives have none)."""
    if len(data) < 512 or (data[257:262] != b"ustar" and not name.lower().endswith(".tar")):
        return False
    return is_tar_header(data[:512], hinted=True)


def is_tar_header(block: bytes, *, hinted: bool = False) -> bool:
    if len(block) < 512 or not block[:100].strip(b"\0"):
        return False
    if block[257:262] != b"ustar" and not hinted:
        return False
    field = block[148:156].replace(b"\0", b" ").strip()
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == unsigned


def zip_prefix_length(data: bytes) -> int | None:
    """For a zip with bytes in front of its first member (found from the end of central
    directory record), how many; None when there is no plausible end record."""
    tail_start = max(0, len(data) - _EOCD_REACH)
    # Every blob is sniffed and most are text: a central directory always holds NUL bytes,
    # and memchr for one is far cheaper than searching for the record.
    if data.find(b"\x00", tail_start) < 0:
        return None
    pos = data.rfind(_EOCD, tail_start)
    if pos < 0 or len(data) - pos < 22:
        return None
    cd_size, cd_offset = struct.unpack_from("<II", data, pos + 12)
    if cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        return 0 if data[:4] == b"PK\x03\x04" else None  # zip64: left to the reader
    cd_start = pos - cd_size
    if cd_start < 0 or cd_start < cd_offset:
        return None
    if cd_size and data[cd_start : cd_start + 4] != b"PK\x01\x02":
        return None
    return int(cd_start - cd_offset)
